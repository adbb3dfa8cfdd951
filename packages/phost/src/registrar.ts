import { bytesEqual, toHex, type KeyPair } from "@phala-ts/primitives";
import { PhalaRegistryStorage } from "@phala-ts/runtime/phala";
import { registerWorkerCall, updateWorkerEndpointCall } from "./calls.ts";
import type { ChainClient } from "./chain-client.ts";
import { NodeRpcError, PhostError, PruntimeRefusedError, errorCode, errorMessage } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { signAsOperator } from "./operator-signer.ts";
import type { PruntimeClient } from "./pruntime-client.ts";

export interface RegistrarOptions {
  chain: ChainClient;
  pruntime: PruntimeClient;
  logger: Logger;
  operator: KeyPair;
  /** The worker's public URL, advertised with `update_worker_endpoint`. */
  endpointUrl: string;
  /** A fresh signed endpoint every this many finalized blocks. */
  endpointRefreshBlocks: number;
  /** A submitted registration not on chain after this many finalized blocks is submitted again. */
  inclusionTimeoutBlocks: number;
  /** First wait after a refusal; doubled after each one up to retryDelayMaxMs. */
  retryDelayMs: number;
  retryDelayMaxMs: number;
  now: () => number;
}

/** Retry schedule of one kind of submission: exponential backoff reset by a success. */
class Backoff {
  #failures = 0;
  #notBeforeMs = -Infinity;
  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
  ) {}
  ready(nowMs: number): boolean {
    return nowMs >= this.#notBeforeMs;
  }
  fail(nowMs: number): number {
    const delayMs = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    this.#notBeforeMs = nowMs + delayMs;
    return delayMs;
  }
  succeed(): void {
    this.#failures = 0;
    this.#notBeforeMs = -Infinity;
  }
}

function isConnectivity(e: unknown): boolean {
  const code = errorCode(e);
  return code === "NODE_UNAVAILABLE" || code === "NODE_TIMEOUT" || code === "PRUNTIME_UNAVAILABLE" || code === "STOPPED";
}

/**
 * Keeps the worker registered and its endpoint fresh, once pRuntime is at the chain's tip:
 * reads `PhalaRegistry.Workers(pubkey)`; when absent, asks pRuntime for its registration
 * info and evidence and submits `register_worker` signed by the operator, then watches
 * finalized blocks for it to land. When present, submits `update_worker_endpoint` every
 * `endpointRefreshBlocks` blocks. Refusals are logged with the node's reason and retried
 * with backoff; connection failures are thrown to the caller's retry loop.
 */
export class Registrar {
  readonly #opts: RegistrarOptions;
  #registered: boolean | undefined;
  /** Height and key of the last storage check: once per finalized block (and per key, should pRuntime's change). */
  #checked: string | undefined;
  #pending: { submittedAtHeight: number; hash: Uint8Array } | undefined;
  readonly #registerBackoff: Backoff;
  readonly #endpointBackoff: Backoff;
  #endpointHeight: number | undefined;
  /** The last endpoint submitted, until it shows in `PhalaRegistry.Endpoints` or times out. */
  #endpointPending: { payload: Uint8Array; submittedAtHeight: number; checkedAtHeight: number } | undefined;
  #registrations = 0;
  #endpointUpdates = 0;

  constructor(options: RegistrarOptions) {
    this.#opts = options;
    this.#registerBackoff = new Backoff(options.retryDelayMs, options.retryDelayMaxMs);
    this.#endpointBackoff = new Backoff(options.retryDelayMs, options.retryDelayMaxMs);
  }

  /** Whether `Workers(pubkey)` was on chain at the last check; undefined before the first one. */
  get registered(): boolean | undefined {
    return this.#registered;
  }

