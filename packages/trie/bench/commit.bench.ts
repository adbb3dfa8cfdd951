/**
 * Measures one block commit of 10,000 random writes (32-byte keys, 40-byte values) on top of a
 * trie that already holds 100,000 keys, on LMDB and in memory; then a chain-like steady state:
 * 3,000 accounts under 48-80 byte keys, blocks of 7,000 writes of 16-100 byte values (mostly
 * overwrites), pruning depth 4, so every block also prunes. Not a test: prints timings only.
 *   node --import tsx packages/trie/bench/commit.bench.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { open } from "lmdb";
import { rng } from "./rng.ts";
import { EMPTY_TRIE_ROOT, MemoryNodeDb, TrieStore, type NodeDb } from "../src/index.ts";


const BASE_KEYS = 100_000;
const BLOCK_WRITES = 10_000;
const BLOCKS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function run(label: string, db: NodeDb, txn: <T>(f: () => T) => T): void {
  const store = new TrieStore({ db, pruningDepthBlocks: 256 });
  const rand = rng(0x5eed);
  const base = store.batch(EMPTY_TRIE_ROOT);
  for (let i = 0; i < BASE_KEYS; i++) base.set(rand(32), rand(40));
  let t = performance.now();
  const { root: genesis } = txn(() => base.commit(0));
  const genesisMs = performance.now() - t;

  const roots: number[] = [];
  const persists: number[] = [];
  let parent = genesis;
  for (let n = 1; n <= BLOCKS; n++) {
    const batch = store.batch(parent);
    for (let i = 0; i < BLOCK_WRITES; i++) batch.set(rand(32), rand(40));
    t = performance.now();
    const dry = batch.root();
    roots.push(performance.now() - t);
    t = performance.now();
    parent = txn(() => batch.commit(n)).root;
    persists.push(performance.now() - t);
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
  txn(() => batch.commit(BLOCKS + 1));
  const overwriteMs = performance.now() - t;
  const total = roots.map((r, i) => r + persists[i]);
  console.log(
    `${label}: genesis ${BASE_KEYS} keys ${genesisMs.toFixed(0)} ms; ${BLOCKS} blocks of ${BLOCK_WRITES} new keys, ` +
      `median root ${median(roots).toFixed(0)} ms + persist ${median(persists).toFixed(0)} ms = ${median(total).toFixed(0)} ms ` +
      `(min ${Math.min(...total).toFixed(0)}); ${BLOCK_WRITES} overwrites (root + persist) ${overwriteMs.toFixed(0)} ms`,
  );
}

const CHAIN_ACCOUNTS = 3_000;
const CHAIN_BLOCK_WRITES = 7_000;
const CHAIN_BLOCKS = 30;

function runChain(label: string, db: NodeDb, txn: <T>(f: () => T) => T): void {
  const store = new TrieStore({ db, pruningDepthBlocks: 4 });
  const rand = rng(0xc4a1);
  const keys: Uint8Array[] = [];
  for (let i = 0; i < CHAIN_ACCOUNTS; i++) keys.push(rand(48 + (i % 33)));
  const value = (): Uint8Array => rand(16 + (rand(1)[0] % 85));
  const genesis = store.batch(EMPTY_TRIE_ROOT);
  for (const k of keys) genesis.set(k, value());
  let parent = txn(() => genesis.commit(0)).root;
  const setMs: number[] = [];
  const rootMs: number[] = [];
  const commitMs: number[] = [];
  for (let n = 1; n <= CHAIN_BLOCKS; n++) {
    const pick = rand(CHAIN_BLOCK_WRITES * 2);
    const values = Array.from({ length: CHAIN_BLOCK_WRITES }, value);
    let t = performance.now();
    const batch = store.batch(parent);
    for (let i = 0; i < CHAIN_BLOCK_WRITES; i++) {
      const k = keys[(pick[2 * i] | (pick[2 * i + 1] << 8)) % CHAIN_ACCOUNTS];
      batch.get(k);
      batch.set(k, values[i]);
    }
    setMs.push(performance.now() - t);
    t = performance.now();
    batch.root();
    rootMs.push(performance.now() - t);
    t = performance.now();
    parent = txn(() => batch.commit(n)).root;
    commitMs.push(performance.now() - t);
  }
  const per = (ms: number[]) => median(ms).toFixed(1);
  console.log(
    `${label} chain: ${CHAIN_ACCOUNTS} accounts, ${CHAIN_BLOCKS} blocks of ${CHAIN_BLOCK_WRITES} get+set, median per block: ` +
      `get+set ${per(setMs)} ms, root ${per(rootMs)} ms, commit ${per(commitMs)} ms`,
  );
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "phala-trie-bench-"));
try {
  const env = open({ path: dir, maxDbs: 4 });
  const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };
  const nodes = env.openDB({ name: "trie-nodes", ...bin });
  run("lmdb", nodes, (f) => env.transactionSync(f));
  const chainNodes = env.openDB({ name: "chain-nodes", ...bin });
  runChain("lmdb", chainNodes, (f) => env.transactionSync(f));
  env.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
run("memory", new MemoryNodeDb(), (f) => f());
runChain("memory", new MemoryNodeDb(), (f) => f());
