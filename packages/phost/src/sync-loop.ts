import { bytesEqual, toHex } from "@phala-ts/primitives";
import type { ChainClient } from "./chain-client.ts";
import { PhostError, PruntimeRefusedError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { ProgressReporter } from "./progress.ts";
import type { PruntimeClient, PruntimeInfo } from "./pruntime-client.ts";

export interface SyncLoopOptions {
  chain: ChainClient;
  pruntime: PruntimeClient;
  logger: Logger;
  progress: ProgressReporter;
  /** Blocks asked for per `phala_getSyncBatch`. */
  batchSize: number;
}

/** Where a batch that pRuntime refused started, for the retry log line. */
export class BatchRefusedError extends PhostError<"PRUNTIME_REFUSED"> {
  constructor(
    readonly from: number,
    readonly refusal: PruntimeRefusedError,
  ) {
    super("PRUNTIME_REFUSED", `pRuntime refused the batch from block ${from}: ${refusal.pruntimeCode}: ${refusal.pruntimeMessage}`, {
      details: { from, pruntimeCode: refusal.pruntimeCode },
      cause: refusal,
    });
    this.name = "BatchRefusedError";
  }
}

/**
 * Feeds pRuntime finalized blocks: initializes it with the genesis header when it is new,
 * checks it follows the node's chain, then asks the node for batches from pRuntime's own
 * height and posts them until it reaches the finalized head. pRuntime's height is the only
 * cursor, so a restarted pHost continues where pRuntime is.
 */
export class SyncLoop {
  readonly #opts: SyncLoopOptions;
  /** Blocks asked for per batch: the configured size, halved each time pRuntime says a body is too large (HTTP 413). */
  #batchSize: number;

  constructor(options: SyncLoopOptions) {
    this.#opts = options;
    this.#batchSize = options.batchSize;
  }

  get batchSize(): number {
    return this.#batchSize;
  }

  /** pRuntime's info once it is initialized with, and follows, the chain whose genesis is `genesisHash`. */
  async prepare(genesisHash: Uint8Array): Promise<PruntimeInfo> {
    const { chain, pruntime, logger } = this.#opts;
    let info = await pruntime.info();
    if (!info.initialized) {
      const header = await chain.genesisHeader();
      await pruntime.init(header);
      info = await pruntime.info();
      logger.info("initialized pRuntime with the chain's genesis header", { genesisHash: toHex(genesisHash) });
    }
    if (info.genesisHash !== undefined && !bytesEqual(info.genesisHash, genesisHash)) {
      throw new PhostError(
        "GENESIS_MISMATCH",
        "pRuntime follows another chain than the node serves; point pHost at the right node or give pRuntime a fresh data directory",
        { details: { pruntimeGenesis: toHex(info.genesisHash), nodeGenesis: toHex(genesisHash) } },
      );
    }
    return info;
  }

  /**
   * Posts batches from `syncedHeight + 1` until pRuntime reaches `target()` (re-read after
   * every batch, so new finalized blocks extend the run). Calls `afterBatch` after each
   * accepted batch. Returns pRuntime's height.
   */
  async run(syncedHeight: number, target: () => number, afterBatch: (height: number) => Promise<void>, stopped: () => boolean): Promise<number> {
    const { chain, pruntime, progress, logger } = this.#opts;
    let height = syncedHeight;
    progress.update(height, target());
    while (height < target() && !stopped()) {
      const from = height + 1;
      const batch = await chain.syncBatch(from, this.#batchSize);
      let reached: number;
      try {
        reached = (await pruntime.sync(batch)).syncedHeight;
      } catch (e) {
        if (!(e instanceof PruntimeRefusedError)) throw e;
        if (e.status === 413 && this.#batchSize > 1) {
          this.#batchSize = Math.max(1, Math.floor(this.#batchSize / 2));
          logger.warn("pRuntime found a batch too large; asking for smaller ones", { bytes: batch.length, batchSize: this.#batchSize });
        }
        throw new BatchRefusedError(from, e);
      }
      if (reached <= height) {
        throw new PhostError("NO_PROGRESS", `pRuntime accepted the batch from block ${from} but stayed at height ${reached}`, {
          details: { from, reached },
        });
      }
      height = reached;
      progress.update(height, target());
      await afterBatch(height);
    }
    return height;
  }
}
