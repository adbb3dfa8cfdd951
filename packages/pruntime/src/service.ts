/**
 * Wires pRuntime together (the one place that does): data-directory lock, dev sealer, core
 * (loaded from its checkpoint), attestation provider and HTTP server. `close()` seals a
 * last checkpoint, so a clean stop loses nothing and a restart continues from there.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { assertSupportedTee, createAttestationProvider } from "./attestation.ts";
import type { ContractRunner } from "./contract-runner.ts";
import { createThreadedVmRunner, type ThreadedVmRunner } from "./threaded-runner.ts";
import { PruntimeError } from "./errors.ts";
import { createPruntimeServer } from "./http-api.ts";
import type { ConnectionCounts, ListenerLimits } from "./listener-limits.ts";
import { QueryScheduler, type QuerySchedulerLimits } from "./query-scheduler.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { PruntimeCore } from "./pruntime.ts";
import { DevSealer } from "./sealer.ts";

export interface PruntimeOptions {
  /** Where sealed state lives; created (mode 0700) if missing. */
  dataDir: string;
  /** HTTP port; 0 picks a free one (see the returned `port`). */
  port: number;
  /** Interface to listen on; pHost runs next to pRuntime, so loopback by default. */
  host?: string;
  /**
   * A second listener that serves only the public routes (queries, results, status), for
   * users; 0 picks a free one. The operator `port` then never needs to face the internet.
   */
  publicPort?: number;
  /** Interface of the public listener (default 0.0.0.0: it exists to be reached). */
  publicHost?: string;
  /** Attestation provider: only "dev" so far. */
  tee?: string;
  /** Seal a checkpoint at least every this many blocks (default 1000). */
  checkpointInterval?: number;
  /** Blocks between random beacons (default 10); must be the same on every pRuntime of a network. */
  beaconInterval?: number;
  logger?: Logger;
  /** The dev measurement to claim; default: the hash of this package's sources. */
  measurement?: Uint8Array;
  /** Checkpoint and exit on SIGTERM/SIGINT (the CLI sets this; tests do not). */
  installSignalHandlers?: boolean;
  /** The contract runner; by default the QuickJS contract VM, commands on a thread of their own. */
  runner?: ContractRunner;
  /** Wall clock for query certificates (unix ms); default Date.now. */
  clock?: () => number;
  /**
   * Connection limits and deadlines of both listeners (listener-limits.ts). The per-source bound
   * applies to the public listener only: everything on the operator port comes from pHost and
   * the operator, often from one address.
   */
  listenerLimits?: Partial<ListenerLimits>;
  /** Bounds of the query queue both listeners share (query-scheduler.ts). */
  queryLimits?: Partial<QuerySchedulerLimits>;
}

export interface RunningPruntime {
  readonly port: number;
  /** The public listener's port, when one was asked for. */
  readonly publicPort?: number;
  readonly core: PruntimeCore;
  /** Where queries wait for their turn (both listeners). */
  readonly queries: QueryScheduler;
  /** What each listener's connection limits did. */
  readonly connections: { readonly operator: ConnectionCounts; readonly public?: ConnectionCounts };
  close(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_INTERVAL_BLOCKS = 1000;
export const DEFAULT_BEACON_INTERVAL_BLOCKS = 10;
const LOCK_FILE = "pruntime.lock";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Two pRuntimes on one data directory would sign conflicting egress with one key: refuse. */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  try {
    writeFileSync(path, String(process.pid), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new PruntimeError("SEAL_IO", `cannot create ${path} (${(e as NodeJS.ErrnoException).code}); check the data directory's permissions`, { cause: e });
    }
    const pid = Number(readFileSync(path, "utf8").trim());
    if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) {
      throw new PruntimeError("DATA_DIR_LOCKED", `another pRuntime (pid ${pid}) uses ${dataDir}; stop it first, or delete ${path} if no pRuntime runs`, { details: { pid } });
    }
    writeFileSync(path, String(process.pid), { mode: 0o600 });
  }
  return () => rmSync(path, { force: true });
}

/** Starts `server` on host:port and adds it to `servers` (all closed together); resolves to the bound port. */
async function listen(servers: Server[], server: Server, port: number, host: string, log: Logger): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  servers.push(server);
  // accept() can fail at run time (EMFILE when out of descriptors): without a listener that would crash pRuntime.
  server.on("error", (e: NodeJS.ErrnoException) => log.error("listener error; the listener keeps running", { port, code: e.code, reason: e.message }));
  return (server.address() as AddressInfo).port;
}

export async function startPruntime(options: PruntimeOptions): Promise<RunningPruntime> {
  const log = options.logger ?? silentLogger;
  const tee = options.tee ?? "dev";
  assertSupportedTee(tee);
  const sealer = new DevSealer(options.dataDir);
  const unlock = lockDataDir(options.dataDir);
  const servers: Server[] = [];
  let ownRunner: ThreadedVmRunner | undefined;
  try {
    ownRunner = options.runner === undefined ? await createThreadedVmRunner({}, log.child("vm")) : undefined;
    const runner = options.runner ?? ownRunner;
    const core = PruntimeCore.open(
      {
        checkpointIntervalBlocks: options.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL_BLOCKS,
        beaconIntervalBlocks: options.beaconInterval ?? DEFAULT_BEACON_INTERVAL_BLOCKS,
        logger: log,
      },
      { sealer, runner, clock: options.clock },
    );
    const attestation = await createAttestationProvider(tee, core.keys, options.measurement);
    const queries = new QueryScheduler(options.queryLimits);
    const modules = { core, attestation, logger: log.child("http"), queries };
    const operator = createPruntimeServer(modules, "operator", { ...options.listenerLimits, connectionsPerSourceMax: Infinity });
    const port = await listen(servers, operator, options.port, options.host ?? "127.0.0.1", log);
    log.info("pRuntime listening", { host: options.host ?? "127.0.0.1", port, tee, identityKey: core.keys.identityPublicKey });
    let publicPort: number | undefined;
    let publicCounts: ConnectionCounts | undefined;
    if (options.publicPort !== undefined) {
      const server = createPruntimeServer(modules, "public", options.listenerLimits);
      publicCounts = server.connectionCounts;
      publicPort = await listen(servers, server, options.publicPort, options.publicHost ?? "0.0.0.0", log);
      log.info("pRuntime public API listening", { host: options.publicHost ?? "0.0.0.0", port: publicPort });
    }

    let closing: Promise<void> | undefined;
    const onSignal = () => {
      void close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        if (options.installSignalHandlers) {
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
        }
        await Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
              }),
          ),
        );
        try {
          // A batch being applied finishes (within SYNC_EXECUTION_BUDGET_MS plus one block) first.
          await core.idle();
          core.checkpoint();
          log.info("pRuntime stopped; checkpoint sealed", { syncedHeight: core.status().syncedHeight });
        } catch (e) {
          log.error("pRuntime stopped without a final checkpoint; it resumes from the previous one", { reason: (e as Error).message });
        } finally {
          await ownRunner?.close();
          unlock();
        }
      })());
    if (options.installSignalHandlers) {
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    }
    const connections = { operator: operator.connectionCounts, ...(publicCounts !== undefined ? { public: publicCounts } : {}) };
    return { port, ...(publicPort !== undefined ? { publicPort } : {}), core, queries, connections, close };
  } catch (e) {
    for (const server of servers) server.close();
    await ownRunner?.close();
    unlock();
    throw e;
  }
}
