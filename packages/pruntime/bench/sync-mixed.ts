/**
 * pRuntime sync over a large state with a realistic mix of messages, in process on one core:
 * a chain whose state holds BENCH_SYNC_STATE_KEYS keys (default 1,000,000; proofs as deep as a
 * real chain's), a gatekeeper and a worker set up through the chain (registration, master key,
 * a cluster holding the worker, the example token contract deployed), then
 *  - BENCH_SYNC_BLOCKS empty blocks (their own figure), and
 *  - BENCH_SYNC_BLOCKS blocks each carrying MIX: PhalaRegistry worker registrations, cluster
 *    deposits and encrypted token transfers that the worker runs in the QuickJS VM (decrypt,
 *    run, charge, encrypt the result).
 * Each run is a fresh pRuntime (same seed, so the same identity the cluster names, a DevSealer
 * on a new temp dir, pRuntime's default checkpoint and beacon intervals) that syncs the setup
 * blocks untimed, then SCALE decoding plus `PruntimeCore.sync` of the empty blocks and of the
 * mixed blocks, in batches of BATCH_BLOCKS, are timed.
 *   node --max-old-space-size=8192 --import tsx packages/pruntime/bench/sync-mixed.ts
 * prints one JSON object.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { RegistryEvent, SyncBatch, Topics, clusterIdOf, contractIdOf, type MessageValue } from "@phala-ts/runtime/phala";
import { buildContract } from "@phala-ts/contract/build";
import { PruntimeCore } from "../src/pruntime.ts";
import { decodeSyncBatch } from "../src/light-client.ts";
import { createVmRunner } from "../src/vm-runner.ts";
import { DevSealer } from "../src/sealer.ts";
import { silentLogger } from "../src/logger.ts";
import { DEFAULT_BEACON_INTERVAL_BLOCKS, DEFAULT_CHECKPOINT_INTERVAL_BLOCKS } from "../src/service.ts";
import { ChainSim } from "../test/chain-sim.ts";
import { clusterEvent, command, initArgs, openResult, type SentCommand } from "../test/contract-client.ts";
import { seededRandom } from "../test/memory-sealer.ts";

/** Messages of each kind in one mixed block: ten in all, as the cheap-messages figure has. */
const MIX = { workerRegistrations: 2, clusterDeposits: 2, contractCommands: 6 } as const;
/** Blocks per sync batch, as pHost sends them by default. */
const BATCH_BLOCKS = 1000;
/** Workers the registrations name: a network of this size re-registering. */
const WORKER_POOL = 1000;
/** Accounts the token transfers pay, so the contract's state grows as a real one's does. */
const RECIPIENTS = 1000;
const GAS = 5_000_000n;
const SELF = fileURLToPath(import.meta.url);
const EXAMPLES = fileURLToPath(new URL("../../contract/examples/", import.meta.url));

export interface MixedSyncResult {
  description: string;
  stateKeys: number;
  blocks: number;
  /** Proof bytes of one block (the OutboundMessages and Timestamp.Now read proof). */
  proofBytesPerBlock: number;
  emptyBlocksPerSec: { median: number; best: number; runs: number[] };
  mixedBlocksPerSec: { median: number; best: number; runs: number[] };
  /** The same runs in messages per second of all kinds. */
  mixedMessagesPerSec: { median: number; best: number; runs: number[] };
  /** Untimed: building the chain (state, blocks, proofs). */
  buildSeconds: number;
}

function summary(runs: number[]): { median: number; best: number; runs: number[] } {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: Math.round(median), best: Math.round(sorted[sorted.length - 1]), runs: runs.map(Math.round) };
}

const registry = { tag: "Pallet" as const, value: utf8("PhalaRegistry") };

function workerRegistered(i: number): MessageValue {
  const pubkey = blake2b256(utf8(`worker ${i}`));
  return {
    sender: registry,
    destination: utf8(Topics.registryEvent),
    payload: RegistryEvent.codec.enc({ tag: "WorkerRegistered", value: { pubkey, ecdh_pubkey: blake2b256(pubkey), confidence_level: 128 } }),
  };
}

