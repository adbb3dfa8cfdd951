/**
 * Measures random point reads (`TrieStore.get`) on a state of 100,000 keys (32-byte keys,
 * 40-byte values, so every value is a separate value node), on LMDB and in memory: a first pass
 * (cold, nodes come from the database) and a second pass over the same keys (warm). Prints timings only.
 *   node --import tsx packages/trie/bench/read.bench.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { open } from "lmdb";
import { rng } from "./rng.ts";
import { EMPTY_TRIE_ROOT, MemoryNodeDb, TrieStore, type NodeDb } from "../src/index.ts";


const BASE_KEYS = 100_000;
const READS = 100_000;

function run(label: string, db: NodeDb, txn: <T>(f: () => T) => T): void {
  const store = new TrieStore({ db, pruningDepthBlocks: 256 });
  const rand = rng(0x5eed);
  const keys: Uint8Array[] = [];
  const base = store.batch(EMPTY_TRIE_ROOT);
  for (let i = 0; i < BASE_KEYS; i++) {
    const k = rand(32);
    keys.push(k);
    base.set(k, rand(40));
  }
  const { root } = txn(() => base.commit(0));
  const pick = rng(0xbeef);
  const order = Array.from({ length: READS }, () => {
    const b = pick(4);
    return keys[(b[0] | (b[1] << 8) | (b[2] << 16)) % BASE_KEYS];
  });
  const passes: string[] = [];
  for (let pass = 1; pass <= 3; pass++) {
    const t = performance.now();
    let bytes = 0;
    for (const k of order) bytes += (store.get(root, k) as Uint8Array).length;
    const ms = performance.now() - t;
    if (bytes !== READS * 40) throw new Error("wrong values");
    passes.push(`pass ${pass} ${ms.toFixed(0)} ms (${((ms * 1000) / READS).toFixed(2)} µs/read)`);
  }
  const misses = rng(0xdead);
  let t = performance.now();
  for (let i = 0; i < READS; i++) if (store.get(root, misses(32)) !== null) throw new Error("unexpected key");
  const missMs = performance.now() - t;
  console.log(`${label}: ${READS} random reads of ${BASE_KEYS} keys: ${passes.join("; ")}; ${READS} absent keys ${missMs.toFixed(0)} ms`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "phala-trie-bench-"));
try {
  const env = open({ path: dir, maxDbs: 4 });
  const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };
  run("lmdb", env.openDB({ name: "trie-nodes", ...bin }), (f) => env.transactionSync(f));
  env.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
run("memory", new MemoryNodeDb(), (f) => f());
