/**
 * The egress queue (ARCHITECTURE §4): messages pRuntime signs for the chain, per signing origin,
 * in sequence order. Acceptance is event-sourced: the chain pushes every accepted signed
 * message into OutboundMessages unchanged (without its sequence), so the number of messages
 * from origin O seen in synced blocks is exactly the chain's next expected sequence for O.
 * Everything below that is accepted and purged; the rest is pending and served to pHost.
 */
import assert from "node:assert/strict";
import { bytesEqual, toHex } from "@phala-ts/primitives";
import { Message, MessageOrigin, egressSigningPayload, type MessageOriginValue, type MessageValue, type SignedMessageValue } from "@phala-ts/runtime/phala";
import { EGRESS_PENDING_PER_ORIGIN_MAX } from "./limits.ts";
import type { Logger } from "./logger.ts";

export interface EgressOriginSnapshot {
  origin: MessageOriginValue;
  /** Messages from this origin seen in synced OutboundMessages. */
  chainCount: bigint;
  /** The sequence the next message queued for this origin gets (at least). */
  nextSequence: bigint;
  /** Messages not kept because the pending queue was full. */
  dropped: bigint;
  pending: SignedMessageValue[];
}

type OriginQueue = EgressOriginSnapshot;

export function originKey(origin: MessageOriginValue): string {
  return toHex(MessageOrigin.codec.enc(origin));
}

export class EgressQueue {
  readonly #genesisHash: Uint8Array;
  readonly #queues = new Map<string, OriginQueue>();
  readonly #log: Logger;
  /**
   * Accepted messages that differ from what this pRuntime queued under the same sequence:
   * replicated gatekeepers disagreeing. Must stay 0; shown on /info.
   */
  conflicts = 0;

  /** Tracks `origins` (the ones this pRuntime signs for), starting from `saved` when given. */
  constructor(genesisHash: Uint8Array, origins: readonly MessageOriginValue[], log: Logger, saved: readonly EgressOriginSnapshot[] = []) {
    this.#genesisHash = genesisHash;
    this.#log = log;
    for (const s of saved) {
      this.#queues.set(originKey(s.origin), { ...s, pending: [...s.pending] });
    }
    for (const origin of origins) {
      const key = originKey(origin);
      if (!this.#queues.has(key)) this.#queues.set(key, { origin, chainCount: 0n, nextSequence: 0n, dropped: 0n, pending: [] });
    }
  }

  /**
   * Starts counting `origin` (a cluster, on every pRuntime, from its creation on) so that a
   * member that gets its key later already knows the origin's next sequence.
   */
  track(origin: MessageOriginValue): void {
    const key = originKey(origin);
    if (!this.#queues.has(key)) this.#queues.set(key, { origin, chainCount: 0n, nextSequence: 0n, dropped: 0n, pending: [] });
  }

  tracks(origin: MessageOriginValue): boolean {
    return this.#queues.has(originKey(origin));
  }

  private queue(origin: MessageOriginValue): OriginQueue {
    const q = this.#queues.get(originKey(origin));
    assert.ok(q !== undefined, "egress for an origin this pRuntime does not sign for");
    return q;
  }

  /** The sequence for the next message of a single-signer origin (Worker). */
  nextSequence(origin: MessageOriginValue): bigint {
    const q = this.queue(origin);
    return q.nextSequence > q.chainCount ? q.nextSequence : q.chainCount;
  }

  chainCount(origin: MessageOriginValue): bigint {
    return this.queue(origin).chainCount;
  }

  /**
   * Signs `message` as number `sequence` of its sender and queues it. Sequences only grow; a
   * replicated origin (Gatekeeper) may skip numbers that other signers fill.
   */
  push(message: MessageValue, sequence: bigint, sign: (payload: Uint8Array) => Uint8Array): SignedMessageValue | undefined {
    const q = this.queue(message.sender);
    assert.ok(sequence >= q.nextSequence, "egress sequence numbers only grow");
    if (sequence < q.chainCount) {
      q.nextSequence = sequence + 1n; // the chain already holds this one from another signer
      return undefined;
    }
    // A dropped message must not use up its sequence: the chain accepts only the next expected
    // one, so a number handed out but never queued would stall this origin for good.
    if (q.pending.length >= EGRESS_PENDING_PER_ORIGIN_MAX) {
      q.dropped++;
      this.#log.error("egress queue full: message dropped; its sequence goes to the next message once pHost submits the pending ones", {
        origin: message.sender.tag,
        sequence,
        pending: q.pending.length,
      });
      return undefined;
    }
    const signed: SignedMessageValue = { message, sequence, signature: sign(egressSigningPayload(this.#genesisHash, message, sequence)) };
    q.pending.push(signed);
    q.nextSequence = sequence + 1n;
    return signed;
  }

  /** Counts a message seen in synced OutboundMessages; true if it was one of ours (and is purged). */
  observe(message: MessageValue): boolean {
    const tag = message.sender.tag;
    if (tag !== "Worker" && tag !== "Gatekeeper" && tag !== "Cluster") return false;
    const q = this.#queues.get(originKey(message.sender));
    if (q === undefined) return false;
    const seq = q.chainCount;
    q.chainCount++;
    const mine = q.pending.find((p) => p.sequence === seq);
    if (mine && !bytesEqual(Message.codec.enc(mine.message), Message.codec.enc(message))) {
      this.conflicts++;
      this.#log.error("the chain accepted another message under a sequence this pRuntime signed: replicated signers disagree", { origin: tag, sequence: seq });
    }
    let drop = 0;
    while (drop < q.pending.length && q.pending[drop].sequence < q.chainCount) drop++;
    if (drop > 0) q.pending.splice(0, drop);
    return true;
  }

  pending(): SignedMessageValue[] {
    const out: SignedMessageValue[] = [];
    for (const q of this.#queues.values()) out.push(...q.pending);
    return out;
  }

  pendingCount(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.pending.length;
    return n;
  }

  snapshot(): EgressOriginSnapshot[] {
    return [...this.#queues.values()].map((q) => ({ ...q, pending: [...q.pending] }));
  }
}
