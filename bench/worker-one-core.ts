/**
 * What one worker's core takes, in process: a gatekeeper and one worker on a simulated chain
 * (real light-client proofs and certificates, the real QuickJS VM and envelopes), the example
 * token deployed, then
 *  - blocks of sealed transfers, of which the worker's `sync` (verify, open, run, charge,
 *    encrypt the result) is timed, plus the worker's share of checkpoints: each round seals a
 *    real checkpoint (DevSealer on a temp dir: AES-GCM, fsync, rename), and the commands/s figure
 *    charges its cost once per DEFAULT_CHECKPOINT_INTERVAL_BLOCKS blocks, as pRuntime seals one
 *    that often (the checkpoint's own time is reported beside);
 *  - pre-built balance queries under one certificate, as the SDK sends them, of which only the
 *    worker's answer (certificate, decrypt, nonce, run, encrypt, sign) is timed: queries per second,
 *    one by one and in batches of 8 (one signature a batch).
 * The dev-network figures run every command on both members of the cluster, and the node, the
 * pHosts and the client on the same cores; these are what a worker's core can take.
 *   node --import tsx bench/worker-one-core.ts
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { QueryBatchRequest, clusterIdOf, contractIdOf } from "@phala-ts/runtime/phala";
import { buildContract } from "@phala-ts/contract/build";
import { PruntimeCore } from "../packages/pruntime/src/pruntime.ts";
import { createVmRunner } from "../packages/pruntime/src/vm-runner.ts";
import { silentLogger } from "../packages/pruntime/src/logger.ts";
import { QUERY_CERT_LIFETIME_MAX_MS } from "../packages/pruntime/src/limits.ts";
import { ChainSim } from "../packages/pruntime/test/chain-sim.ts";
import { clusterEvent, command, initArgs, openQueryBatchAnswer, openQueryResponse, openResult, query, type SentCommand } from "../packages/pruntime/test/contract-client.ts";
import { seededRandom } from "../packages/pruntime/test/memory-sealer.ts";
import { DevSealer } from "../packages/pruntime/src/sealer.ts";
import { DEFAULT_BEACON_INTERVAL_BLOCKS, DEFAULT_CHECKPOINT_INTERVAL_BLOCKS } from "../packages/pruntime/src/service.ts";
import { figure, type Figure } from "./stats.ts";

export interface WorkerOneCoreResult {
  description: string;
  /** Commands per second of sync time plus each block's share of a checkpoint. */
  commandsPerSecond: Figure;
  /** Milliseconds to seal one checkpoint (AES-GCM, write, fsync, rename) after a round. */
  checkpointMs: Figure;
  checkpointBytes: number;
  commands: number;
  commandsPerBlock: number;
  queriesPerSecond: Figure;
  /** The same queries sent in batches of 8, as the SDK does with queries in flight together. */
  batchedQueriesPerSecond: Figure;
  queries: number;
}

/** Queries per batch, the SDK's default. */
const QUERY_BATCH = 8;
const EXAMPLES = fileURLToPath(new URL("../packages/contract/examples/", import.meta.url));
const GAS = 5_000_000n;

