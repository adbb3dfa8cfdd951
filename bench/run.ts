/**
 * `npm run bench`: prints one JSON object to stdout (progress goes to stderr) with
 *  - single-core signature verification rates,
 *  - finalized transfers/s against a freshly spawned dev node, per signature type (batched
 *    submission, best of three after two warm-up runs; one-call-per-message figures alongside),
 *  - their ratio (goal >= 0.5: the node should finalize transfers at half the rate one
 *    core can verify their signatures),
 *  - submit-to-finalized latency of individually submitted transfers (goal p50 <= 500 ms),
 *  - pRuntime light-client sync in finalized blocks/s, empty and with 10 messages per block
 *    (goals 10,000/s and 2,000/s; Phala syncs about 10 blocks/s),
 *  - confidential contracts on a network of real processes: encrypted commands executed per
 *    second (goal 1,000), query p50 (goal 2 ms) and rate (goal 3,000/s; queries in flight together
 *    batched by the SDK, and with batching off beside) on one worker, and the
 *    time from starting `phala dev` to the first successful query (goal 15 s),
 *  - for comparison, the commands and queries one worker takes per second on one core, in process.
 *
 * Transaction counts can be overridden with BENCH_TX_SR25519, BENCH_TX_ED25519 and
 * BENCH_LATENCY_ROUNDS.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnNode, type SpawnedNode } from "../test/helpers/spawn-node.ts";
import { benchSignatureVerification } from "./sig-verify.ts";
import { measureSubmitToFinalizedLatency, measureTransferThroughput } from "./chain-load.ts";
import { benchSync } from "../packages/pruntime/bench/sync.ts";
import type { ContractBenchResult } from "./contracts.ts";
import { benchWorkerOneCore } from "./worker-one-core.ts";

const GOALS = {
  ratio: 0.5,
  p50Ms: 500,
  pruntimeEmptyBlocksPerSec: 10_000,
  pruntimeTenMsgBlocksPerSec: 2_000,
  contractCommandsPerSec: 1_000,
  queryP50Ms: 2,
  queriesPerSec: 3_000,
  devStartToFirstQuerySeconds: 15,
} as const;
/**
 * Transfers per JSON-RPC batch in the throughput runs. A load generator (an exchange's hot
 * wallet, a bridge relayer) batches; one frame per call costs this machine's shared cores
 * more in the client than in the node. The unbatched figure is reported alongside.
 */
const SUBMIT_BATCH = 32;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const CONTRACTS_BENCH = fileURLToPath(new URL("./contracts.ts", import.meta.url));

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

