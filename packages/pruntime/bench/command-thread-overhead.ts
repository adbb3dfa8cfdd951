/**
 * The cost of the command thread per call, in process: a contract that reads `reads` keys,
 * called on this thread (`call`) and on the command thread (`execute`, storage read back from
 * this thread once per key), 2,000 calls a round; round 0 warms up.
 *   node --import tsx packages/pruntime/bench/command-thread-overhead.ts
 * prints one line per round: { reads, inThreadUsPerCall, threadedUsPerCall, overheadUs }.
 */
import { blake2b256, utf8 } from "@phala-ts/primitives";
import { createThreadedVmRunner } from "../src/threaded-runner.ts";
import { ContractStorage } from "../src/contract-storage.ts";
import type { ContractCall } from "../src/contract-runner.ts";
const code = utf8(`var __contract = (() => { const h = globalThis.__phala_host; return { default: { handle(cmd) { let s = 0; for (let i = 0; i < cmd.reads; i++) { const v = h.storageGet("k" + i); s += v === undefined ? 0 : v.length; } return s; } } }; })();`);
const codeHash = blake2b256(code);
const storage = new ContractStorage(Array.from({ length: 100 }, (_, i) => ({ key: "k" + i, value: "v".repeat(50) })));
const r = await createThreadedVmRunner();
const mk = (reads: number): ContractCall => ({ code, codeHash, mode: "handle", input: JSON.stringify({ reads }), origin: { kind: "account", id: "0x" + "00".repeat(32) }, env: { blockNumber: 1, timestamp: 0, contractId: "0x" + "11".repeat(32), caller: null }, seed: new Uint8Array(32), gasLimit: 10_000_000n, storage });
for (const reads of [0, 10]) {
  for (let round = 0; round < 4; round++) {
    const n = 2000;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) r.call(mk(reads));
    const inThread = ((performance.now() - t0) * 1000) / n;
    t0 = performance.now();
    for (let i = 0; i < n; i++) await r.execute(mk(reads));
    const threaded = ((performance.now() - t0) * 1000) / n;
    if (round > 0) console.log(JSON.stringify({ reads, inThreadUsPerCall: Math.round(inThread), threadedUsPerCall: Math.round(threaded), overheadUs: Math.round(threaded - inThread) }));
  }
}
await r.close();
