/**
 * Results of executed commands, for their senders to fetch (`GET /contracts/<id>/results/<cmd>`).
 * Each is already encrypted to its sender, so serving it to anyone reveals nothing. Bounded:
 * the oldest is dropped first once COMMAND_RESULTS_MAX are kept. Every member of a cluster
 * keeps the same results in the same order (the store is part of the replicated state and
 * of the checkpoint), so "already executed" means the same thing on every worker.
 * At rest each result is one entry of the sealed store (sealed-store.ts) carrying a local
 * sequence number, so its age order survives a restart and a checkpoint writes only the
 * results added or dropped since the previous one.
 */
import { T, type Infer } from "@phala-ts/runtime/types";
import { H256 } from "@phala-ts/runtime/types";

export const StoredResults = T.vec(T.struct(["phala_pruntime", "StoredResult"], { contract: H256, command_id: H256, result: T.bytes }));
export type StoredResultsValue = Infer<typeof StoredResults>;

function keyOf(contract: Uint8Array, commandId: Uint8Array): string {
  return Buffer.from(contract).toString("hex") + Buffer.from(commandId).toString("hex");
}

/** A result as the sealed store keeps it: its age (a sequence number local to this worker) and bytes. */
export interface SavedResult {
  contract: Uint8Array;
  commandId: Uint8Array;
  seq: bigint;
  result: Uint8Array;
}

export class CommandResults {
  readonly #max: number;
  /** Insertion order is age order: Map iteration gives the oldest first. */
  readonly #byKey = new Map<string, { contract: Uint8Array; commandId: Uint8Array; result: Uint8Array; seq: bigint }>();
  #nextSeq = 0n;
  /** Keys put or dropped since the last `takeChanges()`. */
  readonly #dirty = new Set<string>();

  /** `stored`: results read back from the sealed store; `unsaved` when they are not in it yet (format-2 checkpoint). */
  constructor(max: number, stored: SavedResult[] = [], unsaved = false) {
    this.#max = max;
    stored.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    for (const r of stored) {
      const key = keyOf(r.contract, r.commandId);
      this.#byKey.set(key, { contract: r.contract, commandId: r.commandId, result: r.result, seq: r.seq });
      if (unsaved) this.#dirty.add(key);
      if (r.seq >= this.#nextSeq) this.#nextSeq = r.seq + 1n;
    }
  }

  has(contract: Uint8Array, commandId: Uint8Array): boolean {
    return this.#byKey.has(keyOf(contract, commandId));
  }

  /** SCALE CommandResult, or undefined if not executed (yet) or already dropped. */
  get(contract: Uint8Array, commandId: Uint8Array): Uint8Array | undefined {
    return this.#byKey.get(keyOf(contract, commandId))?.result;
  }

  put(contract: Uint8Array, commandId: Uint8Array, result: Uint8Array): void {
    const key = keyOf(contract, commandId);
    this.#byKey.delete(key);
    this.#byKey.set(key, { contract, commandId, result, seq: this.#nextSeq++ });
    this.#dirty.add(key);
    while (this.#byKey.size > this.#max) {
      const oldest = this.#byKey.keys().next().value;
      if (oldest === undefined) break;
      this.#byKey.delete(oldest);
      this.#dirty.add(oldest);
    }
  }

  /** Drops every result of `contract` (its worker left the cluster). */
  dropContract(contract: Uint8Array): void {
    const prefix = Buffer.from(contract).toString("hex");
    for (const k of [...this.#byKey.keys()]) {
      if (!k.startsWith(prefix)) continue;
      this.#byKey.delete(k);
      this.#dirty.add(k);
    }
  }

  /** Changes since the last call, sorted by key: a saved result, or just the ids of a dropped one. */
  takeChanges(): { contract: Uint8Array; commandId: Uint8Array; saved: SavedResult | undefined }[] {
    const keys = [...this.#dirty].sort();
    this.#dirty.clear();
    return keys.map((k) => {
      const r = this.#byKey.get(k);
      const contract = Uint8Array.from(Buffer.from(k.slice(0, 64), "hex"));
      const commandId = Uint8Array.from(Buffer.from(k.slice(64), "hex"));
      return { contract, commandId, saved: r === undefined ? undefined : { contract: r.contract, commandId: r.commandId, seq: r.seq, result: r.result } };
    });
  }

  /** Every result kept, oldest first (for compacting the store). */
  all(): SavedResult[] {
    return [...this.#byKey.values()].map((r) => ({ contract: r.contract, commandId: r.commandId, seq: r.seq, result: r.result }));
  }

  get size(): number {
    return this.#byKey.size;
  }
}