const BASE = mkdtempSync(join(tmpdir(), "phala-bench-"));
let node: SpawnedNode | undefined;
/** Last resort if we exit without reaching the cleanup in `finally`. */
const killNodeSync = () => {
  if (node && node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill("SIGKILL");
};
process.on("exit", () => {
  killNodeSync();
  rmSync(BASE, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    killNodeSync();
    process.exit(130);
  });
}

/**
 * The contract figures with the SDK client in a fresh process, as a dApp's server would run it:
 * in this process the SCALE codecs, hex and envelope code are already compiled for the shapes of
 * the in-process pRuntime phases, and the client measured ~30% more CPU per query here.
 */
async function benchContractsInChild(): Promise<ContractBenchResult> {
  const child = spawn(process.execPath, ["--import", "tsx", CONTRACTS_BENCH], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the contracts bench exited with ${code}`);
  return JSON.parse(out) as ContractBenchResult;
}

async function main(): Promise<void> {
  const started = performance.now();
  log("signature verification (single core)");
  // Best of two runs: other processes on the machine only ever slow a run down.
  const [a, b] = [await benchSignatureVerification(), await benchSignatureVerification()];
  const sig = { sr25519: Math.max(a.sr25519, b.sr25519), ed25519: Math.max(a.ed25519, b.ed25519), ecdsa: Math.max(a.ecdsa, b.ecdsa) };
  log(`verifications/s: ${JSON.stringify(sig)}`);

  // Enough transactions for a few seconds of work at the goal rate, bounded so each phase
  // stays under ~20 s even well below the goal; at most 6000 are in flight (the pool has 8192
  // ready slots), so a run measures a sustained rate, not one burst.
  const scaled = (rate: number) => Math.max(300, Math.min(20_000, Math.round(rate * GOALS.ratio * 6)));
  const counts = {
    sr25519: envInt("BENCH_TX_SR25519", scaled(sig.sr25519)),
    ed25519: envInt("BENCH_TX_ED25519", scaled(sig.ed25519)),
  };
  const latencyRounds = envInt("BENCH_LATENCY_ROUNDS", 200);

  log("pRuntime sync (in process, real proofs and certificates)");
  const syncRuns = [benchSync(), benchSync()];
  const pruntimeSync = {
    emptyBlocksPerSec: Math.max(...syncRuns.map((r) => r.emptyBlocksPerSec)),
    tenMsgBlocksPerSec: Math.max(...syncRuns.map((r) => r.tenMsgBlocksPerSec)),
    lightClientEmptyBlocksPerSec: Math.max(...syncRuns.map((r) => r.lightClientEmptyBlocksPerSec)),
    lightClientTenMsgBlocksPerSec: Math.max(...syncRuns.map((r) => r.lightClientTenMsgBlocksPerSec)),
  };
  log(`pRuntime sync: ${JSON.stringify(pruntimeSync)}`);

  log("one worker's commands and queries (in process, one core)");
  const workerOneCore = await benchWorkerOneCore();
  log(`one worker, one core: ${JSON.stringify(workerOneCore)}`);

  log("spawning dev node");
  node = await spawnNode({
    args: ["--dev", "--base-path", BASE, "--rpc-port", "0", "--block-interval-ms", "1000", "--log", "info"],
    basePath: BASE,
  });
  log(`node up at ${node.wsUrl} (pid ${node.proc.pid})`);

  type Throughput = Awaited<ReturnType<typeof measureTransferThroughput>>;
  const throughput = {} as Record<"sr25519" | "ed25519", Throughput>;
  const throughputRuns = {} as Record<"sr25519" | "ed25519", { warmUp: Throughput[]; measured: Throughput[]; unbatched: Throughput }>;
  for (const type of ["ed25519", "sr25519"] as const) {
    // A node that has run for a while has its hot paths compiled: two passes warm it up (the
    // second is still faster than the first) and are reported but not counted. Then best of
    // three: other processes on this machine only ever slow a run down (the verification rate
    // is a best of two for the same reason).
    const opts = { timeoutMs: 40_000, batch: SUBMIT_BATCH };
    const warmUp: Throughput[] = [];
    for (let i = 0; i < 2; i++) {
      warmUp.push(await measureTransferThroughput(node.wsUrl, type, counts[type], opts));
      log(`${type} warm-up: ${JSON.stringify(warmUp[i])}`);
    }
    const measured: Throughput[] = [];
    for (let i = 0; i < 3; i++) {
      measured.push(await measureTransferThroughput(node.wsUrl, type, counts[type], opts));
      log(`${type}: ${JSON.stringify(measured[i])}`);
    }
    // One request per WebSocket message, as polkadot-js submits: reported for comparison.
    const unbatched = await measureTransferThroughput(node.wsUrl, type, counts[type], { timeoutMs: 40_000, batch: 1 });
    log(`${type} unbatched: ${JSON.stringify(unbatched)}`);
    throughput[type] = measured.reduce((a, b) => (b.transfersPerSecond > a.transfersPerSecond ? b : a));
    throughputRuns[type] = { warmUp, measured, unbatched };
  }

  log(`latency: ${latencyRounds} sequential submit-and-watch transfers`);
  const latency = await measureSubmitToFinalizedLatency(node.wsUrl, latencyRounds);
  log(`latency: ${JSON.stringify(latency)}`);

  await node.kill();
  node = undefined;
  log("confidential contracts (node, gatekeeper, two workers as processes; the client in a process of its own)");
  const contracts = await benchContractsInChild();
  log(`contracts: ${JSON.stringify(contracts)}`);

  const tps = { sr25519: throughput.sr25519.transfersPerSecond, ed25519: throughput.ed25519.transfersPerSecond };
  const ratio = {
    sr25519: Math.round((tps.sr25519 / sig.sr25519) * 1000) / 1000,
    ed25519: Math.round((tps.ed25519 / sig.ed25519) * 1000) / 1000,
  };
  const meetsGoals = {
    ratio: { sr25519: ratio.sr25519 >= GOALS.ratio, ed25519: ratio.ed25519 >= GOALS.ratio },
    p50Ms: latency.p50 <= GOALS.p50Ms,
    pruntimeSync: pruntimeSync.emptyBlocksPerSec >= GOALS.pruntimeEmptyBlocksPerSec && pruntimeSync.tenMsgBlocksPerSec >= GOALS.pruntimeTenMsgBlocksPerSec,
    contracts:
      contracts.commandsPerSecond >= GOALS.contractCommandsPerSec &&
      contracts.query.p50Ms <= GOALS.queryP50Ms &&
      contracts.query.queriesPerSecond >= GOALS.queriesPerSec &&
      contracts.devStartToFirstQuerySeconds <= GOALS.devStartToFirstQuerySeconds,
  };
  const result = {
    signatureVerificationPerSecond: sig,
    transfersFinalizedPerSecond: tps,
    transfersFinalizedPerSecondUnbatched: { sr25519: throughputRuns.sr25519.unbatched.transfersPerSecond, ed25519: throughputRuns.ed25519.unbatched.transfersPerSecond },
    ratio,
    submitToFinalizedLatencyMs: latency,
    pruntimeSyncBlocksPerSecond: pruntimeSync,
    contracts,
    /** Not goals: what one worker's core takes, next to the dev network's shared-machine figures. */
    workerOneCore,
    goals: GOALS,
    meetsGoals: { ...meetsGoals, all: meetsGoals.ratio.sr25519 && meetsGoals.ratio.ed25519 && meetsGoals.p50Ms && meetsGoals.pruntimeSync && meetsGoals.contracts },
    details: {
      transferSubmission: `pre-signed, over 3 WebSocket connections, in JSON-RPC batches of ${SUBMIT_BATCH} author_submitExtrinsic calls, at most 6000 not yet finalized; best of three runs after two warm-up runs (all in throughputRuns)`,
      throughput,
      throughputRuns,
    },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}` },
    benchSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
} catch (e) {
  log(`failed: ${(e as Error).stack ?? String(e)}`);
  if (node) log(`node output (tail):\n${node.output().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  if (node) await node.kill().catch(() => killNodeSync());
}
