/**
 * How fast adversarial and heavy commands burn gas, to size the chain's CommandGasMax:
 *   node --import tsx packages/pruntime/bench/command-gas.ts [gasLimit]
 * runs each workload once at `gasLimit` (default 1e9) in a warm ContractVm, ROUNDS times,
 * and prints JSON with the best and worst wall milliseconds, gas used and gas per second.
 * The workloads: the infinite-loop example's three loops, the catastrophic regex example,
 * a storage-heavy loop (host calls writing and reading ~100-byte values until out of gas), a loop
 * allocating small objects and an async loop awaiting forever (each await a promise job).
 * A command at the cap must end within about a second on the reference machine: the
 * slowest gas per second here bounds CommandGasMax.
 * Last, `builtinOverBigString`: 100 iterations of `s.indexOf` over a 2 MiB string, not limited
 * by gas (a gas-limited run would take hours): the gas and wall time of one iteration show
 * how little of a builtin's work the meter sees.
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { blake2b256, utf8 } from "@phala-ts/primitives";
import { buildContract } from "@phala-ts/contract/build";
import { ContractVm, MemoryContractStorage, type CallRequest } from "../src/contract-vm/index.ts";

const ROUNDS = 5;
const ALICE = "0x" + "aa".repeat(32);
const example = (p: string) => fileURLToPath(new URL(`../../contract/examples/${p}`, import.meta.url));

const STORAGE_LOOP = `"use strict";var __contract=(()=>({default:{handle(c){const h=__phala_host;for(let i=0;;i++){const k="item/"+(i%500);const v=h.storageGet(k);h.storageSet(k,JSON.stringify({n:i,pad:"x".repeat(80)}));}}}}))();`;
const AWAIT_LOOP = `"use strict";var __contract=(()=>({default:{async handle(c){for(let i=0;;i++){await i;}}}}))();`;
const ALLOC_LOOP = `"use strict";var __contract=(()=>({default:{handle(c){let a=[];for(let i=0;;i++){a.push({i:i,s:"y"+i});if(a.length>1000)a=[];}}}}))();`;

function request(code: Uint8Array, input: unknown, gasLimit: bigint): CallRequest {
  return {
    code,
    codeHash: blake2b256(code),
    mode: "handle",
    input: JSON.stringify(input),
    origin: { kind: "account", id: ALICE },
    env: { blockNumber: 1, timestamp: 1_700_000_000_000, contractId: "0x" + "cc".repeat(32), caller: ALICE },
    seed: new Uint8Array(32),
    gasLimit,
    storage: new MemoryContractStorage(),
  };
}

const gasLimit = BigInt(process.argv[2] ?? "1000000000");
const vm = await ContractVm.create();
const loop = (await buildContract(example("adversarial/infinite-loop.ts"))).code;
const regex = (await buildContract(example("adversarial/catastrophic-regex.ts"))).code;
const workloads: Record<string, CallRequest> = {
  loop: request(loop, { op: "loop" }, gasLimit),
  loopCatching: request(loop, { op: "loopCatching" }, gasLimit),
  jobLoop: request(loop, { op: "jobLoop" }, gasLimit),
  regex: request(regex, { op: "match", n: 40 }, gasLimit),
  storageLoop: request(utf8(STORAGE_LOOP), {}, gasLimit),
  allocLoop: request(utf8(ALLOC_LOOP), {}, gasLimit),
  awaitLoop: request(utf8(AWAIT_LOOP), {}, gasLimit),
};
const out: Record<string, unknown> = { gasLimit: gasLimit.toString() };
for (const [name, req] of Object.entries(workloads)) {
  const ms: number[] = [];
  let outcome = "";
  let gasUsed = 0n;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const o = vm.call({ ...req, storage: new MemoryContractStorage() });
    ms.push(performance.now() - t0);
    outcome = o.ok ? "ok" : o.error.kind;
    gasUsed = o.gasUsed;
  }
  const best = Math.min(...ms);
  const worst = Math.max(...ms);
  out[name] = { outcome, gasUsed: gasUsed.toString(), bestMs: Math.round(best), worstMs: Math.round(worst), gasPerSecWorst: Math.round(Number(gasUsed) / (worst / 1000)) };
}
const BUILTIN_ITERATIONS = 100;
const builtin = utf8(`var __contract={default:{handle(c){const s="ab".repeat(1<<20);for(let i=0;i<c.n;i++){s.indexOf("c");}}}};`);
const runBuiltin = (n: number) => {
  const t0 = performance.now();
  const o = vm.call({ ...request(builtin, { n }, 10n ** 12n), origin: null });
  return { ms: performance.now() - t0, gas: o.gasUsed };
};
const base = runBuiltin(0);
const loaded = runBuiltin(BUILTIN_ITERATIONS);
out.builtinOverBigString = {
  msPerIteration: Number(((loaded.ms - base.ms) / BUILTIN_ITERATIONS).toFixed(2)),
  gasPerIteration: Number(loaded.gas - base.gas) / BUILTIN_ITERATIONS,
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
