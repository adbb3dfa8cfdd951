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
 * Then `builtin:*`: loops calling one builtin over a big input (2 MiB strings, 256 Ki-element
 * arrays) until out of gas, one per class the prelude meters (contract-vm/prelude.ts
 * BUILTIN_GAS). Before that metering a loop of `s.indexOf` over 2 MiB was charged ~150 gas
 * per ~20 ms iteration and would have run for hours at the cap.
 * Last, `builtinOverBigString`: the gas and wall time of one such `s.indexOf` iteration.
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
const MiB = 1 << 20;
/** [setup, one call] looped until out of gas. */
const BUILTIN_LOOPS: Record<string, [string, string]> = {
  indexOf: [`const s="ab".repeat(${MiB});`, `s.indexOf("c")`],
  indexOfLongNeedle: [`const s="a".repeat(${2 * MiB});const x="a".repeat(1000)+"b";`, `s.indexOf(x)`],
  split: [`const s="ab".repeat(${MiB / 4});`, `s.split("b")`],
  replaceAll: [`const s="ab".repeat(${MiB / 4});`, `s.replaceAll("b","c")`],
  normalize: [`const s="ab".repeat(${MiB / 2});`, `s.normalize("NFD")`],
  toUpperCase: [`const s="ab".repeat(${MiB / 2});`, `s.toUpperCase()`],
  padEnd: [`const s="";`, `s.padEnd(${2 * MiB})`],
  localeCompare: [`const s="ab".repeat(${MiB / 2});const t=s+"c";`, `s.localeCompare(t)`],
  arrayJoin: [`const a=new Array(${MiB / 4}).fill("x");`, `a.join(",")`],
  arraySlice: [`const a=new Array(${MiB / 4}).fill(1);`, `a.slice()`],
  arraySort: [`const a=[];for(let i=0;i<${MiB / 16};i++)a.push((i*7919)%65536);`, `a.slice().sort()`],
  arraySparseIndexOf: [`const a=[];a.length=${64 * MiB};`, `a.indexOf(1)`],
  typedSort: [`const a=new Uint16Array(${MiB / 4});for(let i=0;i<a.length;i++)a[i]=(i*7919)&65535;`, `a.slice().sort()`],
  jsonStringify: [`const a=new Array(${MiB / 16}).fill("xxxxxxxx");`, `JSON.stringify(a)`],
  jsonParse: [`const t=JSON.stringify(new Array(${MiB / 16}).fill("xxxxxxxx"));`, `JSON.parse(t)`],
  objectKeys: [`const o={};for(let i=0;i<${MiB / 16};i++)o["k"+i]=i;`, `Object.keys(o)`],
  applyMax: [`const a=new Array(65000).fill(1);`, `Math.max.apply(null,a)`],
  regexTest: [`const s="ab".repeat(${MiB});`, `/c/.test(s)`],
};
const builtinLoop = ([setup, call]: [string, string]) => utf8(`var __contract={default:{handle(c){${setup}for(;;){${call};}}}};`);
const workloads: Record<string, CallRequest> = {
  loop: request(loop, { op: "loop" }, gasLimit),
  loopCatching: request(loop, { op: "loopCatching" }, gasLimit),
  jobLoop: request(loop, { op: "jobLoop" }, gasLimit),
  regex: request(regex, { op: "match", n: 40 }, gasLimit),
  storageLoop: request(utf8(STORAGE_LOOP), {}, gasLimit),
  allocLoop: request(utf8(ALLOC_LOOP), {}, gasLimit),
  awaitLoop: request(utf8(AWAIT_LOOP), {}, gasLimit),
  ...Object.fromEntries(Object.entries(BUILTIN_LOOPS).map(([name, w]) => [`builtin:${name}`, request(builtinLoop(w), {}, gasLimit)])),
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
const BUILTIN_ITERATIONS = 10;
const builtin = utf8(`var __contract={default:{handle(c){const s="ab".repeat(1<<20);for(let i=0;i<c.n;i++){s.indexOf("c");}}}};`);
const runBuiltin = (n: number) => {
  const t0 = performance.now();
  const o = vm.call({ ...request(builtin, { n }, 10n ** 12n), origin: null });
  return { ms: performance.now() - t0, gas: o.gasUsed };
};
const base = runBuiltin(0);
const loaded = runBuiltin(BUILTIN_ITERATIONS);
let worst = { name: "", ms: 0 };
for (const [name, v] of Object.entries(out)) {
  if (typeof v === "object" && v !== null && (v as { worstMs: number }).worstMs > worst.ms) worst = { name, ms: (v as { worstMs: number }).worstMs };
}
out.worstCommand = worst;
out.builtinOverBigString = {
  msPerIteration: Number(((loaded.ms - base.ms) / BUILTIN_ITERATIONS).toFixed(2)),
  gasPerIteration: Number(loaded.gas - base.gas) / BUILTIN_ITERATIONS,
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
