/**
 * Results of executed commands, for their senders to fetch (`GET /contracts/<id>/results/<cmd>`).
 * Each is already encrypted to its sender, so serving it to anyone reveals nothing. Bounded:
 * the oldest is dropped first once COMMAND_RESULTS_MAX are kept. Every member of a cluster
 * keeps the same results in the same order (the store is part of the replicated state and
 * of the checkpoint), so "already executed" means the same thing on every worker.
 */
import { T, type Infer } from "@phala-ts/runtime/types";
import { H256 } from "@phala-ts/runtime/types";

export const StoredResults = T.vec(T.struct(["phala_pruntime", "StoredResult"], { contract: H256, command_id: H256, result: T.bytes }));
export type StoredResultsValue = Infer<typeof StoredResults>;

function keyOf(contract: Uint8Array, commandId: Uint8Array): string {
  return Buffer.from(contract).toString("hex") + Buffer.from(commandId).toString("hex");
}

export class CommandResults {
  readonly #max: number;
  /** Insertion order is age order: Map iteration gives the oldest first. */
  readonly #byKey = new Map<string, { contract: Uint8Array; commandId: Uint8Array; result: Uint8Array }>();

  constructor(max: number, saved: StoredResultsValue = []) {
    this.#max = max;
    for (const r of saved) this.put(r.contract, r.command_id, r.result);
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
    this.#byKey.set(key, { contract, commandId, result });
    while (this.#byKey.size > this.#max) {
      const oldest = this.#byKey.keys().next().value;
      if (oldest === undefined) break;
      this.#byKey.delete(oldest);
    }
  }

  /** Drops every result of `contract` (its worker left the cluster). */
  dropContract(contract: Uint8Array): void {
    const prefix = Buffer.from(contract).toString("hex");
    for (const k of [...this.#byKey.keys()]) if (k.startsWith(prefix)) this.#byKey.delete(k);
  }

  get size(): number {
    return this.#byKey.size;
  }

  snapshot(): StoredResultsValue {
    return [...this.#byKey.values()].map((r) => ({ contract: r.contract, command_id: r.commandId, result: r.result }));
  }
}
