import { toHex } from "@phala-ts/primitives";
import { encodeUnsignedExtrinsic } from "@phala-ts/runtime";
import { syncOffchainMessageCall } from "./calls.ts";
import type { ChainClient } from "./chain-client.ts";
import { NodeRpcError, errorMessage } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { PruntimeClient } from "./pruntime-client.ts";

export type SubmitOutcome = "submitted" | "known" | "refused";

/**
 * How the pool's refusal of an egress message is read. Another gatekeeper's pHost may have
 * submitted the very same bytes, and a message the chain already took is stale by its
 * sequence number, so "already imported" (1013), "outdated"/"stale" (1010), "priority is
 * too low" (1014) and "temporarily banned" (1012) all mean the message is, or was, on its
 * way. Anything else (a bad signature, an unknown sender) is a real refusal.
 */
export function classifyEgressRefusal(e: NodeRpcError): Exclude<SubmitOutcome, "submitted"> {
  if (e.rpcCode === 1012 || e.rpcCode === 1013 || e.rpcCode === 1014) return "known";
  const text = `${e.rpcMessage} ${typeof e.rpcData === "string" ? e.rpcData : ""}`;
  if (e.rpcCode === 1010 && /outdated|stale/i.test(text)) return "known";
  return "refused";
}

export interface EgressRelayOptions {
  chain: ChainClient;
  pruntime: PruntimeClient;
  logger: Logger;
  /** The same message is not submitted again sooner than this. */
  resubmitIntervalMs: number;
  now: () => number;
}

export interface EgressStats {
  submitted: number;
  known: number;
  refused: number;
}

/**
 * Carries pRuntime's pending signed messages to the chain as unsigned
 * `PhalaMq.sync_offchain_message` extrinsics. It remembers when it last submitted each
 * message that is still pending, and forgets messages pRuntime no longer lists, so its
 * memory is bounded by pRuntime's egress list (EGRESS_MESSAGES_MAX).
 */
export class EgressRelay {
  readonly #opts: EgressRelayOptions;
  /** Per pending message: when it was last submitted and whether a refusal was already warned about. */
  #recent = new Map<string, { atMs: number; warned: boolean }>();
  readonly stats: EgressStats = { submitted: 0, known: 0, refused: 0 };

  constructor(options: EgressRelayOptions) {
    this.#opts = options;
  }

  /**
   * One round: read /egress and submit what is due. Connection failures (node or pRuntime
   * unreachable) are thrown for the caller's retry loop; a refused message is logged and
   * tried again after `resubmitIntervalMs`.
   */
  async relay(): Promise<void> {
    const { chain, pruntime, logger, resubmitIntervalMs, now } = this.#opts;
    const messages = await pruntime.egress();
    const previous = this.#recent;
    const next = new Map<string, { atMs: number; warned: boolean }>();
    this.#recent = next;
    for (const msg of messages) {
      const key = toHex(msg);
      const last = previous.get(key);
      if (last !== undefined && now() - last.atMs < resubmitIntervalMs) {
        next.set(key, last);
        continue;
      }
      const entry = { atMs: now(), warned: last?.warned ?? false };
      next.set(key, entry);
      let extrinsic: Uint8Array;
      try {
        extrinsic = encodeUnsignedExtrinsic(syncOffchainMessageCall(msg));
      } catch (e) {
        const fields = { bytes: msg.length, error: errorMessage(e) };
        if (!entry.warned) logger.warn("pRuntime listed an egress message that does not decode; skipping it", fields);
        entry.warned = true;
        this.stats.refused++;
        continue;
      }
      try {
        const hash = await chain.submitExtrinsic(extrinsic);
        this.stats.submitted++;
        logger.debug("submitted an egress message", { hash });
      } catch (e) {
        if (!(e instanceof NodeRpcError)) throw e;
        if (classifyEgressRefusal(e) === "known") {
          this.stats.known++;
          logger.debug("egress message already known to the chain", { rpcCode: e.rpcCode, reason: e.message });
        } else {
          this.stats.refused++;
          // Warned once per message; while pRuntime keeps listing it, retries log at debug.
          const fields = { rpcCode: e.rpcCode, reason: e.message };
          if (!entry.warned) logger.warn("the node refused an egress message", fields);
          else logger.debug("the node refused an egress message again", fields);
          entry.warned = true;
        }
      }
    }
  }
}
