import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_ACCOUNT_NAMES, keyPairFromUri, type KeyPair } from "@phala-ts/primitives";
import { NodeService, createLogger, loadChainSpec, DEFAULT_RPC_LIMITS, DEFAULT_RPC_PORT, RPC_METHODS_POLICIES, type LogLevel, type RpcMethodsPolicy } from "@phala-ts/node";
import { parseFlags, intFlag, UsageError } from "./args.ts";

const DEV_KEY_FLAGS = DEV_ACCOUNT_NAMES.map((n) => n.toLowerCase());
/** Most RPC connections the flag accepts: far past what one node serves, below any descriptor limit a kernel allows. */
const RPC_CONNECTIONS_FLAG_MAX = 1_000_000;

export const NODE_HELP = `phala node: run a Phala chain node

  --dev                  development chain: --chain dev --alice --validator, on a temporary
                         directory unless --base-path is given
  --chain <id|file>      built-in chain (dev, local) or a chain spec JSON file
  --base-path <dir>      where the database lives (chains/<id>/db below it)
  --tmp                  run on a temporary directory, deleted on exit
  --rpc-port <port>      JSON-RPC over WebSocket and HTTP (default ${DEFAULT_RPC_PORT})
  --rpc-external         listen on all interfaces instead of 127.0.0.1
  --rpc-methods <safe|unsafe|auto>  refuse methods that change the node or expose its peers
                         (author_rotateKeys, system_peers, ...) in safe mode; auto (default):
                         unsafe on 127.0.0.1, safe with --rpc-external, as Substrate does
  --rpc-max-connections <n> open RPC connections, WebSocket and HTTP (default ${DEFAULT_RPC_LIMITS.maxConnections})
  --validator            author and finalize blocks (needs a key)
  --key-file <file>      file holding the validator's ed25519 secret (seed hex, mnemonic or //URI)
  --alice, --bob, …      use a dev account's ed25519 key as the validator key
  --block-interval-ms <n> produce an empty block at least this often (default 6000)
  --state-pruning <n|archive> keep the state of the last n blocks (default 256)
  --log <level>          debug, info, warn, error (default info)
`;

export interface RunningNode {
  node: NodeService;
  stop(): Promise<void>;
}

function validatorKey(flags: Map<string, string | true>, dev: boolean): KeyPair | undefined {
  const devFlags = DEV_KEY_FLAGS.filter((f) => flags.has(f));
  if (devFlags.length > 1) throw new UsageError(`pick one of ${devFlags.map((f) => "--" + f).join(", ")}`);
  const file = flags.get("key-file");
  if (devFlags.length && typeof file === "string") throw new UsageError("--key-file and a dev key flag exclude each other");
  if (typeof file === "string") {
    let secret: string;
    try {
      secret = readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new UsageError(`--key-file ${file} cannot be read (${(e as NodeJS.ErrnoException).code})`);
    }
    return keyPairFromUri(secret, "ed25519");
  }
  const name = devFlags[0] ?? (dev ? "alice" : undefined);
  if (!name) return undefined;
  return keyPairFromUri(`//${name[0].toUpperCase()}${name.slice(1)}`, "ed25519");
}

/** Starts a node from command-line flags; used by `phala node` and `phala dev`. */
export async function startNodeFromArgs(argv: string[], opts: { installSignalHandlers: boolean } = { installSignalHandlers: true }): Promise<RunningNode> {
  const { flags, positional } = parseFlags(argv, {
    boolean: ["dev", "tmp", "validator", "rpc-external", ...DEV_KEY_FLAGS],
    string: ["chain", "base-path", "rpc-port", "rpc-methods", "rpc-max-connections", "key-file", "block-interval-ms", "state-pruning", "log"],
  });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const dev = flags.has("dev");
  const chainId = (flags.get("chain") as string | undefined) ?? (dev ? "dev" : undefined);
  if (!chainId) throw new UsageError("say which chain to run: --dev, or --chain <dev|local|file>");
  const level = ((flags.get("log") as string | undefined) ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError("--log must be debug, info, warn or error");
  const logger = createLogger({ level });
  const spec = loadChainSpec(chainId);

  const basePathFlag = flags.get("base-path") as string | undefined;
  if (basePathFlag && flags.has("tmp")) throw new UsageError("--tmp and --base-path exclude each other");
  const temporary = flags.has("tmp") || (dev && !basePathFlag) || (!basePathFlag && false);
  if (!basePathFlag && !temporary) throw new UsageError("say where to keep the database: --base-path <dir>, or --tmp");
  const basePath = temporary ? mkdtempSync(join(tmpdir(), "phala-node-")) : basePathFlag!;

  const rpcMethods = (flags.get("rpc-methods") as string | undefined) ?? "auto";
  if (!(RPC_METHODS_POLICIES as readonly string[]).includes(rpcMethods)) throw new UsageError(`--rpc-methods must be one of ${RPC_METHODS_POLICIES.join(", ")}`);
  const rpcMaxConnections = intFlag(flags, "rpc-max-connections", DEFAULT_RPC_LIMITS.maxConnections, 1, RPC_CONNECTIONS_FLAG_MAX);

  const key = validatorKey(flags, dev);
  const authoring = dev || flags.has("validator");
  if (flags.has("validator") && !key) throw new UsageError("--validator needs a key: --key-file <file> or a dev flag such as --alice");

  const pruning = (flags.get("state-pruning") as string | undefined) ?? "256";
  const statePruningBlocks = pruning === "archive" ? Infinity : Number(pruning);
  if (!(statePruningBlocks === Infinity || (Number.isSafeInteger(statePruningBlocks) && statePruningBlocks >= 1))) {
    throw new UsageError("--state-pruning must be a positive number of blocks or 'archive'");
  }

  const node = await NodeService.start(
    {
      spec,
      basePath,
      rpcHost: flags.has("rpc-external") ? "0.0.0.0" : "127.0.0.1",
      rpcPort: intFlag(flags, "rpc-port", DEFAULT_RPC_PORT, 0, 65535),
      rpcMethods: rpcMethods as RpcMethodsPolicy,
      rpcLimits: { maxConnections: rpcMaxConnections },
      validatorKey: authoring ? key : undefined,
      author: { blockIntervalMs: intFlag(flags, "block-interval-ms", 6000, 10, 3_600_000) },
      statePruningBlocks,
    },
    { logger },
  );
  logger.info(temporary ? "running on a temporary directory" : "database", { basePath });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= node.stop().finally(() => {
      if (temporary) rmSync(basePath, { recursive: true, force: true });
    }));
  if (opts.installSignalHandlers) {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        logger.info("shutting down", { signal: sig });
        void stop().then(() => process.exit(0));
      });
    }
  }
  return { node, stop };
}
