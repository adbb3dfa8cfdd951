import { bytesEqual, toHex, type KeyPair } from "@phala-ts/primitives";
import { PhalaRegistryStorage } from "@phala-ts/runtime/phala";
import { registerWorkerCall, updateWorkerEndpointCall } from "./calls.ts";
import type { ChainClient } from "./chain-client.ts";
import { ChainRefusedError, NodeRpcError, PhostError, PruntimeRefusedError, errorCode, errorMessage, isConnectivityError } from "./errors.ts";
import { InclusionWatch, type Inclusion } from "./inclusion-watch.ts";
import type { Logger } from "./logger.ts";
import { signAsOperator } from "./operator-signer.ts";
import type { PruntimeClient } from "./pruntime-client.ts";
import { REGISTRATION_REFUSALS_NEEDING_OPERATOR, registryRefusalHint } from "./registry-refusals.ts";

export interface RegistrarOptions {
  chain: ChainClient;
  pruntime: PruntimeClient;
  logger: Logger;
  operator: KeyPair;
  /** The worker's public URL, advertised with `update_worker_endpoint`. */
  endpointUrl: string;
  /** A fresh signed endpoint every this many finalized blocks. */
  endpointRefreshBlocks: number;
  /** A submission neither on chain nor refused after this many finalized blocks is submitted again. */
  inclusionTimeoutBlocks: number;
  /** First wait after a refusal; doubled after each one up to retryDelayMaxMs. */
  retryDelayMs: number;
  retryDelayMaxMs: number;
  now: () => number;
}

/** Retry schedule of one kind of submission: exponential backoff, reset once a submission takes effect on chain. */
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
  /** Schedules the next attempt and returns the wait; `longest` waits maxMs at once. */
  fail(nowMs: number, longest = false): number {
    const delayMs = longest ? this.maxMs : Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    this.#notBeforeMs = nowMs + delayMs;
    return delayMs;
  }
  succeed(): void {
    this.#failures = 0;
    this.#notBeforeMs = -Infinity;
  }
}

type Failed = Extract<Inclusion, { status: "failed" }>;

/**
 * Keeps the worker registered and its endpoint fresh, once pRuntime is at the chain's tip:
 * reads `PhalaRegistry.Workers(pubkey)`; when absent, asks pRuntime for its registration
 * info and evidence and submits `register_worker` signed by the operator, then follows it
 * through finalized blocks (InclusionWatch). When present, submits `update_worker_endpoint`
 * every `endpointRefreshBlocks` blocks, followed the same way.
 *
 * A refusal by pRuntime or the pool is logged with its reason; one by the chain (included,
 * `System.ExtrinsicFailed`) with the pallet error and a hint, and kept as `lastRefusal`.
 * Both are retried with backoff; a registration refused for a cause only the operator can
 * change (REGISTRATION_REFUSALS_NEEDING_OPERATOR) waits retryDelayMaxMs each time, so a
 * misconfigured worker does not pay a fee every few blocks. A submission neither on chain
 * nor refused after `inclusionTimeoutBlocks` is submitted again. Connection failures are
 * thrown to the caller's retry loop.
 */
export class Registrar {
  readonly #opts: RegistrarOptions;
  #registered: boolean | undefined;
  /** Height and key of the last storage check: once per finalized block (and per key, should pRuntime's change). */
  #checked: string | undefined;
  #pending: { submittedAtHeight: number; hash: Uint8Array; watch: InclusionWatch } | undefined;
  readonly #registerBackoff: Backoff;
  readonly #endpointBackoff: Backoff;
  #endpointHeight: number | undefined;
  /** The last endpoint submitted, until it shows in `PhalaRegistry.Endpoints` or times out. */
  #endpointPending: { payload: Uint8Array; submittedAtHeight: number; checkedAtHeight: number; watch: InclusionWatch } | undefined;
  /** The chain's last refusal, until a registration (or endpoint update, by its code) takes effect. */
  #lastRefusal: ChainRefusedError | undefined;
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

