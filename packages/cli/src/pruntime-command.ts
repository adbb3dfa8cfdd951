import { resolve } from "node:path";
import { createLogger, type LogLevel } from "@phala-ts/node";
import { startPruntime, DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, DEFAULT_BEACON_INTERVAL_BLOCKS, DEFAULT_LISTENER_LIMITS, PRUNTIME_TEES } from "@phala-ts/pruntime";
import { parseFlags, intFlag, UsageError } from "./args.ts";

export const PRUNTIME_HELP = `phala pruntime: run a pRuntime, the confidential runtime of a worker

  --data-dir <dir>             where sealed keys and checkpoints live (required)
  --port <port>                operator HTTP API port, for pHost (default 8000); keep it private
  --host <addr>                interface of the operator API (default 127.0.0.1)
  --public-port <port>         also serve the public API (queries, results, status) on this port;
                               advertise it with phost --endpoint, and expose only this one
  --public-host <addr>         interface of the public API (default 0.0.0.0)
  --tee <${PRUNTIME_TEES.join("|")}>  attestation provider (default dev: software evidence, dev chains only)
  --checkpoint-interval <n>    seal a checkpoint at least every n blocks (default ${DEFAULT_CHECKPOINT_INTERVAL_BLOCKS})
  --beacon-interval <n>        gatekeepers' random beacon every n blocks (default ${DEFAULT_BEACON_INTERVAL_BLOCKS})
  --max-connections <n>        open connections per listener (default ${DEFAULT_LISTENER_LIMITS.connectionsMax}); more are closed
                               at accept. Keep ulimit -n above it
  --max-connections-per-ip <n> open connections from one address (IPv6: one /64) on the public
                               listener (default ${DEFAULT_LISTENER_LIMITS.connectionsPerSourceMax}); raise it behind a reverse proxy
  --headers-timeout <s>        seconds a client has to send a request's headers (default ${DEFAULT_LISTENER_LIMITS.headersTimeoutMs / 1000})
  --request-timeout <s>        seconds a client has to send a whole request, body included
                               (default ${DEFAULT_LISTENER_LIMITS.requestTimeoutMs / 1000}); past it: 408 and the connection closes
  --keep-alive-timeout <s>     seconds an idle connection stays open after an answer (default ${DEFAULT_LISTENER_LIMITS.keepAliveTimeoutMs / 1000})
  --log <level>                debug, info, warn, error (default info)
`;

/** Longest deadline the flags accept: an hour is far past any honest request, and past it a bound is no bound. */
const TIMEOUT_FLAG_SECONDS_MAX = 3600;
/** Most connections the flags accept; far beyond what one process can serve, and below any fd limit a kernel allows. */
const CONNECTIONS_FLAG_MAX = 1_000_000;

export async function startPruntimeFromArgs(argv: string[]) {
  const { flags, positional } = parseFlags(argv, {
    boolean: [],
    string: [
      "data-dir",
      "port",
      "host",
      "public-port",
      "public-host",
      "tee",
      "checkpoint-interval",
      "beacon-interval",
      "max-connections",
      "max-connections-per-ip",
      "headers-timeout",
      "request-timeout",
      "keep-alive-timeout",
      "log",
    ],
  });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const dataDir = flags.get("data-dir");
  if (typeof dataDir !== "string") throw new UsageError("say where pRuntime keeps its sealed state: --data-dir <dir>");
  const tee = (flags.get("tee") as string | undefined) ?? "dev";
  if (!(PRUNTIME_TEES as readonly string[]).includes(tee)) throw new UsageError(`--tee must be one of ${PRUNTIME_TEES.join(", ")}`);
  const level = ((flags.get("log") as string | undefined) ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError("--log must be debug, info, warn or error");
  const seconds = (name: string, dflt: number) => intFlag(flags, name, dflt / 1000, 1, TIMEOUT_FLAG_SECONDS_MAX) * 1000;
  const listenerLimits = {
    connectionsMax: intFlag(flags, "max-connections", DEFAULT_LISTENER_LIMITS.connectionsMax, 1, CONNECTIONS_FLAG_MAX),
    connectionsPerSourceMax: intFlag(flags, "max-connections-per-ip", DEFAULT_LISTENER_LIMITS.connectionsPerSourceMax, 1, CONNECTIONS_FLAG_MAX),
    headersTimeoutMs: seconds("headers-timeout", DEFAULT_LISTENER_LIMITS.headersTimeoutMs),
    requestTimeoutMs: seconds("request-timeout", DEFAULT_LISTENER_LIMITS.requestTimeoutMs),
    keepAliveTimeoutMs: seconds("keep-alive-timeout", DEFAULT_LISTENER_LIMITS.keepAliveTimeoutMs),
  };
  if (listenerLimits.requestTimeoutMs < listenerLimits.headersTimeoutMs) throw new UsageError("--request-timeout must be at least --headers-timeout");
  const logger = createLogger({ level, scope: "pruntime" });
  const running = await startPruntime({
    dataDir: resolve(dataDir),
    port: intFlag(flags, "port", 8000, 0, 65535),
    host: (flags.get("host") as string | undefined) ?? "127.0.0.1",
    ...(flags.has("public-port") ? { publicPort: intFlag(flags, "public-port", 0, 0, 65535) } : {}),
    publicHost: (flags.get("public-host") as string | undefined) ?? "0.0.0.0",
    tee,
    checkpointInterval: intFlag(flags, "checkpoint-interval", DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, 1, 1_000_000),
    beaconInterval: intFlag(flags, "beacon-interval", DEFAULT_BEACON_INTERVAL_BLOCKS, 1, 1_000_000),
    listenerLimits,
    logger,
    installSignalHandlers: true,
  });
  logger.info("pRuntime API listening", { url: `http://${(flags.get("host") as string | undefined) ?? "127.0.0.1"}:${running.port}` });
  if (running.publicPort !== undefined) {
    logger.info("pRuntime public API listening", { url: `http://${(flags.get("public-host") as string | undefined) ?? "0.0.0.0"}:${running.publicPort}` });
  }
  return running;
}