export async function benchMixedSync(options: { stateKeys?: number; blocks?: number; runs?: number } = {}): Promise<MixedSyncResult> {
  const stateKeys = options.stateKeys ?? 1_000_000;
  const blocks = options.blocks ?? 1000;
  const runs = options.runs ?? 3;
  const runner = await createVmRunner();
  const dirs: string[] = [];
  const open = (seed: number) => {
    const dir = mkdtempSync(join(tmpdir(), "phala-sync-bench-"));
    dirs.push(dir);
    return PruntimeCore.open(
      { checkpointIntervalBlocks: DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, beaconIntervalBlocks: DEFAULT_BEACON_INTERVAL_BLOCKS, logger: silentLogger },
      { sealer: new DevSealer(dir), random: seededRandom(seed), runner, clock: () => 0 },
    );
  };
  try {
    const buildStart = performance.now();
    process.stderr.write(`[sync] building a state of ${stateKeys} keys\n`);
    const sim = new ChainSim({ fillerKeys: stateKeys });
    const gk = sim.add(open(1));
    const worker = sim.add(open(2));
    sim.block([gk, worker].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
    sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
    sim.block(); // the master key lands
    const cluster = clusterIdOf(0n);
    sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [worker.keys.identityPublicKey], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
    sim.block(); // the cluster key lands
    const clusterEcdh = sim.clusterKeys.get(toHex(cluster))?.ecdh_pubkey;
    if (!clusterEcdh) throw new Error("the sync bench's cluster key was not published");
    const sender = devAccount("Alice", "ed25519");
    const { code } = await buildContract(join(EXAMPLES, "token.ts"));
    const codeHash = blake2b256(code);
    const contract = contractIdOf(sender.accountId, codeHash, cluster, utf8("sync bench"));
    const init = initArgs(clusterEcdh, contract, { owner: toHex(sender.accountId), supply: "1000000000000" }, 50_000_000n, blake2b256(utf8("sync bench init")));
    sim.block([], {
      raw: [
        clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: sender.accountId, code } }),
        clusterEvent({ tag: "Deposit", value: { cluster, account: sender.accountId, amount: 1n << 100n } }),
        clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: sender.accountId, init_args: init } }),
      ],
    });
    sim.block(); // the contract key lands
    const contractEcdh = sim.contractKeys.get(toHex(contract))?.ecdh_pubkey;
    if (!contractEcdh) throw new Error("the sync bench's contract key was not published");
    const setupHeight = sim.chain.height;

    // The timed blocks: nobody syncs or submits while they are built.
    const quiet = { syncNodes: [], submitFrom: [] };
    process.stderr.write(`[sync] building ${blocks} empty and ${blocks} mixed blocks\n`);
    for (let b = 0; b < blocks; b++) sim.block([], quiet);
    const emptyRange = { from: setupHeight + 1, to: sim.chain.height };
    let reg = 0;
    let dep = 0;
    let cmd = 0;
    let last: SentCommand | undefined;
    for (let b = 0; b < blocks; b++) {
      const raw: MessageValue[] = [];
      for (let i = 0; i < MIX.workerRegistrations; i++) raw.push(workerRegistered(reg++ % WORKER_POOL));
      for (let i = 0; i < MIX.clusterDeposits; i++) {
        raw.push(clusterEvent({ tag: "Deposit", value: { cluster, account: blake2b256(utf8(`depositor ${dep++ % RECIPIENTS}`)), amount: 1_000_000n } }));
      }
      for (let i = 0; i < MIX.contractCommands; i++) {
        const to = toHex(blake2b256(utf8(`recipient ${cmd % RECIPIENTS}`)));
        last = command(sender.accountId, contractEcdh, contract, { op: "transfer", to, amount: "1" }, GAS, `sync bench ${cmd++}`);
        raw.push(last.message);
      }
      sim.block([], { raw, ...quiet });
    }
    const mixedRange = { from: emptyRange.to + 1, to: sim.chain.height };
    const encode = (from: number, to: number) => {
      const out: Uint8Array[] = [];
      for (let f = from; f <= to; f += BATCH_BLOCKS) out.push(SyncBatch.codec.enc(sim.chain.batch(f, Math.min(to, f + BATCH_BLOCKS - 1))));
      return out;
    };
    const setupBatches = encode(1, setupHeight);
    const emptyBatches = encode(emptyRange.from, emptyRange.to);
    const mixedBatches = encode(mixedRange.from, mixedRange.to);
    const proofBytesPerBlock = sim.chain.blocks[mixedRange.to - 1].proof.reduce((n, p) => n + p.length, 0);
    const genesis = sim.chain.genesisHeader;
    const buildSeconds = (performance.now() - buildStart) / 1000;

    const emptyRates: number[] = [];
    const mixedRates: number[] = [];
    // Run 0 warms the JIT up and is not counted.
    for (let run = 0; run <= runs; run++) {
      const core = open(2);
      core.init(genesis);
      for (const b of setupBatches) core.sync(decodeSyncBatch(b));
      const before = core.contractInfo(contract)?.commands ?? 0n;
      let t = performance.now();
      for (const b of emptyBatches) core.sync(decodeSyncBatch(b));
      const emptySeconds = (performance.now() - t) / 1000;
      t = performance.now();
      for (const b of mixedBatches) core.sync(decodeSyncBatch(b));
      const mixedSeconds = (performance.now() - t) / 1000;
      if (core.status().syncedHeight !== mixedRange.to) throw new Error("the sync bench did not sync every block");
      const executed = Number((core.contractInfo(contract)?.commands ?? 0n) - before);
      if (executed !== blocks * MIX.contractCommands) throw new Error(`the sync bench's worker executed ${executed} of ${blocks * MIX.contractCommands} commands`);
      // Failed transfers would be cheaper than real ones: the last must have succeeded.
      const result = core.commandResult(contract, last!.commandId);
      const outcome = result && openResult(result, last!.key, contractEcdh).outcome;
      if (!outcome?.ok) throw new Error(`a sync bench transfer failed: ${outcome?.error?.kind} ${outcome?.error?.message}`);
      process.stderr.write(`[sync] run ${run}${run === 0 ? " (warm-up)" : ""}: empty ${Math.round(blocks / emptySeconds)} blocks/s, mixed ${Math.round(blocks / mixedSeconds)} blocks/s\n`);
      if (run > 0) {
        emptyRates.push(blocks / emptySeconds);
        mixedRates.push(blocks / mixedSeconds);
      }
    }
    const perBlock = MIX.workerRegistrations + MIX.clusterDeposits + MIX.contractCommands;
    return {
      description:
        `pRuntime sync in process on one core over a state of ${stateKeys} keys (proofs of ${proofBytesPerBlock} bytes a block), batches of ${BATCH_BLOCKS}, SCALE decoding plus PruntimeCore.sync ` +
        `(light client with proof and certificate checks, dispatch, a DevSealer checkpoint every ${DEFAULT_CHECKPOINT_INTERVAL_BLOCKS} blocks). empty: ${blocks} blocks without messages. ` +
        `mixed: ${blocks} blocks each with ${MIX.workerRegistrations} PhalaRegistry worker registrations, ${MIX.clusterDeposits} cluster deposits and ${MIX.contractCommands} encrypted token transfers ` +
        `the worker executes in the QuickJS VM. Each run a fresh pRuntime; median and best of ${runs} runs after a warm-up run. Building the chain is not timed.`,
      stateKeys,
      blocks,
      proofBytesPerBlock,
      emptyBlocksPerSec: summary(emptyRates),
      mixedBlocksPerSec: summary(mixedRates),
      mixedMessagesPerSec: summary(mixedRates.map((r) => r * perBlock)),
      buildSeconds: Math.round(buildSeconds),
    };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  const int = (name: string, fallback: number) => {
    const v = process.env[name];
    const n = v === undefined || v === "" ? fallback : Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, not "${v}"`);
    return n;
  };
  const result = await benchMixedSync({ stateKeys: int("BENCH_SYNC_STATE_KEYS", 1_000_000), blocks: int("BENCH_SYNC_BLOCKS", 1000), runs: int("BENCH_RUNS", 3) });
  process.stdout.write(JSON.stringify(result) + "\n");
}
