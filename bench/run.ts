/**
 * `npm run bench`: prints one JSON object to stdout (progress goes to stderr). Every figure is
 * the median of its measured runs beside the best one (bench/stats.ts), each phase says in its
 * `description` what its figures include, and goals are judged on medians. Phases (all by
 * default; pick some with `npm run bench -- sig,trie` or BENCH_PHASES=sig,trie):
 *  - sig: single-core signature verification over BENCH_ACCOUNTS distinct keys (and one key beside);
 *  - sync: pRuntime light-client sync in finalized blocks/s: empty and cheap messages over a small
 *    state (packages/pruntime/bench/sync.ts), and empty and a realistic mix (registry, cluster,
 *    contract commands run in the VM) over BENCH_SYNC_STATE_KEYS (1,000,000) keys
 *    (packages/pruntime/bench/sync-mixed.ts, BENCH_SYNC_BLOCKS blocks of each);
 *  - worker: the commands and queries one worker takes per second on one core, in process, with
 *    the real sealer and checkpoints;
 *  - trie: trie point reads, cold (fresh process) and warm;
 *  - transfers: finalized transfers/s against a freshly spawned dev node from BENCH_ACCOUNTS
 *    (default 10,000) distinct funded accounts, one transfer each per run, per signature type;
 *    the funding run (six hot dev senders) is reported beside as the few-senders case;
 *  - latency: submit-to-finalized latency of BENCH_LATENCY_ROUNDS sequential transfers;
 *  - contracts: confidential contracts on a network of real processes (commands/s, query p50 and rate);
 *  - devstart: `phala dev` start to first query, from a cold and from a warm bundle cache.
 * BENCH_RUNS sets the measured runs of the transfer, sync and worker phases (default 3).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KeyType } from "@phala-ts/primitives";
import { spawnNode, type SpawnedNode } from "../test/helpers/spawn-node.ts";
import { benchAccount, benchSignatureVerification, type SignatureBenchResult } from "./sig-verify.ts";
import { ManyAccountTransfers, measureSubmitToFinalizedLatency, type ThroughputResult } from "./chain-load.ts";
import { benchSync } from "../packages/pruntime/bench/sync.ts";
import type { MixedSyncResult } from "../packages/pruntime/bench/sync-mixed.ts";
import { devStartToFirstQuery, type ContractBenchResult } from "./contracts.ts";
import { benchWorkerOneCore } from "./worker-one-core.ts";
import { benchTrieRead } from "../packages/trie/bench/read.bench.ts";
import { envInt, figure } from "./stats.ts";

/**
 * Issue 12's goals where it sets them (transfers at 1.0× one core's verification rate over
 * 10,000 senders, 3,000 encrypted commands/s, 8,000 queries/s for one worker, `phala dev` to the
 * first query in 4 s warm); the earlier ones elsewhere. The cold start is judged on the old 15 s.
 */
const GOALS = {
  ratio: 1.0,
  p50Ms: 500,
  pruntimeEmptyBlocksPerSec: 10_000,
  pruntimeTenMsgBlocksPerSec: 2_000,
  contractCommandsPerSec: 3_000,
  queryP50Ms: 2,
  queriesPerSec: 8_000,
  devStartWarmSeconds: 4,
  devStartColdSeconds: 15,
} as const;
/**
 * Transfers per JSON-RPC batch in the throughput runs. A load generator (an exchange's hot
 * wallet, a bridge relayer) batches; one frame per call costs this machine's shared cores
 * more in the client than in the node. The unbatched figure is reported alongside.
 */
const SUBMIT_BATCH = 32;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const CONTRACTS_BENCH = fileURLToPath(new URL("./contracts.ts", import.meta.url));
const SYNC_MIXED_BENCH = fileURLToPath(new URL("../packages/pruntime/bench/sync-mixed.ts", import.meta.url));

const PHASES = ["sig", "sync", "worker", "trie", "transfers", "latency", "contracts", "devstart"] as const;
type Phase = (typeof PHASES)[number];

