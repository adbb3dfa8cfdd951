import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual, toHex, type KeyPair } from "@phala-ts/primitives";
import { laneNextSequence } from "@phala-ts/runtime/phala";
import { createPhalaRuntime, SystemStorage, type SignatureCheck } from "@phala-ts/runtime";
import { Chain, type ImportedBlock } from "./chain.ts";
import { ChainDb } from "./storage/chain-db.ts";
import { TxPool, type TxWatcher } from "./pool/tx-pool.ts";
import { WorkerSignatureVerifier, type SignatureVerifier } from "./pool/signature-verifier.ts";
import { BlockAuthor, DEFAULT_AUTHOR_OPTIONS, systemClock, type AuthorOptions, type Clock } from "./author/block-author.ts";
import type { LoadedChainSpec } from "./chain-spec.ts";
import { RpcServer, type RpcLimits, type RpcMethodsPolicy } from "./rpc/index.ts";
import { registerNodeRpc } from "./api/register.ts";
import type { Logger } from "./logger.ts";

export interface NodeOptions {
  spec: LoadedChainSpec;
  /** Directory for the database; `chains/<id>/db` below it, as Substrate lays it out. */
  basePath: string;
  rpcHost: string;
  rpcPort: number;
  rpcLimits?: Partial<RpcLimits>;
  /** Substrate's --rpc-methods; default auto (unsafe methods only on loopback). */
  rpcMethods?: RpcMethodsPolicy;
  /** ed25519 finality key; without one the node follows but does not author. */
  validatorKey?: KeyPair;
  author?: Partial<AuthorOptions>;
  statePruningBlocks: number;
}

export type BlockListener = (b: ImportedBlock) => void;
/** Subscribers to new blocks inside the node (RPC subscriptions share one listener each). */
export const BLOCK_LISTENERS_MAX = 10_000;

/**
 * Wires the parts of a node: database, chain, pool, author and RPC. Constructors take
 * (options, modules); this is the one place that chooses the concrete modules.
 */
export class NodeService {
  readonly chain: Chain;
  readonly pool: TxPool;
  readonly rpc: RpcServer;
  readonly author: BlockAuthor | undefined;
  readonly #listeners = new Set<BlockListener>();
  readonly #db: ChainDb;
  readonly #verifier: SignatureVerifier;
  #rpcPort = 0;

  private constructor(
    readonly options: NodeOptions,
    readonly log: Logger,
    clock: Clock,
    verifier: SignatureVerifier | undefined,
  ) {
    this.#verifier = verifier ?? new WorkerSignatureVerifier({ onError: (e) => log.error("signature worker failed", { error: e.message }) });
    const dbPath = join(options.basePath, "chains", options.spec.json.id, "db");
    mkdirSync(dbPath, { recursive: true });
    this.#db = new ChainDb({ path: dbPath });
    this.chain = new Chain({ genesis: options.spec.genesis, validatorSet: options.spec.validatorSet, statePruningBlocks: options.statePruningBlocks }, { db: this.#db, runtime: createPhalaRuntime(), logger: log.child("chain") });
    const chainNonce = (who: Uint8Array) => SystemStorage.Account.get(this.chain.stateAt(this.chain.finalized.hash), who).nonce;
    this.pool = new TxPool({
      validate: (bytes, opts) => this.chain.validateTransaction(bytes, opts),
      chainNonce,
      laneSequence: (lane) => laneNextSequence(this.chain.stateAt(this.chain.finalized.hash), lane),
      bestNumber: () => this.chain.finalized.number,
    });
    const key = options.validatorKey;
    if (key) {
      const index = options.spec.validatorSet.validators.findIndex((v) => bytesEqual(v.public_key, key.publicKey));
      if (index < 0) throw new Error(`the validator key ${toHex(key.publicKey)} is not in this chain's validator set`);
      if (options.spec.validatorSet.validators.length > 1) {
        throw new Error("this chain has several validators; multi-validator Tendermint consensus is not implemented yet, run a single-validator chain");
      }
      this.author = new BlockAuthor(
        { ...DEFAULT_AUTHOR_OPTIONS, ...options.author },
        { chain: this.chain, pool: this.pool, key, validatorSet: options.spec.validatorSet, validatorIndex: index, clock, logger: log.child("author"), onImported: (b) => this.#onImported(b) },
      );
    }
    this.rpc = new RpcServer({ host: options.rpcHost, port: options.rpcPort, limits: options.rpcLimits, methods: options.rpcMethods, logger: log.child("rpc") });
    registerNodeRpc(this.rpc, this);
  }

  static async start(options: NodeOptions, modules: { logger: Logger; clock?: Clock; signatureVerifier?: SignatureVerifier }): Promise<NodeService> {
    const node = new NodeService(options, modules.logger, modules.clock ?? systemClock, modules.signatureVerifier);
    const { port } = await node.rpc.listen();
    node.#rpcPort = port;
    node.author?.start();
    modules.logger.info("node started", {
      chain: options.spec.json.name,
      best: node.chain.finalized.number,
      rpc: `ws://${options.rpcHost}:${port}`,
      validator: options.validatorKey ? "yes" : "no",
    });
    return node;
  }

  get rpcPort(): number {
    return this.#rpcPort;
  }

  onBlock(listener: BlockListener): () => void {
    if (this.#listeners.size >= BLOCK_LISTENERS_MAX) throw new Error("too many block listeners");
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Admits a transaction to the pool (throws PoolError) and wakes the author. The signature
   * is checked on a worker thread, ed25519 too: its ~90 µs are most of what a transfer costs
   * this thread, and batched hand-offs cost less (bench on 2 cores, ed25519 transfers
   * finalized: ~4.0k/s in place, ~4.6-5.4k/s offloaded). Everything else runs in order here.
   */
  async submit(bytes: Uint8Array, watcher?: TxWatcher): Promise<Uint8Array> {
    let check: SignatureCheck | undefined;
    try {
      check = this.chain.signatureCheck(bytes);
    } catch {
      // Malformed or unverifiable: the synchronous path below gives the precise error.
    }
    const head = this.chain.finalized;
    let verified = check ? await this.#verifier.verify(check) : false;
    if (verified && this.chain.finalized !== head) {
      // The era's birth block depends on the head; a new head may mean a different payload.
      try {
        verified = bytesEqual(this.chain.signatureCheck(bytes).payload, check!.payload);
      } catch {
        verified = false;
      }
    }
    const r = this.pool.submit(bytes, watcher, { signatureVerified: verified });
    if (r.status === "ready") this.author?.notifyWork();
    return r.hash;
  }

  #onImported(b: ImportedBlock): void {
    this.pool.onBlockFinalized({ hash: b.header.hash, number: b.header.number, extrinsicHashes: b.extrinsicHashes.map(toHex) });
    for (const l of [...this.#listeners]) {
      try {
        l(b);
      } catch (e) {
        this.log.error("block listener failed", { error: (e as Error).message });
      }
    }
  }

  async stop(): Promise<void> {
    this.author?.stop();
    await this.rpc.close();
    await this.#verifier.close();
    await this.#db.close();
    this.log.info("node stopped");
  }
}

