/**
 * Sync throughput, in process: builds a realistic chain (a state of a few hundred keys, one
 * real read proof of PhalaMq.OutboundMessages and Timestamp.Now per block, both verified, a
 * single-validator certificate per batch),
 * then times SCALE decoding plus `PruntimeCore.sync` (light client, egress counters,
 * dispatch, checkpoints every 1000 blocks on a temp dir) of 20,000 blocks in batches of 1000.
 *   node --import tsx packages/pruntime/bench/sync.ts
 * prints { emptyBlocksPerSec, tenMsgBlocksPerSec, ... }.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { blake2b256, utf8 } from "@phala-ts/primitives";
import { RegistryEvent, SyncBatch, Topics, type MessageValue } from "@phala-ts/runtime/phala";
import { LightClient, decodeSyncBatch, genesisState } from "../src/light-client.ts";
import { PruntimeCore } from "../src/pruntime.ts";
import { DevSealer } from "../src/sealer.ts";
import { silentLogger } from "../src/logger.ts";
import { ChainFixture } from "../test/chain-fixture.ts";

export interface SyncBenchOptions {
  blocks?: number;
  batchBlocks?: number;
  /** Timed runs of each figure (after one untimed warm-up). */
  runs?: number;
}

/** Median and best of the runs, with every run (bench/stats.ts's shape; pruntime cannot import from bench/). */
export interface SyncFigure {
  median: number;
  best: number;
  runs: number[];
}

export interface SyncBenchResult {
  description: string;
  emptyBlocksPerSec: SyncFigure;
  tenMsgBlocksPerSec: SyncFigure;
  /** The light client alone (verify + commit), without decoding or dispatch. */
  lightClientEmptyBlocksPerSec: SyncFigure;
  lightClientTenMsgBlocksPerSec: SyncFigure;
}

function syncFigure(runs: number[]): SyncFigure {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: Math.round(median), best: sorted[sorted.length - 1], runs };
}

/** Workers the registry events name: a network of this size re-registering, so the followed set stays realistic. */
const WORKER_POOL = 1000;
/**
 * A full collection between building a chain and timing its sync, so the garbage the builder
 * left is not collected (and counted) inside the timed loop.
 */
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const registry = { tag: "Pallet" as const, value: utf8("PhalaRegistry") };

function workerRegistered(i: number): MessageValue {
  const pubkey = blake2b256(utf8(`worker ${i}`));
  return {
    sender: registry,
    destination: utf8(Topics.registryEvent),
    payload: RegistryEvent.codec.enc({ tag: "WorkerRegistered", value: { pubkey, ecdh_pubkey: blake2b256(pubkey), confidence_level: 128 } }),
  };
}

function buildBatches(blocks: number, batchBlocks: number, messagesPerBlock: number): { genesis: Uint8Array; batches: Uint8Array[] } {
  const chain = new ChainFixture({ fillerKeys: 512 });
  let n = 0;
  for (let b = 0; b < blocks; b++) {
    const msgs: MessageValue[] = [];
    for (let m = 0; m < messagesPerBlock; m++) msgs.push(workerRegistered(n++ % WORKER_POOL));
    chain.addBlock(msgs);
  }
  const batches: Uint8Array[] = [];
  for (let from = 1; from <= blocks; from += batchBlocks) batches.push(SyncBatch.codec.enc(chain.batch(from, Math.min(blocks, from + batchBlocks - 1))));
  return { genesis: chain.genesisHeader, batches };
}

function timeCore(genesis: Uint8Array, batches: Uint8Array[], blocks: number): number {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-bench-"));
  try {
    const core = PruntimeCore.open({ checkpointIntervalBlocks: 1000, beaconIntervalBlocks: 10, logger: silentLogger }, { sealer: new DevSealer(dir) });
    core.init(genesis);
    collectGarbage();
    const t = performance.now();
    for (const b of batches) core.sync(decodeSyncBatch(b));
    const s = (performance.now() - t) / 1000;
    if (core.status().syncedHeight !== blocks) throw new Error("bench did not sync every block");
    return Math.round(blocks / s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeLightClient(genesis: Uint8Array, batches: Uint8Array[], blocks: number): number {
  const decoded = batches.map((b) => decodeSyncBatch(b));
  const lc = new LightClient(genesisState(genesis));
  collectGarbage();
  const t = performance.now();
  for (const b of decoded) lc.commit(lc.verify(b));
  const s = (performance.now() - t) / 1000;
  if (lc.state.height !== blocks) throw new Error("bench did not sync every block");
  return Math.round(blocks / s);
}

export function benchSync(options: SyncBenchOptions = {}): SyncBenchResult {
  const blocks = options.blocks ?? 20_000;
  const batchBlocks = options.batchBlocks ?? 1000;
  const runs = options.runs ?? 3;
  const empty = buildBatches(blocks, batchBlocks, 0);
  const ten = buildBatches(blocks, batchBlocks, 10);
  // One warm-up pass so the JIT has seen the code before it is timed.
  timeCore(empty.genesis, empty.batches.slice(0, 2), Math.min(blocks, 2 * batchBlocks));
  const times = (f: () => number) => syncFigure(Array.from({ length: runs }, f));
  return {
    description:
      `${blocks} blocks in batches of ${batchBlocks} over a state of ~512 filler keys, each block with a verified read proof of PhalaMq.OutboundMessages and Timestamp.Now, ` +
      "one certificate per batch; the timed part is SCALE decoding plus PruntimeCore.sync (light client, egress counters, dispatch, a sealed checkpoint every 1000 blocks on a temp dir). " +
      "empty: no messages; tenMsg: 10 PhalaRegistry WorkerRegistered messages per block (the cheapest kind); lightClient*: verify + commit alone. " +
      `Median and best of ${runs} runs after a warm-up.`,
    emptyBlocksPerSec: times(() => timeCore(empty.genesis, empty.batches, blocks)),
    tenMsgBlocksPerSec: times(() => timeCore(ten.genesis, ten.batches, blocks)),
    lightClientEmptyBlocksPerSec: times(() => timeLightClient(empty.genesis, empty.batches, blocks)),
    lightClientTenMsgBlocksPerSec: times(() => timeLightClient(ten.genesis, ten.batches, blocks)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(benchSync()) + "\n");
}
