import { fromHex, toHex } from "@phala-ts/primitives";
import { decodeExtrinsic, DecodeError, TransactionInvalid, describeValidityError, type ValidTransactionValue } from "@phala-ts/runtime";

/** Pool bounds, as in Substrate's defaults: 8192 ready, 512 future, 20 MiB in all. */
export const POOL_TX_COUNT_MAX = 8192;
export const POOL_FUTURE_TX_COUNT_MAX = 512;
export const POOL_BYTES_MAX = 20 * 1024 * 1024;
/** Hashes of included or invalid transactions remembered to refuse re-submission. */
export const POOL_RECENT_HASHES_MAX = 16384;

export type TxStatus =
  | { type: "future" }
  | { type: "ready" }
  | { type: "inBlock"; blockHash: Uint8Array; blockNumber: number; index: number }
  | { type: "finalized"; blockHash: Uint8Array; blockNumber: number; index: number }
  | { type: "usurped"; by: Uint8Array }
  | { type: "dropped"; reason: string }
  | { type: "invalid"; reason: string };

export type TxWatcher = (s: TxStatus) => void;

/** Errors with Substrate's author RPC codes, so polkadot-js shows what users expect. */
export class PoolError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: string,
  ) {
    super(message + (data ? `: ${data}` : ""));
    this.name = "PoolError";
  }
}

/** Maps a runtime validity error to the author RPC error Substrate gives for it. */
export function toPoolError(e: unknown): unknown {
  if (e instanceof TransactionInvalid) {
    const code = e.validity.tag === "Invalid" ? 1010 : 1011;
    return new PoolError(code, code === 1010 ? "Invalid Transaction" : "Unknown Transaction Validity", e.message);
  }
  return e;
}

/** Lane keys of unsigned transactions start with this, so they never collide with account ids. */
const UNSIGNED_LANE = "lane:";

function unsignedLane(valid: ValidTransactionValue): { who: string; nonce: number } {
  const tag = valid.provides[0];
  if (!tag || tag.length < 9) throw new PoolError(1010, "Invalid Transaction", "an unsigned transaction must provide a lane tag ending in its sequence");
  const seq = new DataView(tag.buffer, tag.byteOffset + tag.length - 8, 8).getBigUint64(0, true);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new PoolError(1010, "Invalid Transaction", "sequence number out of range");
  return { who: UNSIGNED_LANE + toHex(tag.subarray(0, tag.length - 8)), nonce: Number(seq) };
}

const STALE_REASON = describeValidityError({ tag: "Invalid", value: { tag: "Stale", value: undefined } });

export interface PoolTx {
  hash: Uint8Array;
  hashHex: string;
  bytes: Uint8Array;
  who: string;
  nonce: number;
  priority: bigint;
  /** Block number after which the transaction's era has expired. */
  deathBlock: number;
  seq: number;
  watchers: TxWatcher[];
}

export interface PoolDeps {
  /** Runtime validation on top of the best block; throws TransactionInvalid. */
  validate(bytes: Uint8Array, opts: { signatureVerified: boolean }): ValidTransactionValue;
  /** Next nonce of an account in the best block's state. */
  chainNonce(who: Uint8Array): number;
  /**
   * Next sequence of an unsigned lane (the tag an unsigned transaction provides, less its
   * 8-byte sequence), e.g. a pRuntime's egress sequence.
   */
  laneSequence(lane: Uint8Array): number;
  bestNumber(): number;
}

/**
 * Ready and future transactions, per sender in nonce order. Only the owner (the node's
 * service loop) calls it; no method awaits, so no state changes interleave.
 */
export class TxPool {
  readonly #bySender = new Map<string, PoolTx[]>();
  readonly #byHash = new Map<string, PoolTx>();
  readonly #recent = new Set<string>();
  #bytes = 0;
  #seq = 0;

  constructor(readonly deps: PoolDeps) {}

  get size(): number {
    return this.#byHash.size;
  }

  /** Known already (pooled, included or refused recently): resubmission would be refused as a duplicate. */
  knows(hashHex: string): boolean {
    return this.#byHash.has(hashHex) || this.#recent.has(hashHex);
  }