  /** The chain's last dispatch refusal of a registration or endpoint update not yet followed by a success. */
  get lastRefusal(): ChainRefusedError | undefined {
    return this.#lastRefusal;
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
        if (this.#lastRefusal?.code === "REGISTRATION_REFUSED") this.#lastRefusal = undefined;
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
    const pending = this.#pending;
    if (pending) {
      const inclusion = await this.#follow(pending.watch, height, "registration");
      if (inclusion.status === "failed") {
        this.#pending = undefined;
        this.#refused("REGISTRATION_REFUSED", inclusion, this.#registerBackoff);
        return;
      }
      if (height - pending.submittedAtHeight < inclusionTimeoutBlocks) return;
      const retryInMs = this.#registerBackoff.fail(now());
      logger.warn("the worker registration did not reach the chain; submitting again", {
        hash: pending.hash,
        submittedAt: pending.submittedAtHeight,
        height,
        retryInMs,
        hint: timeoutHint(inclusion, "PhalaRegistry.Workers"),
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
    this.#pending = { submittedAtHeight: height, hash, watch: new InclusionWatch(this.#opts.chain, hash, height) };
    logger.info("submitted the worker registration; waiting for it to be finalized", { pubkey: toHex(workerPubkey), hash, height });
  }

  async #refreshEndpoint(height: number, workerPubkey: Uint8Array): Promise<void> {
    const { endpointRefreshBlocks, endpointUrl, now, logger, inclusionTimeoutBlocks } = this.#opts;
    const pending = this.#endpointPending;
    if (pending) {
      // Once per finalized block, see whether the update landed in storage, or was
      // included and refused in dispatch (a bad signature, a stale signed_at).
      if (pending.checkedAtHeight === height) return;
      pending.checkedAtHeight = height;
      const stored = await this.#opts.chain.storage(PhalaRegistryStorage.Endpoints.key(workerPubkey));
      if (stored !== undefined && bytesEqual(stored, pending.payload)) {
        logger.debug("the worker endpoint is on chain", { endpoint: endpointUrl, height });
        this.#endpointPending = undefined;
        this.#endpointBackoff.succeed();
        if (this.#lastRefusal?.code === "ENDPOINT_REFUSED") this.#lastRefusal = undefined;
      } else {
        const inclusion = await this.#follow(pending.watch, height, "endpoint update");
        if (inclusion.status === "failed") {
          this.#endpointPending = undefined;
          this.#endpointHeight = undefined;
          this.#refused("ENDPOINT_REFUSED", inclusion, this.#endpointBackoff);
          return;
        }
        if (height - pending.submittedAtHeight < inclusionTimeoutBlocks) return;
        this.#endpointPending = undefined;
        this.#endpointHeight = undefined;
        const retryInMs = this.#endpointBackoff.fail(now());
        logger.warn("the worker endpoint update did not reach the chain; submitting again", {
          endpoint: endpointUrl,
          submittedAt: pending.submittedAtHeight,
          height,
          retryInMs,
          hint: timeoutHint(inclusion, "PhalaRegistry.Endpoints"),
        });
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
    this.#endpointPending = { payload, submittedAtHeight: height, checkedAtHeight: height, watch: new InclusionWatch(this.#opts.chain, hash, height) };
    logger.info("submitted the worker endpoint", { endpoint: endpointUrl, hash, height });
  }

  /** Advances a watch, saying once when it is included or cannot be followed. */
  async #follow(watch: InclusionWatch, height: number, what: string): Promise<Inclusion> {
    const before = watch.result.status;
    const inclusion = await watch.advance(height);
    if (before !== "waiting") return inclusion;
    if (inclusion.status === "unknown") {
      this.#opts.logger.warn(`cannot tell whether the chain accepted the ${what}; watching storage instead`, { reason: inclusion.reason });
    } else if (inclusion.status === "succeeded") {
      this.#opts.logger.debug(`the ${what} was included`, { block: inclusion.blockNumber });
    }
    return inclusion;
  }

  /** Reports a dispatch refusal (one line, with a hint when there is one) and schedules the retry. */
  #refused(code: "REGISTRATION_REFUSED" | "ENDPOINT_REFUSED", inclusion: Failed, backoff: Backoff): void {
    const { logger, now } = this.#opts;
    const needsOperator = code === "REGISTRATION_REFUSED" && REGISTRATION_REFUSALS_NEEDING_OPERATOR.has(inclusion.error);
    const retryInMs = backoff.fail(now(), needsOperator);
    const hint = registryRefusalHint(inclusion.error);
    this.#lastRefusal = new ChainRefusedError(code, inclusion.error, hint, inclusion.blockNumber, inclusion.blockHash);
    const msg = code === "REGISTRATION_REFUSED" ? "the chain refused this worker's registration" : "the chain refused this worker's endpoint update";
    const fields = { error: inclusion.error, ...(hint === undefined ? {} : { hint }), block: inclusion.blockNumber, retryInMs };
    // error: pHost cannot register without the operator; warn: the next attempt may pass.
    if (needsOperator) logger.error(msg, fields);
    else logger.warn(msg, fields);
  }

  /**
   * Builds a call with `makeCall`, signs it as the operator and submits it. Returns the
   * hash, or undefined after logging a refusal (by pRuntime or the node) and scheduling a
   * retry. The backoff is not reset here: only a submission that takes effect on chain does
   * that. Connection failures are rethrown.
   */
  async #submit(what: string, backoff: Backoff, makeCall: () => Promise<Uint8Array>): Promise<Uint8Array | undefined> {
    const { chain, operator, logger, now } = this.#opts;
    let stage = "pRuntime";
    try {
      const call = await makeCall();
      stage = "node";
      const { extrinsic, nonce } = await signAsOperator(chain, operator, call);
      const hash = await chain.submitExtrinsic(extrinsic);
      logger.debug(`${what} accepted by the pool`, { nonce });
      return hash;
    } catch (e) {
      if (isConnectivityError(e)) throw e;
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

/** Why a submission timed out, by what its watch saw. */
function timeoutHint(inclusion: Inclusion, storage: string): string {
  switch (inclusion.status) {
    case "waiting":
      return "it is in no finalized block since it was submitted; the pool may have dropped it";
    case "succeeded":
      return `it was included in block ${inclusion.blockNumber} and succeeded, but ${storage} does not show it`;
    case "unknown":
      return `its outcome is unknown (${inclusion.reason})`;
    case "failed":
      return `it was refused: ${inclusion.error}`;
  }
}
