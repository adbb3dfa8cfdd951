/**
 * Measures one block commit of 10,000 random writes (32-byte keys, 40-byte values) on top of a
 * trie that already holds 100,000 keys, on LMDB and in memory. Not a test: prints timings only.
 *   node --import tsx packages/trie/bench/commit.bench.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { open } from "lmdb";
import { EMPTY_TRIE_ROOT, MemoryNodeDb, TrieStore, type NodeDb } from "../src/index.ts";

/** xorshift32, seeded: the same keys every run. */
function rng(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

const BASE_KEYS = 100_000;
const BLOCK_WRITES = 10_000;

function run(label: string, db: NodeDb, txn: <T>(f: () => T) => T): void {
  const store = new TrieStore({ db, pruningDepthBlocks: 256 });
  const rand = rng(0x5eed);
  const base = store.batch(EMPTY_TRIE_ROOT);
  for (let i = 0; i < BASE_KEYS; i++) base.set(rand(32), rand(40));
  let t = performance.now();
  const { root: genesis } = txn(() => base.commit(0));
  const genesisMs = performance.now() - t;

  const results: string[] = [];
  let parent = genesis;
  for (let n = 1; n <= 3; n++) {
    const batch = store.batch(parent);
    for (let i = 0; i < BLOCK_WRITES; i++) batch.set(rand(32), rand(40));
    t = performance.now();
    const dry = batch.root();
    const rootMs = performance.now() - t;
    t = performance.now();
    parent = txn(() => batch.commit(n)).root;
    const persistMs = performance.now() - t;
    results.push(`block ${n}: root ${rootMs.toFixed(0)} ms + persist ${persistMs.toFixed(0)} ms`);
    if (Buffer.compare(dry, parent) !== 0) throw new Error("dry-run root differs");
  }
  // Overwrites of existing keys (the common case for balances).
  const rand2 = rng(0x5eed);
  const batch = store.batch(parent);
  for (let i = 0; i < BLOCK_WRITES; i++) {
    const k = rand2(32);
    rand2(40);
    batch.set(k, rng(i + 1)(40));
  }
  t = performance.now();
  txn(() => batch.commit(4));
  const overwriteMs = performance.now() - t;
  console.log(
    `${label}: genesis ${BASE_KEYS} keys ${genesisMs.toFixed(0)} ms; ` +
      `${results.join("; ")}; ${BLOCK_WRITES} overwrites ${overwriteMs.toFixed(0)} ms`,
  );
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "phala-trie-bench-"));
try {
  const env = open({ path: dir, maxDbs: 4 });
  const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };
  const nodes = env.openDB({ name: "trie-nodes", ...bin });
  run("lmdb", nodes, (f) => env.transactionSync(f));
  env.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
run("memory", new MemoryNodeDb(), (f) => f());