  /** Validates and admits a transaction; returns its hash and whether it is ready now. */
  submit(bytes: Uint8Array, watcher?: TxWatcher, opts: { signatureVerified?: boolean } = {}): { hash: Uint8Array; status: "ready" | "future" } {
    let decoded;
    try {
      decoded = decodeExtrinsic(bytes);
    } catch (e) {
      throw new PoolError(1001, "Extrinsic has invalid format", (e as DecodeError).message);
    }
    const hashHex = toHex(decoded.hash);
    if (this.#byHash.has(hashHex) || this.#recent.has(hashHex)) throw new PoolError(1013, "Transaction Already Imported");
    let valid: ValidTransactionValue;
    try {
      valid = this.deps.validate(bytes, { signatureVerified: opts.signatureVerified ?? false });
    } catch (e) {
      throw toPoolError(e);
    }
    // Signed transactions queue per account by nonce; unsigned ones per lane by sequence.
    const { who, nonce } = decoded.signed ? { who: toHex(valid.provides[0].subarray(0, 32)), nonce: decoded.signed.nonce } : unsignedLane(valid);
    const queue = this.#bySender.get(who) ?? [];
    const chainNonce = this.#laneNonce(who);
    const tx: PoolTx = {
      hash: decoded.hash,
      hashHex,
      bytes,
      who,
      nonce,
      priority: valid.priority,
      deathBlock: this.deps.bestNumber() + Number(valid.longevity > 1_000_000_000n ? 1_000_000_000n : valid.longevity),
      seq: this.#seq++,
      watchers: watcher ? [watcher] : [],
    };

    const same = queue.findIndex((q) => q.nonce === tx.nonce);
    if (same >= 0) {
      const old = queue[same];
      if (old.priority >= tx.priority) throw new PoolError(1014, "Priority is too low", `(${old.priority} vs ${tx.priority})`);
      this.#remove(old);
      for (const w of old.watchers) w({ type: "usurped", by: tx.hash });
    }
    const ready = this.#isReadyAt(queue, tx.nonce, chainNonce);
    if (!ready && this.#futureCount() >= POOL_FUTURE_TX_COUNT_MAX) throw new PoolError(1016, "Immediately Dropped", "the future queue is full");
    if (this.#byHash.size >= POOL_TX_COUNT_MAX || this.#bytes + bytes.length > POOL_BYTES_MAX) {
      if (!this.#evictFor(tx)) throw new PoolError(1016, "Immediately Dropped", "the transaction pool is full and this transaction's priority is not higher than any in it");
    }
    this.#insert(tx);
    const status = ready ? "ready" : "future";
    for (const w of tx.watchers) w({ type: status });
    return { hash: tx.hash, status };
  }

  #laneNonce(who: string): number {
    return who.startsWith(UNSIGNED_LANE) ? this.deps.laneSequence(fromHex(who.slice(UNSIGNED_LANE.length))) : this.deps.chainNonce(fromHex(who));
  }

  #isReadyAt(queue: PoolTx[], nonce: number, chainNonce: number): boolean {
    let expected = chainNonce;
    for (const q of queue) {
      if (q.nonce > nonce) break;
      if (q.nonce === expected) expected++;
    }
    return nonce === expected;
  }

  #futureCount(): number {
    let n = 0;
    for (const [who, q] of this.#bySender) {
      let expected = this.#laneNonce(who);
      for (const t of q) {
        if (t.nonce === expected) expected++;
        else n++;
      }
    }
    return n;
  }

