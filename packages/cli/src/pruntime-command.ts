import { resolve } from "node:path";
import { createLogger, type LogLevel } from "@phala-ts/node";
import { startPruntime, DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, DEFAULT_BEACON_INTERVAL_BLOCKS, PRUNTIME_TEES } from "@phala-ts/pruntime";
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
  --log <level>                debug, info, warn, error (default info)
`;

export async function startPruntimeFromArgs(argv: string[]) {
  const { flags, positional } = parseFlags(argv, {
    boolean: [],
    string: ["data-dir", "port", "host", "public-port", "public-host", "tee", "checkpoint-interval", "beacon-interval", "log"],
  });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const dataDir = flags.get("data-dir");
  if (typeof dataDir !== "string") throw new UsageError("say where pRuntime keeps its sealed state: --data-dir <dir>");
  const tee = (flags.get("tee") as string | undefined) ?? "dev";
  if (!(PRUNTIME_TEES as readonly string[]).includes(tee)) throw new UsageError(`--tee must be one of ${PRUNTIME_TEES.join(", ")}`);
  const level = ((flags.get("log") as string | undefined) ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError("--log must be debug, info, warn or error");
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
    logger,
    installSignalHandlers: true,
  });
  logger.info("pRuntime API listening", { url: `http://${(flags.get("host") as string | undefined) ?? "127.0.0.1"}:${running.port}` });
  if (running.publicPort !== undefined) {
    logger.info("pRuntime public API listening", { url: `http://${(flags.get("public-host") as string | undefined) ?? "0.0.0.0"}:${running.publicPort}` });
  }
  return running;
}