/** The phases asked for on the command line (`-- sig,trie`) or in BENCH_PHASES; all by default. */
function selectedPhases(): Set<Phase> {
  const arg = process.argv.slice(2).join(",") || process.env.BENCH_PHASES || "";
  if (arg === "") return new Set(PHASES);
  const picked = arg.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const unknown = picked.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new RangeError(`unknown bench phase(s) ${unknown.join(", ")}; the phases are ${PHASES.join(", ")}`);
  return new Set(picked as Phase[]);
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

/** Heap for the large-state sync bench: a million-key state in memory measured ~2.1 GB of RSS. */
const SYNC_MIXED_HEAP_MB = 8192;

async function benchMixedSyncInChild(): Promise<MixedSyncResult> {
  const child = spawn(process.execPath, [`--max-old-space-size=${SYNC_MIXED_HEAP_MB}`, "--import", "tsx", SYNC_MIXED_BENCH], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the large-state sync bench exited with ${code}`);
  return JSON.parse(out) as MixedSyncResult;
}

async function main(): Promise<void> {
  const started = performance.now();
  const phases = selectedPhases();
  const runs = envInt("BENCH_RUNS", 3);
  const accounts = envInt("BENCH_ACCOUNTS", 10_000);
  const result: Record<string, unknown> = { phases: [...phases] };
  const meetsGoals: Record<string, boolean> = {};

  let sig: SignatureBenchResult | undefined;
  if (phases.has("sig")) {
    log(`signature verification (single core, ${accounts} distinct keys)`);
    sig = benchSignatureVerification({ keys: accounts, runs });
    log(`verifications/s (median): ${JSON.stringify(Object.fromEntries(Object.entries(sig.distinctKeys).map(([k, f]) => [k, f.median])))}`);
    result.signatureVerificationPerSecond = sig;
  }

  if (phases.has("sync")) {
    log("pRuntime sync (in process, real proofs and certificates)");
    const pruntimeSync = benchSync({ runs });
    log(`pRuntime sync: ${JSON.stringify(pruntimeSync)}`);
    log("pRuntime sync over a large state with a realistic mix (a process of its own: the state takes GBs)");
    const large = await benchMixedSyncInChild();
    log(`pRuntime sync, large state: ${JSON.stringify(large)}`);
    result.pruntimeSyncBlocksPerSecond = { smallStateCheapMessages: pruntimeSync, largeStateMixed: large };
    meetsGoals.pruntimeSync = pruntimeSync.emptyBlocksPerSec.median >= GOALS.pruntimeEmptyBlocksPerSec && pruntimeSync.tenMsgBlocksPerSec.median >= GOALS.pruntimeTenMsgBlocksPerSec;
    // The same goals on the realistic figures: ten messages a block of every kind, a million-key state.
    meetsGoals.pruntimeSyncLargeStateMixed = large.emptyBlocksPerSec.median >= GOALS.pruntimeEmptyBlocksPerSec && large.mixedBlocksPerSec.median >= GOALS.pruntimeTenMsgBlocksPerSec;
  }

  if (phases.has("worker")) {
    log("one worker's commands and queries (in process, one core)");
    const workerOneCore = await benchWorkerOneCore({ rounds: runs });
    log(`one worker, one core: ${JSON.stringify(workerOneCore)}`);
    /** Not goals: what one worker's core takes, next to the dev network's shared-machine figures. */
    result.workerOneCore = workerOneCore;
  }

  if (phases.has("trie")) {
    log("trie point reads (cold: a fresh process per run)");
    result.trieRead = await benchTrieRead(runs);
    log(`trie: ${JSON.stringify(result.trieRead)}`);
  }

  if (phases.has("transfers") || phases.has("latency")) {
    log("spawning dev node");
    node = await spawnNode({
      args: ["--dev", "--base-path", BASE, "--rpc-port", "0", "--block-interval-ms", "1000", "--log", "info"],
      basePath: BASE,
    });
    log(`node up at ${node.wsUrl} (pid ${node.proc.pid})`);
  }

  if (phases.has("transfers") && node) {
    type TypeRuns = { funding: ThroughputResult; warmUp: ThroughputResult; measured: ThroughputResult[]; unbatched: ThroughputResult };
    const perType = {} as Record<"sr25519" | "ed25519", TypeRuns>;
    // A slow run must fail loudly, not hang: far more than the slowest verifier on this machine needs.
    const timeoutMs = Math.max(60_000, accounts * 20);
    for (const type of ["ed25519", "sr25519"] as const satisfies readonly KeyType[]) {
      log(`${type}: deriving ${accounts} bench accounts`);
      const load = new ManyAccountTransfers(node.wsUrl, type, Array.from({ length: accounts }, (_, i) => benchAccount(type, i)));
      log(`${type}: funding them from the six dev accounts`);
      const funding = await load.fund({ timeoutMs, batch: SUBMIT_BATCH });
      log(`${type} funding (6 senders): ${JSON.stringify(funding)}`);
      // A node that has run a while has its hot paths compiled: one pass warms it up and is
      // reported but not counted.
      const opts = { timeoutMs, batch: SUBMIT_BATCH };
      const warmUp = await load.run(opts);
      log(`${type} warm-up: ${JSON.stringify(warmUp)}`);
      const measured: ThroughputResult[] = [];
      for (let i = 0; i < runs; i++) {
        measured.push(await load.run(opts));
        log(`${type}: ${JSON.stringify(measured[i])}`);
      }
      // One request per WebSocket message, as polkadot-js submits: reported for comparison.
      const unbatched = await load.run({ timeoutMs, batch: 1 });
      log(`${type} unbatched: ${JSON.stringify(unbatched)}`);
      perType[type] = { funding, warmUp, measured, unbatched };
    }
    const incomplete = Object.entries(perType).flatMap(([t, r]) => [...r.measured, r.warmUp, r.unbatched].filter((x) => !x.complete).map(() => t));
    const tps = {
      sr25519: figure(perType.sr25519.measured.map((r) => r.transfersPerSecond)),
      ed25519: figure(perType.ed25519.measured.map((r) => r.transfersPerSecond)),
    };
    result.transfersFinalizedPerSecond = {
      description:
        `finalized transfers/s on a fresh dev node (1 s blocks), ${accounts} distinct funded accounts per signature type each sending one transfer per run to one sink account, ` +
        `pre-signed (signing not timed), over 3 WebSocket connections in JSON-RPC batches of ${SUBMIT_BATCH}, at most 6000 not yet finalized; timed from the first send to the finalized head whose state holds the last. ` +
        `Median and best of ${runs} runs after one warm-up run. fewSendersFunding: the run that funded the accounts from the six dev accounts (hot keys), for comparison; unbatched: one call per WebSocket message.`,
      ...tps,
      unbatched: { sr25519: perType.sr25519.unbatched.transfersPerSecond, ed25519: perType.ed25519.unbatched.transfersPerSecond },
      fewSendersFunding: { sr25519: perType.sr25519.funding.transfersPerSecond, ed25519: perType.ed25519.funding.transfersPerSecond },
      ...(incomplete.length > 0 ? { incompleteRuns: incomplete } : {}),
      runs: perType,
    };
    if (sig) {
      // The goal compares like with like: both over as many distinct keys, both medians.
      const ratio = {
        sr25519: Math.round((tps.sr25519.median / sig.distinctKeys.sr25519.median) * 1000) / 1000,
        ed25519: Math.round((tps.ed25519.median / sig.distinctKeys.ed25519.median) * 1000) / 1000,
      };
      result.ratio = ratio;
      meetsGoals.ratio = ratio.sr25519 >= GOALS.ratio && ratio.ed25519 >= GOALS.ratio;
    }
  }

  if (phases.has("latency") && node) {
    const latencyRounds = envInt("BENCH_LATENCY_ROUNDS", 200);
    log(`latency: ${latencyRounds} sequential submit-and-watch transfers`);
    const latency = await measureSubmitToFinalizedLatency(node.wsUrl, latencyRounds);
    log(`latency: ${JSON.stringify(latency)}`);
    result.submitToFinalizedLatencyMs = { description: `${latencyRounds} sr25519 transfers from dev Alice, each sent after the previous one was finalized (1 s blocks), submit to "finalized" notification`, ...latency };
    meetsGoals.p50Ms = latency.p50 <= GOALS.p50Ms;
  }

  if (node) {
    await node.kill();
    node = undefined;
  }

  if (phases.has("contracts")) {
    log("confidential contracts (node, gatekeeper, two workers as processes; the client in a process of its own)");
    const contracts = await benchContractsInChild();
    log(`contracts: ${JSON.stringify(contracts)}`);
    result.contracts = contracts;
    meetsGoals.contracts =
      contracts.commandsPerSecond.median >= GOALS.contractCommandsPerSec && contracts.query.p50Ms <= GOALS.queryP50Ms && contracts.query.queriesPerSecond.median >= GOALS.queriesPerSec;
  }

  if (phases.has("devstart")) {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      log(`phala dev start to first query: cold bundle cache (${i + 1}/${runs})`);
      cold.push(await devStartToFirstQuery("cold"));
      log(`phala dev start to first query: warm bundle cache (${i + 1}/${runs})`);
      warm.push(await devStartToFirstQuery("warm"));
      log(`cold ${cold[i].toFixed(1)} s, warm ${warm[i].toFixed(1)} s`);
    }
    const devStart = {
      description:
        "seconds from spawning `phala dev` to the first answered query of a freshly built, uploaded and instantiated contract. cold: node_modules/.cache/phala-dev deleted first, " +
        `so the CLI bundle is built (as after a checkout or any source change); warm: the bundle the cold start left. Median and best (lowest) of ${runs} each, alternating.`,
      cold: figure(cold, { lowerIsBetter: true, digits: 1 }),
      warm: figure(warm, { lowerIsBetter: true, digits: 1 }),
    };
    result.devStartToFirstQuerySeconds = devStart;
    meetsGoals.devStart = devStart.cold.median <= GOALS.devStartColdSeconds && devStart.warm.median <= GOALS.devStartWarmSeconds;
  }

  result.goals = GOALS;
  result.meetsGoals = { ...meetsGoals, allMeasured: Object.values(meetsGoals).every((v) => v), judgedOn: "medians" };
  result.machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadavg() };
  result.benchSeconds = Math.round((performance.now() - started) / 100) / 10;
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