export async function benchWorkerOneCore(opts: { blocks?: number; commandsPerBlock?: number; queries?: number; rounds?: number } = {}): Promise<WorkerOneCoreResult> {
  const blocks = opts.blocks ?? 10;
  const perBlock = opts.commandsPerBlock ?? 100;
  const rounds = opts.rounds ?? 3;
  const runner = await createVmRunner();
  const dirs: string[] = [];
  try {
    // pRuntime's own sealer and intervals, as `startPruntime` configures them.
    const open = (i: number) => {
      const dir = mkdtempSync(join(tmpdir(), "phala-worker-bench-"));
      dirs.push(dir);
      return PruntimeCore.open(
        { checkpointIntervalBlocks: DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, beaconIntervalBlocks: DEFAULT_BEACON_INTERVAL_BLOCKS, logger: silentLogger },
        { sealer: new DevSealer(dir), random: seededRandom(i), runner, clock: () => 0 },
      );
    };
    const sim = new ChainSim();
    const gk = sim.add(open(1));
    const worker = sim.add(open(2));
    sim.block([gk, worker].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
    sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
    sim.block(); // the master key lands

    const cluster = clusterIdOf(0n);
    sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [worker.keys.identityPublicKey], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
    sim.block(); // the cluster key lands
    const clusterEcdh = sim.clusterKeys.get(toHex(cluster))?.ecdh_pubkey;
    if (!clusterEcdh) throw new Error("the cluster key was not published");

    const sender = devAccount("Alice", "ed25519");
    const to = toHex(devAccount("Bob", "ed25519").accountId);
    const { code } = await buildContract(join(EXAMPLES, "token.ts"));
    const codeHash = blake2b256(code);
    const contract = contractIdOf(sender.accountId, codeHash, cluster, utf8("bench"));
    const init = initArgs(clusterEcdh, contract, { owner: toHex(sender.accountId), supply: "1000000000000" }, 50_000_000n, blake2b256(utf8("bench init")));
    sim.block([], {
      raw: [
        clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: sender.accountId, code } }),
        clusterEvent({ tag: "Deposit", value: { cluster, account: sender.accountId, amount: 1n << 100n } }),
        clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: sender.accountId, init_args: init } }),
      ],
    });
    sim.block(); // the contract key lands
    const contractEcdh = sim.contractKeys.get(toHex(contract))?.ecdh_pubkey;
    if (!contractEcdh) throw new Error("the contract key was not published");

    const workerDir = dirs[1];
    const commandRates: number[] = [];
    const checkpointMs: number[] = [];
    let n = 0;
    // Round 0 warms up and is not counted.
    for (let round = 0; round <= rounds; round++) {
      const from = sim.chain.height + 1;
      let last: SentCommand | undefined;
      for (let b = 0; b < blocks; b++) {
        const cmds = Array.from({ length: perBlock }, () => command(sender.accountId, contractEcdh, contract, { op: "transfer", to, amount: "1" }, GAS, `bench ${n++}`));
        last = cmds[cmds.length - 1];
        sim.block([], { raw: cmds.map((c) => c.message), syncNodes: [] });
      }
      const batch = sim.chain.batch(from, sim.chain.height);
      const before = worker.contractInfo(contract)?.commands ?? 0n;
      const t0 = performance.now();
      worker.sync(batch);
      const syncSeconds = (performance.now() - t0) / 1000;
      const tc = performance.now();
      worker.checkpoint();
      const checkpointSeconds = (performance.now() - tc) / 1000;
      const seconds = syncSeconds + (checkpointSeconds * blocks) / DEFAULT_CHECKPOINT_INTERVAL_BLOCKS;
      const executed = Number((worker.contractInfo(contract)?.commands ?? 0n) - before);
      if (executed !== blocks * perBlock) throw new Error(`the worker executed ${executed} of ${blocks * perBlock} commands`);
      // Transfers that failed would be cheaper than real ones: the last of the round must have succeeded.
      const result = worker.commandResult(contract, last!.commandId);
      const outcome = result && openResult(result, last!.key, contractEcdh).outcome;
      if (!outcome?.ok) throw new Error(`a benchmark transfer failed: ${outcome?.error?.kind} ${outcome?.error?.message}`);
      if (round > 0) {
        commandRates.push(executed / seconds);
        checkpointMs.push(checkpointSeconds * 1000);
      }
    }
    const checkpointBytes = statSync(join(workerDir, "checkpoint.sealed")).size;

    // Queries: one certificate (one ephemeral key) for all, a fresh nonce each, as the SDK sends them.
    const queries = opts.queries ?? 1000;
    const asker = devAccount("Alice", "ed25519");
    let q = 0;
    const queryRates: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const requests = Array.from({ length: queries }, () =>
        query(asker, worker.keys.ecdhPublicKey, contract, { op: "balance" }, "bench", { expiresAtMs: BigInt(QUERY_CERT_LIFETIME_MAX_MS), nonce: blake2b256(utf8(`nonce ${q++}`)).slice(0, 16) }),
      );
      const t0 = performance.now();
      const answers = requests.map((r) => worker.query(r.request));
      const seconds = (performance.now() - t0) / 1000;
      const answer = openQueryResponse(answers[answers.length - 1], requests[requests.length - 1], worker.keys.identityPublicKey);
      if (!answer.outcome.ok) throw new Error(`a benchmark query failed: ${answer.outcome.error?.kind} ${answer.outcome.error?.message}`);
      if (round > 0) queryRates.push(queries / seconds);
    }

    // The same queries in batches of 8 (`POST /queries`, as the SDK sends queries in flight together): one signature a batch.
    const batchRates: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const requests = Array.from({ length: queries }, () =>
        query(asker, worker.keys.ecdhPublicKey, contract, { op: "balance" }, "bench", { expiresAtMs: BigInt(QUERY_CERT_LIFETIME_MAX_MS), nonce: blake2b256(utf8(`nonce ${q++}`)).slice(0, 16) }),
      );
      const batches: Uint8Array[] = [];
      for (let i = 0; i < requests.length; i += QUERY_BATCH) batches.push(QueryBatchRequest.codec.enc(requests.slice(i, i + QUERY_BATCH).map((r) => r.request)));
      const t0 = performance.now();
      const answers: Uint8Array[] = [];
      for (const b of batches) answers.push(await worker.queryBatch(b));
      const seconds = (performance.now() - t0) / 1000;
      const lastBatch = requests.slice((batches.length - 1) * QUERY_BATCH);
      const last = openQueryBatchAnswer(answers[answers.length - 1], lastBatch.length - 1, lastBatch[lastBatch.length - 1], worker.keys.identityPublicKey);
      if (!last.answer?.outcome.ok) throw new Error(`a benchmark query batch failed: ${last.refusal?.code ?? last.answer?.outcome.error?.message}`);
      if (round > 0) batchRates.push(queries / seconds);
    }
    return {
      description:
        `in process on one core, one worker with DevSealer on a temp dir and pRuntime's default intervals. commandsPerSecond: ${blocks} blocks of ${perBlock} encrypted token transfers ` +
        `per round, timing the worker's sync (light client, decrypt, QuickJS run, charge, result encryption) plus ${blocks}/${DEFAULT_CHECKPOINT_INTERVAL_BLOCKS} of the checkpoint sealed after the round (checkpointMs, its full time). ` +
        `queriesPerSecond: ${queries} balance queries answered one by one (certificate, decrypt, nonce, run, encrypt, sign); batchedQueriesPerSecond: the same in batches of ${QUERY_BATCH}. ` +
        `Median and best of ${rounds} rounds after one warm-up round.`,
      commandsPerSecond: figure(commandRates),
      checkpointMs: figure(checkpointMs, { lowerIsBetter: true, digits: 1 }),
      checkpointBytes,
      commands: blocks * perBlock,
      commandsPerBlock: perBlock,
      queriesPerSecond: figure(queryRates),
      batchedQueriesPerSecond: figure(batchRates),
      queries,
    };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchWorkerOneCore().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"));
}
