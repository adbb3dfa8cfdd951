/**
 * What builtin metering (prelude.ts BUILTIN_METER_SOURCE) costs ordinary contracts:
 *   node --import tsx packages/pruntime/bench/example-overhead.ts [calls]
 * runs the token and notes examples warm and prints, per operation, the gas of one call and
 * the best of ROUNDS average microseconds per call. Compare against a build with the metering
 * left out of the prelude to see its overhead.
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { blake2b256 } from "@phala-ts/primitives";
import { buildContract } from "@phala-ts/contract/build";
import { ContractVm, MemoryContractStorage, type CallMode, type CallRequest, type ContractStorage } from "../src/contract-vm/index.ts";

const ROUNDS = 5;
const ALICE = "0x" + "aa".repeat(32);
const BOB = "0x" + "bb".repeat(32);
const calls = Number(process.argv[2] ?? "1000");
const example = (p: string) => fileURLToPath(new URL(`../../contract/examples/${p}`, import.meta.url));

function request(code: Uint8Array, mode: CallMode, input: unknown, storage: ContractStorage, origin: string | null = ALICE): CallRequest {
  return {
    code, codeHash: blake2b256(code), mode, input: JSON.stringify(input),
    origin: origin === null ? null : { kind: "account", id: origin },
    env: { blockNumber: 1, timestamp: 1_700_000_000_000, contractId: "0x" + "cc".repeat(32), caller: origin },
    seed: new Uint8Array(32), gasLimit: 50_000_000n, storage,
  };
}

const vm = await ContractVm.create();
const token = (await buildContract(example("token.ts"))).code;
const notes = (await buildContract(example("notes.ts"))).code;
const tokenStorage = new MemoryContractStorage();
const notesStorage = new MemoryContractStorage();
const must = (req: CallRequest) => {
  const o = vm.call(req);
  if (!o.ok) throw new Error(`${req.mode} ${req.input}: ${o.error.kind} ${o.error.message}`);
  return o.gasUsed;
};
must(request(token, "init", { owner: ALICE, supply: "1000000000000" }, tokenStorage, null));
must(request(notes, "init", {}, notesStorage, null));
for (let i = 0; i < 20; i++) must(request(notes, "handle", { op: "add", text: `note number ${i} with some text in it` }, notesStorage));

const ops: Record<string, CallRequest> = {
  tokenTransfer: request(token, "handle", { op: "transfer", to: BOB, amount: "1" }, tokenStorage),
  tokenBalance: request(token, "query", { op: "balance" }, tokenStorage),
  notesList20: request(notes, "query", { op: "list" }, notesStorage),
};
const out: Record<string, unknown> = {};
for (const [name, req] of Object.entries(ops)) {
  const gas = must(req);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) must(req);
    best = Math.min(best, ((performance.now() - t0) * 1000) / calls);
  }
  out[name] = { gas: gas.toString(), usPerCallBest: Number(best.toFixed(1)) };
}
process.stdout.write(JSON.stringify(out) + "\n");