  /** Evicts the lowest-priority transaction that nothing depends on, if lower than `tx`. */
  #evictFor(tx: PoolTx): boolean {
    let victim: PoolTx | undefined;
    for (const q of this.#bySender.values()) {
      const tail = q[q.length - 1];
      if (tail && (!victim || tail.priority < victim.priority || (tail.priority === victim.priority && tail.seq > victim.seq))) victim = tail;
    }
    if (!victim || victim.priority >= tx.priority) return false;
    this.#remove(victim);
    for (const w of victim.watchers) w({ type: "dropped", reason: "evicted by a transaction with a higher priority" });
    return true;
  }

  #insert(tx: PoolTx): void {
    let q = this.#bySender.get(tx.who);
    if (!q) this.#bySender.set(tx.who, (q = []));
    // Nonces mostly arrive in order, so this is usually an append.
    let i = q.length;
    while (i > 0 && q[i - 1].nonce > tx.nonce) i--;
    q.splice(i, 0, tx);
    this.#byHash.set(tx.hashHex, tx);
    this.#bytes += tx.bytes.length;
  }

  #remove(tx: PoolTx): void {
    if (!this.#byHash.delete(tx.hashHex)) return;
    this.#bytes -= tx.bytes.length;
    const q = this.#bySender.get(tx.who)!;
    const i = q.indexOf(tx);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.#bySender.delete(tx.who);
  }

  #remember(hashHex: string): void {
    if (this.#recent.size >= POOL_RECENT_HASHES_MAX) this.#recent.delete(this.#recent.values().next().value!);
    this.#recent.add(hashHex);
  }

  hasReady(): boolean {
    for (const [who, q] of this.#bySender) {
      if (q[0] && q[0].nonce === this.#laneNonce(who)) return true;
    }
    return false;
  }

  /**
   * Ready transactions for the next block: each sender's run of consecutive nonces from
   * its chain nonce, merged by priority (tip) and then arrival.
   */
  *readyForBlock(): Generator<PoolTx> {
    const runs: PoolTx[][] = [];
    for (const [who, q] of this.#bySender) {
      let expected = this.#laneNonce(who);
      const run: PoolTx[] = [];
      for (const t of q) {
        if (t.nonce !== expected) break;
        run.push(t);
        expected++;
      }
      if (run.length) runs.push(run);
    }
    const pos = runs.map(() => 0);
    for (;;) {
      let best = -1;
      for (let i = 0; i < runs.length; i++) {
        const t = runs[i][pos[i]];
        if (!t) continue;
        const b = best >= 0 ? runs[best][pos[best]] : undefined;
        if (!b || t.priority > b.priority || (t.priority === b.priority && t.seq < b.seq)) best = i;
      }
      if (best < 0) return;
      yield runs[best][pos[best]++];
    }
  }

  /** Drops a transaction the block builder found invalid. */
  reject(hashHex: string, reason: string): void {
    const tx = this.#byHash.get(hashHex);
    if (!tx) return;
    this.#remove(tx);
    this.#remember(hashHex);
    for (const w of tx.watchers) w({ type: "invalid", reason });
  }

  /** After a block is final: notifies and removes included transactions, then drops stale and expired ones. */
  onBlockFinalized(block: { hash: Uint8Array; number: number; extrinsicHashes: string[] }): void {
    block.extrinsicHashes.forEach((h, index) => {
      const tx = this.#byHash.get(h);
      this.#remember(h);
      if (!tx) return;
      this.#remove(tx);
      for (const w of tx.watchers) {
        w({ type: "inBlock", blockHash: block.hash, blockNumber: block.number, index });
        w({ type: "finalized", blockHash: block.hash, blockNumber: block.number, index });
      }
    });
    for (const [who, q] of [...this.#bySender]) {
      const chainNonce = this.#laneNonce(who);
      for (const t of [...q]) {
        if (t.nonce < chainNonce) {
          this.#remove(t);
          for (const w of t.watchers) w({ type: "invalid", reason: STALE_REASON });
        } else if (t.deathBlock <= block.number) {
          this.#remove(t);
          for (const w of t.watchers) w({ type: "dropped", reason: "the transaction's mortality era expired" });
        }
      }
    }
  }

  pending(): Uint8Array[] {
    return [...this.#byHash.values()].sort((a, b) => a.seq - b.seq).map((t) => t.bytes);
  }

  /** Next nonce for an account counting its consecutive transactions in the pool, as system_accountNextIndex. */
  nextNonce(who: Uint8Array, chainNonce: number): number {
    const q = this.#bySender.get(toHex(who));
    let n = chainNonce;
    if (q) for (const t of q) if (t.nonce === n) n++;
    return n;
  }

  /** Stops notifying a watcher (unsubscribe); the transaction stays in the pool. */
  unwatch(hashHex: string, watcher: TxWatcher): void {
    const tx = this.#byHash.get(hashHex);
    if (tx) tx.watchers = tx.watchers.filter((w) => w !== watcher);
  }
}
