import { toHex, type KeyPair } from "@phala-ts/primitives";
import type { Chain, ImportedBlock } from "../chain.ts";
import type { TxPool } from "../pool/tx-pool.ts";
import { encodeCertificate, signPrecommit, type ValidatorSetValue } from "@phala-ts/runtime/consensus";
import type { Logger } from "../logger.ts";

export interface Clock {
  nowMs(): number;
  setTimeout(f: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout(f, ms) {
    const t = setTimeout(f, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

export interface AuthorOptions {
  /** A block is produced at least this often, even with no transactions. */
  blockIntervalMs: number;
  /** After the first ready transaction, wait this long so one block carries a batch. */
  batchWindowMs: number;
  /** Stop adding transactions to a block after this much building time. */
  buildBudgetMs: number;
}

export const DEFAULT_AUTHOR_OPTIONS: AuthorOptions = { blockIntervalMs: 6000, batchWindowMs: 5, buildBudgetMs: 300 };

/**
 * Produces and finalizes blocks on a single-validator chain: as soon as there is work
 * (after a short batching window) and at least once per interval. It owns all writes
 * to the chain; everything it does per block is synchronous.
 */
export class BlockAuthor {
  #timer: { cancel(): void } | undefined;
  #dueAt = Infinity;
  #stopped = false;
  #lastTimestampMs = 0n;

  constructor(
    readonly options: AuthorOptions,
    readonly modules: {
      chain: Chain;
      pool: TxPool;
      key: KeyPair;
      validatorSet: ValidatorSetValue;
      validatorIndex: number;
      clock: Clock;
      logger: Logger;
      onImported: (b: ImportedBlock) => void;
    },
  ) {}

  start(): void {
    this.#schedule(this.options.blockIntervalMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** Called when a transaction became ready: produce soon. */
  notifyWork(): void {
    this.#schedule(this.options.batchWindowMs);
  }

  #schedule(inMs: number): void {
    if (this.#stopped) return;
    const at = this.modules.clock.nowMs() + inMs;
    if (at >= this.#dueAt) return;
    this.#timer?.cancel();
    this.#dueAt = at;
    this.#timer = this.modules.clock.setTimeout(() => this.#produce(), inMs);
  }

  #produce(): void {
    this.#dueAt = Infinity;
    this.#timer = undefined;
    if (this.#stopped) return;
    const { chain, pool, clock, logger } = this.modules;
    const started = clock.nowMs();
    // Timestamps only move forward, by at least the runtime's minimum period.
    let ts = BigInt(started);
    if (ts <= this.#lastTimestampMs) ts = this.#lastTimestampMs + 1n;
    this.#lastTimestampMs = ts;
    const budgetEnd = started + this.options.buildBudgetMs;
    // The builder hands back the same byte arrays it was given, so identity finds the pool entry.
    const hashOf = new Map<Uint8Array, string>();
    const candidates = function* () {
      for (const tx of pool.readyForBlock()) {
        if (clock.nowMs() > budgetEnd) return;
        hashOf.set(tx.bytes, tx.hashHex);
        yield tx.bytes;
      }
    };
    const block = chain.buildAndImport(
      { timestampMs: ts, candidates: candidates() },
      (number, hash) => this.#certify(number, hash),
      (tx, e) => {
        const invalidCode = e.validity.tag === "Invalid" ? (e.validity.value as { tag: string }).tag : "";
        if (invalidCode === "ExhaustsResources") return "stop";
        const h = hashOf.get(tx);
        if (h && invalidCode !== "Future") pool.reject(h, e.message);
        return "skip";
      },
    );
    logger.info("finalized block", {
      number: block.header.number,
      hash: toHex(block.header.hash),
      extrinsics: block.extrinsics.length,
      ms: clock.nowMs() - started,
    });
    this.modules.onImported(block);
    this.#schedule(pool.hasReady() ? 0 : this.options.blockIntervalMs);
  }

  #certify(number: number, hash: Uint8Array): Uint8Array {
    const { key, validatorSet, validatorIndex, chain } = this.modules;
    const round = 0;
    const signature = signPrecommit(key, chain.genesis.hash, number, round, hash);
    return encodeCertificate({ height: number, round, block_hash: hash, set_id: validatorSet.set_id, precommits: [{ validator: validatorIndex, signature }] });
  }
}
