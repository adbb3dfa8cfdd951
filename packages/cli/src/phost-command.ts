import { keyPairFromUri, type KeyPair } from "@phala-ts/primitives";
import { createLogger, type LogLevel } from "@phala-ts/node";
import { startPhost, PHOST_DEFAULTS } from "@phala-ts/phost";
import { parseFlags, intFlag, UsageError } from "./args.ts";

export const PHOST_HELP = `phala phost: carry finalized blocks into a pRuntime and its signed messages back to the chain

  --node <ws-url>          the node's JSON-RPC WebSocket (default ws://127.0.0.1:9944)
  --pruntime <http-url>    the pRuntime's API (default http://127.0.0.1:8000)
  --operator <secret>      account that signs registration and endpoint updates and pays
                           their fees: //Alice-style URI, mnemonic or hex seed (sr25519)
  --operator-type <t>      sr25519 (default) or ed25519
  --endpoint <url>         the worker's public URL advertised on chain (default: --pruntime)
  --batch-size <n>         blocks per sync request (default ${PHOST_DEFAULTS.batchSize})
  --log <level>            debug, info, warn, error (default info)

  pHost keeps no state: stop and restart it at any time.
`;

export async function startPhostFromArgs(argv: string[]) {
  const { flags, positional } = parseFlags(argv, {
    boolean: [],
    string: ["node", "pruntime", "operator", "operator-type", "endpoint", "batch-size", "log"],
  });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const secret = flags.get("operator");
  if (typeof secret !== "string") throw new UsageError("pHost needs an operator account to register the worker: --operator //Alice (or a mnemonic)");
  const type = (flags.get("operator-type") as string | undefined) ?? "sr25519";
  if (type !== "sr25519" && type !== "ed25519") throw new UsageError("--operator-type must be sr25519 or ed25519");
  let operator: KeyPair;
  try {
    operator = keyPairFromUri(secret, type);
  } catch (e) {
    throw new UsageError(`--operator is not a usable secret (${(e as Error).message})`);
  }
  const level = ((flags.get("log") as string | undefined) ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError("--log must be debug, info, warn or error");
  const logger = createLogger({ level, scope: "phost" });
  const pruntimeUrl = (flags.get("pruntime") as string | undefined) ?? "http://127.0.0.1:8000";
  const phost = startPhost({
    nodeUrl: (flags.get("node") as string | undefined) ?? "ws://127.0.0.1:9944",
    pruntimeUrl,
    operator,
    endpointUrl: (flags.get("endpoint") as string | undefined) ?? pruntimeUrl,
    batchSize: intFlag(flags, "batch-size", PHOST_DEFAULTS.batchSize, 1, 4096),
    logger,
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      logger.info("shutting down", { signal: sig });
      void phost.stop().then(() => process.exit(0));
    });
  }
  return phost;
}
