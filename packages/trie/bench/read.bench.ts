/**
 * Random point reads (`TrieStore.get`) on a state of 100,000 keys (32-byte keys, 40-byte values,
 * so every value is a separate value node), on LMDB and in memory. Prints one JSON object.
 *
 * What "cold" means here: the state is built and committed by one process, which then closes the
 * database; every read run is a FRESH PROCESS that opens the database anew and a new `TrieStore`
 * (empty node cache, no compiled read path, no LMDB read transaction or JS-side cache), and its
 * first pass over the keys is the cold figure. The operating system's page cache is NOT dropped
 * (that needs root): the database file (~25 MB) may still be in RAM, so a cold read here costs
 * decoding and hashing lookups, not disk seeks. Passes 2 and 3 of the same process are warm.
 * In memory, "cold" is a new `TrieStore` over the same `MemoryNodeDb` (no node cache).
 *
 *   node --import tsx packages/trie/bench/read.bench.ts          # BENCH_TRIE_RUNS cold processes (default 3)
 *   node --import tsx packages/trie/bench/read.bench.ts --read <dir> <rootHex>   # one cold reader (internal)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { open } from "lmdb";
import { rng } from "./rng.ts";
import { EMPTY_TRIE_ROOT, MemoryNodeDb, TrieStore, type NodeDb } from "../src/index.ts";

const BASE_KEYS = 100_000;
const READS = 100_000;
const VALUE_BYTES = 40;
/** Passes over the same keys in one reader: the first is cold, the rest warm. */
const PASSES = 3;
const SELF = fileURLToPath(import.meta.url);
const DB_NAME = "trie-nodes";
const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };

interface ReaderResult {
  /** µs per read of each pass; [0] is cold. */
  passUsPerRead: number[];
  absentUsPerRead: number;
}

/** The seeded keys of the state, and the seeded order they are read in (a few repeat, most do not). */
function keysAndOrder(): { keys: Uint8Array[]; values: Uint8Array[]; order: Uint8Array[] } {
  const rand = rng(0x5eed);
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < BASE_KEYS; i++) {
    keys.push(rand(32));
    values.push(rand(VALUE_BYTES));
  }
  const pick = rng(0xbeef);
  const order = Array.from({ length: READS }, () => {
    const b = pick(4);
    return keys[(b[0] | (b[1] << 8) | (b[2] << 16)) % BASE_KEYS];
  });
  return { keys, values, order };
}

function build(db: NodeDb, txn: <T>(f: () => T) => T): Uint8Array {
  const store = new TrieStore({ db, pruningDepthBlocks: 256 });
  const { keys, values } = keysAndOrder();
  const base = store.batch(EMPTY_TRIE_ROOT);
  for (let i = 0; i < BASE_KEYS; i++) base.set(keys[i], values[i]);
  return txn(() => base.commit(0)).root;
}

function read(db: NodeDb, root: Uint8Array): ReaderResult {
  const { order } = keysAndOrder();
  const store = new TrieStore({ db, pruningDepthBlocks: 256 });
  const passUsPerRead: number[] = [];
  for (let pass = 1; pass <= PASSES; pass++) {
    const t = performance.now();
    let bytes = 0;
    for (const k of order) bytes += (store.get(root, k) as Uint8Array).length;
    const ms = performance.now() - t;
    if (bytes !== READS * VALUE_BYTES) throw new Error("the trie read bench read wrong values");
    passUsPerRead.push((ms * 1000) / READS);
  }
  const misses = rng(0xdead);
  const t = performance.now();
  for (let i = 0; i < READS; i++) if (store.get(root, misses(32)) !== null) throw new Error("the trie read bench found a key it never wrote");
  return { passUsPerRead, absentUsPerRead: ((performance.now() - t) * 1000) / READS };
}

function readLmdbInThisProcess(dir: string, rootHex: string): ReaderResult {
  const env = open({ path: dir, maxDbs: 4 });
  try {
    return read(env.openDB({ name: DB_NAME, ...bin }), Uint8Array.from(Buffer.from(rootHex, "hex")));
  } finally {
    env.close();
  }
}

async function readLmdbInFreshProcess(dir: string, rootHex: string): Promise<ReaderResult> {
  const child = spawn(process.execPath, ["--import", "tsx", SELF, "--read", dir, rootHex], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the trie read bench's reader exited with ${code}`);
  return JSON.parse(out) as ReaderResult;
}

const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
/** Median and best (lowest) µs per read over the runs, with every run. */
const summary = (xs: number[]) => ({ medianUsPerRead: r2(med(xs)), bestUsPerRead: r2(Math.min(...xs)), runs: xs.map(r2) });

export interface TrieReadBenchResult {
  description: string;
  keys: number;
  reads: number;
  lmdb: { cold: ReturnType<typeof summary>; warm: ReturnType<typeof summary>; absent: ReturnType<typeof summary> };
  memory: { cold: ReturnType<typeof summary>; warm: ReturnType<typeof summary> };
}

export async function benchTrieRead(runs: number): Promise<TrieReadBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "phala-trie-bench-"));
  try {
    const env = open({ path: dir, maxDbs: 4 });
    const root = build(env.openDB({ name: DB_NAME, ...bin }), (f) => env.transactionSync(f));
    await env.close();
    const rootHex = Buffer.from(root).toString("hex");
    const lmdbRuns: ReaderResult[] = [];
    for (let i = 0; i < runs; i++) lmdbRuns.push(await readLmdbInFreshProcess(dir, rootHex));
    const memDb = new MemoryNodeDb();
    const memRoot = build(memDb, (f) => f());
    const memRuns: ReaderResult[] = [];
    for (let i = 0; i < runs; i++) memRuns.push(read(memDb, memRoot));
    return {
      description:
        `${READS} random point reads of a ${BASE_KEYS}-key state. cold = the first pass of a fresh process (LMDB) or a fresh TrieStore (memory): ` +
        "no node cache, database just opened; the OS page cache is not dropped, so the file may be in RAM. " +
        `warm = the best later pass (${PASSES - 1}) of the same reader. absent = reads of keys not in the state, warm. ` +
        `Each of ${runs} runs is its own reader; median and best (lowest) µs per read.`,
      keys: BASE_KEYS,
      reads: READS,
      lmdb: {
        cold: summary(lmdbRuns.map((r) => r.passUsPerRead[0])),
        warm: summary(lmdbRuns.map((r) => Math.min(...r.passUsPerRead.slice(1)))),
        absent: summary(lmdbRuns.map((r) => r.absentUsPerRead)),
      },
      memory: {
        cold: summary(memRuns.map((r) => r.passUsPerRead[0])),
        warm: summary(memRuns.map((r) => Math.min(...r.passUsPerRead.slice(1)))),
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === "--read") {
    process.stdout.write(JSON.stringify(readLmdbInThisProcess(process.argv[3], process.argv[4])) + "\n");
  } else {
    const runs = Number(process.env.BENCH_TRIE_RUNS ?? 3);
    if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError("BENCH_TRIE_RUNS must be a positive integer");
    process.stdout.write(JSON.stringify(await benchTrieRead(runs), null, 2) + "\n");
  }
}