  get stats(): { registrationsSubmitted: number; endpointUpdatesSubmitted: number; endpointUpdatedAtHeight: number | undefined } {
    return { registrationsSubmitted: this.#registrations, endpointUpdatesSubmitted: this.#endpointUpdates, endpointUpdatedAtHeight: this.#endpointHeight };
  }

  /** One round at the tip: `height` is the finalized height pRuntime has reached. */
  async step(height: number, workerPubkey: Uint8Array): Promise<void> {
    const checkKey = `${height}:${toHex(workerPubkey)}`;
    if (this.#checked !== checkKey) {
      const onChain = (await this.#opts.chain.storage(PhalaRegistryStorage.Workers.key(workerPubkey))) !== undefined;
      this.#checked = checkKey;
      if (onChain && this.#registered !== true) {
        this.#opts.logger.info("worker is registered on chain", { pubkey: toHex(workerPubkey), height });
        this.#pending = undefined;
        this.#registerBackoff.succeed();
      } else if (!onChain && this.#registered === true) {
        this.#opts.logger.warn("worker is no longer registered on chain; registering again", { pubkey: toHex(workerPubkey), height });
        this.#endpointHeight = undefined;
        this.#endpointPending = undefined;
      }
      this.#registered = onChain;
    }
    if (this.#registered) await this.#refreshEndpoint(height, workerPubkey);
    else await this.#register(height, workerPubkey);
  }

  async #register(height: number, workerPubkey: Uint8Array): Promise<void> {
    const { logger, now, inclusionTimeoutBlocks } = this.#opts;
    if (this.#pending) {
      if (height - this.#pending.submittedAtHeight < inclusionTimeoutBlocks) return;
      const retryInMs = this.#registerBackoff.fail(now());
      logger.warn("the worker registration did not reach the chain; submitting again", {
        hash: this.#pending.hash,
        submittedAt: this.#pending.submittedAtHeight,
        height,
        retryInMs,
        hint: "an included registration whose dispatch failed shows as ExtrinsicFailed in System.Events",
      });
      this.#pending = undefined;
      return;
    }
    if (!this.#registerBackoff.ready(now())) return;
    const hash = await this.#submit("registration", this.#registerBackoff, async () => {
      const reg = await this.#opts.pruntime.registration(this.#opts.operator.accountId);
      return registerWorkerCall(reg.info, reg.evidence);
    });
    if (!hash) return;
    this.#registrations++;
    this.#pending = { submittedAtHeight: height, hash };
    logger.info("submitted the worker registration; waiting for it to be finalized", { pubkey: toHex(workerPubkey), hash, height });
  }

  async #refreshEndpoint(height: number, workerPubkey: Uint8Array): Promise<void> {
    const { endpointRefreshBlocks, endpointUrl, now, logger, inclusionTimeoutBlocks } = this.#opts;
    const pending = this.#endpointPending;
    if (pending) {
      // Once per finalized block, see whether the update landed: a dispatch error (a bad
      // signature, a stale signed_at) shows only as a missing storage change.
      if (pending.checkedAtHeight === height) return;
      pending.checkedAtHeight = height;
      const stored = await this.#opts.chain.storage(PhalaRegistryStorage.Endpoints.key(workerPubkey));
      if (stored !== undefined && bytesEqual(stored, pending.payload)) {
        logger.debug("the worker endpoint is on chain", { endpoint: endpointUrl, height });
        this.#endpointPending = undefined;
      } else if (height - pending.submittedAtHeight >= inclusionTimeoutBlocks) {
        this.#endpointPending = undefined;
        this.#endpointHeight = undefined;
        const retryInMs = this.#endpointBackoff.fail(now());
        logger.warn("the worker endpoint update did not reach the chain; submitting again", {
          endpoint: endpointUrl,
          submittedAt: pending.submittedAtHeight,
          height,
          retryInMs,
          hint: "an included update whose dispatch failed shows as ExtrinsicFailed in System.Events",
        });
        return;
      } else {
        return;
      }
    }
    if (this.#endpointHeight !== undefined && height - this.#endpointHeight < endpointRefreshBlocks) return;
    if (!this.#endpointBackoff.ready(now())) return;
    let payload: Uint8Array | undefined;
    const hash = await this.#submit("endpoint update", this.#endpointBackoff, async () => {
      const ep = await this.#opts.pruntime.endpoint(endpointUrl);
      payload = ep.payload;
      return updateWorkerEndpointCall(ep.payload, ep.signature);
    });
    if (!hash || !payload) return;
    this.#endpointUpdates++;
    this.#endpointHeight = height;
    this.#endpointPending = { payload, submittedAtHeight: height, checkedAtHeight: height };
    logger.info("submitted the worker endpoint", { endpoint: endpointUrl, hash, height });
  }

  /**
   * Builds a call with `makeCall`, signs it as the operator and submits it. Returns the
   * hash, or undefined after logging a refusal (by pRuntime or the node) and scheduling a
   * retry. Connection failures are rethrown.
   */
  async #submit(what: string, backoff: Backoff, makeCall: () => Promise<Uint8Array>): Promise<Uint8Array | undefined> {
    const { chain, operator, logger, now } = this.#opts;
    let stage = "pRuntime";
    try {
      const call = await makeCall();
      stage = "node";
      const { extrinsic, nonce } = await signAsOperator(chain, operator, call);
      const hash = await chain.submitExtrinsic(extrinsic);
      backoff.succeed();
      logger.debug(`${what} accepted by the pool`, { nonce });
      return hash;
    } catch (e) {
      if (isConnectivity(e)) throw e;
      const retryInMs = backoff.fail(now());
      if (e instanceof NodeRpcError) {
        logger.warn(`the node refused the ${what}`, { rpcCode: e.rpcCode, reason: e.message, retryInMs });
      } else if (e instanceof PruntimeRefusedError) {
        logger.warn(`pRuntime refused to prepare the ${what}`, { code: e.pruntimeCode, reason: e.pruntimeMessage, retryInMs });
      } else if (e instanceof PhostError) {
        logger.warn(`cannot submit the ${what}`, { code: e.code, stage, reason: e.message, retryInMs });
      } else {
        // pRuntime handed out bytes that do not decode (the call encoders decode them first).
        logger.warn(`cannot submit the ${what}`, { code: errorCode(e), stage, reason: errorMessage(e), retryInMs });
      }
      return undefined;
    }
  }
}
