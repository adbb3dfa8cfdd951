import { blake2b256, bytesEqual } from "@phala-ts/primitives";
import type { ChainClient } from "./chain-client.ts";
import { readExtrinsicOutcome } from "./dispatch-outcome.ts";
import { errorMessage, isConnectivityError } from "./errors.ts";
import { phalaRuntime } from "./runtime.ts";

/**
 * Finalized blocks looked through per call of `advance`: two requests each, so a pHost
 * that fell far behind catches up over a few rounds instead of in one burst.
 */
export const INCLUSION_SCAN_BLOCKS_PER_ROUND_MAX = 32;

export type Inclusion =
  /** Not in any finalized block looked at so far. */
  | { status: "waiting" }
  | { status: "succeeded"; blockNumber: number; blockHash: Uint8Array }
  /** Included, and dispatch failed with `error` (e.g. "PhalaRegistry.DevAttestationNotAllowed"). */
  | { status: "failed"; blockNumber: number; blockHash: Uint8Array; error: string }
  /** The node cannot say (no block bodies or events, or events this runtime cannot decode). */
  | { status: "unknown"; reason: string };

/**
 * Follows one submitted extrinsic: looks for its hash in each finalized block after the
 * one it was submitted at (`chain_getBlock`), and once found reads that block's
 * `System.Events` for its outcome. Stateless towards the node, so a reconnection loses
 * nothing. Connection failures are thrown for the caller's retry loop; anything else ends
 * the watch as "unknown".
 */
export class InclusionWatch {
  readonly #chain: ChainClient;
  readonly #hash: Uint8Array;
  #scannedTo: number;
  #result: Inclusion = { status: "waiting" };

  constructor(chain: ChainClient, hash: Uint8Array, submittedAtHeight: number) {
    this.#chain = chain;
    this.#hash = hash;
    this.#scannedTo = submittedAtHeight;
  }

  get result(): Inclusion {
    return this.#result;
  }

  /** Looks through finalized blocks up to `height` (at most INCLUSION_SCAN_BLOCKS_PER_ROUND_MAX of them). */
  async advance(height: number): Promise<Inclusion> {
    if (this.#result.status !== "waiting") return this.#result;
    const until = Math.min(height, this.#scannedTo + INCLUSION_SCAN_BLOCKS_PER_ROUND_MAX);
    try {
      while (this.#scannedTo < until) {
        const n = this.#scannedTo + 1;
        const blockHash = await this.#chain.blockHash(n);
        if (blockHash === undefined) break;
        const index = (await this.#chain.blockExtrinsics(blockHash)).findIndex((x) => bytesEqual(blake2b256(x), this.#hash));
        if (index >= 0) {
          const outcome = await readExtrinsicOutcome(this.#chain, phalaRuntime(), blockHash, index);
          if (outcome === undefined) this.#result = { status: "unknown", reason: `block ${n} has no dispatch event for extrinsic ${index}` };
          else if (outcome.success) this.#result = { status: "succeeded", blockNumber: n, blockHash };
          else this.#result = { status: "failed", blockNumber: n, blockHash, error: outcome.errorName };
        }
        this.#scannedTo = n;
        if (index >= 0) break;
      }
    } catch (e) {
      if (isConnectivityError(e)) throw e;
      this.#result = { status: "unknown", reason: errorMessage(e) };
    }
    return this.#result;
  }
}
