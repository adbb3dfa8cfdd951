/**
 * What a checkpoint costs as contract state grows (issue 12), on disk with fsync: the sealed
 * contract store (sealed-store.ts) under a DevSealer in a temporary directory is filled with
 * STATE_MIB of contract storage in entries of ENTRY_BYTES (the largest value a contract may
 * store, STORAGE_VALUE_BYTES_MAX, so the fill is quick), then each run changes CHANGES small
 * entries and takes a checkpoint the way PruntimeCore does: the store record (fsync), then the
 * sealed checkpoint header (temp file, fsync, rename, fsync of the directory). Reported per
 * state size: checkpoint time (median and best of RUNS) and bytes written (store record plus
 * sealed header), beside the old way (all state re-encoded and re-sealed in one file) at the
 * sizes where that is still quick to run, and the time a restart takes to load the store.
 *   node --import tsx packages/pruntime/bench/checkpoint-store.ts [sizesMiB=10,100,1024] [changes=100] [runs=7] [fullResealMaxMiB=100]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "@phala-ts/primitives";
import { STORAGE_VALUE_BYTES_MAX } from "@phala-ts/contract";
import { SealedStore, StoreCommitment, type StoreChange } from "../src/sealed-store.ts";
import { DevSealer } from "../src/sealer.ts";

const ENTRY_BYTES = STORAGE_VALUE_BYTES_MAX;
/** Fill in records of this size: bounds the bench's memory whatever the state size. */
const FILL_RECORD_BYTES = 64 * 1024 * 1024;
/** The sealed header's non-store part: keys, light client, egress, clusters, balances (a few KiB in the tests). */
const HEADER_REST_BYTES = 4096;
/** Default largest size at which the old full re-seal is also measured (above it, it takes long and needs ~3× the state in memory). */
const FULL_RESEAL_MAX_MIB = 100;

export interface CheckpointStoreBenchResult {
  stateMiB: number;
  changes: number;
  medianMs: number;
  bestMs: number;
  bytesWritten: number;
  fullResealMedianMs: number | undefined;
  fullResealBytes: number | undefined;
  loadMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function entry(i: number, fill: number): StoreChange {
  const value = new Uint8Array(ENTRY_BYTES).fill(fill);
  new DataView(value.buffer).setUint32(0, i, true);
  return { key: utf8(`contract-0/key-${i}`), value };
}

export function benchCheckpointStore(stateMiB: number, changes = 100, runs = 7, fullResealMaxMiB = FULL_RESEAL_MAX_MIB): CheckpointStoreBenchResult {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-bench-store-"));
  try {
    const sealer = new DevSealer(dir);
    const store = SealedStore.create(sealer);
    const entries = Math.ceil((stateMiB * 1024 * 1024) / ENTRY_BYTES);
    const perRecord = Math.floor(FILL_RECORD_BYTES / ENTRY_BYTES);
    for (let start = 0; start < entries; start += perRecord) {
      const batch: StoreChange[] = [];
      for (let i = start; i < Math.min(entries, start + perRecord); i++) batch.push(entry(i, 1));
      store.prepare(batch, () => []);
      store.committed();
    }
    const rest = new Uint8Array(HEADER_REST_BYTES);
    const times: number[] = [];
    const bytes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const changed: StoreChange[] = [];
      for (let j = 0; j < changes; j++) {
        const i = (run * changes + j * 7919) % entries;
        changed.push({ key: utf8(`contract-0/key-${i}`), value: utf8(`small value ${run}`) });
      }
      const before = store.bytesWritten;
      const started = performance.now();
      const commitment = store.prepare(changed, () => []);
      const header = new Uint8Array(HEADER_REST_BYTES + StoreCommitment.codec.enc(commitment).length);
      header.set(rest);
      sealer.seal("checkpoint", header);
      store.committed();
      times.push(performance.now() - started);
      bytes.push(store.bytesWritten - before + statSync(join(dir, "checkpoint.sealed")).size);
    }
    let fullResealMedianMs: number | undefined;
    let fullResealBytes: number | undefined;
    if (stateMiB <= fullResealMaxMiB) {
      // The old checkpoint: every value re-encoded into one buffer and sealed as one file.
      const full: number[] = [];
      for (let run = 0; run < Math.min(runs, 3); run++) {
        const started = performance.now();
        const all = new Uint8Array(entries * (ENTRY_BYTES + 32) + HEADER_REST_BYTES);
        for (let i = 0; i < entries; i++) all.set(entry(i, 1).value!, HEADER_REST_BYTES + i * (ENTRY_BYTES + 32));
        sealer.seal("full", all);
        full.push(performance.now() - started);
      }
      fullResealMedianMs = median(full);
      fullResealBytes = statSync(join(dir, "full.sealed")).size;
    }
    const loadStarted = performance.now();
    let loaded = 0;
    SealedStore.open(new DevSealer(dir), store.commitment, () => loaded++);
    const loadMs = performance.now() - loadStarted;
    if (loaded !== entries) throw new RangeError(`the store loaded ${loaded} entries, not ${entries}`);
    return { stateMiB, changes, medianMs: median(times), bestMs: Math.min(...times), bytesWritten: median(bytes), fullResealMedianMs, fullResealBytes, loadMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.argv[2] ?? "10,100,1024").split(",").map(Number);
  const changes = Number(process.argv[3] ?? 100);
  const runs = Number(process.argv[4] ?? 7);
  const fullResealMaxMiB = Number(process.argv[5] ?? FULL_RESEAL_MAX_MIB);
  console.log(`checkpoint after ${changes} small changes, ${runs} runs, entries of ${ENTRY_BYTES} bytes, on ${tmpdir()} with fsync`);
  for (const mib of sizes) {
    const r = benchCheckpointStore(mib, changes, runs, fullResealMaxMiB);
    const full = r.fullResealMedianMs === undefined ? "not run" : `${r.fullResealMedianMs.toFixed(1)} ms, ${r.fullResealBytes} bytes`;
    console.log(
      `${String(mib).padStart(5)} MiB: checkpoint median ${r.medianMs.toFixed(2)} ms, best ${r.bestMs.toFixed(2)} ms, ${r.bytesWritten} bytes written | old full re-seal: ${full} | restart load ${r.loadMs.toFixed(0)} ms`,
    );
  }
}
