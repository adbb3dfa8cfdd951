import { KEY_TYPES, type KeyPair } from "@phala-ts/primitives";
import { SYNC_BATCH_BLOCKS_MAX } from "@phala-ts/runtime/phala";
import { ChainClient, headerNumber } from "./chain-client.ts";
import { EgressRelay, type EgressStats } from "./egress-relay.ts";
import { PhostError, errorCode, errorMessage, type ChainRefusedError } from "./errors.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { ProgressReporter } from "./progress.ts";
import { PruntimeClient } from "./pruntime-client.ts";
import { Registrar } from "./registrar.ts";
import { RpcClient, type Subscription } from "./rpc-client.ts";
import { BatchRefusedError, SyncLoop } from "./sync-loop.ts";

export interface PhostOptions {
  /** The node's JSON-RPC WebSocket, e.g. ws://127.0.0.1:9944 */
  nodeUrl: string;
  /** pRuntime's HTTP API, e.g. http://127.0.0.1:8000 */
  pruntimeUrl: string;
  /** Signs register_worker and update_worker_endpoint and pays their fees. */
  operator: KeyPair;
  /** The worker's public URL advertised on chain. Default: pruntimeUrl. */
  endpointUrl?: string;
  /** Blocks per `phala_getSyncBatch`. Default 1000, at most SYNC_BATCH_BLOCKS_MAX. */
  batchSize?: number;
  /** How often pHost looks for new work when at the tip (the head subscription wakes it sooner). Default 500. */
  pollIntervalMs?: number;
  /** A fresh signed endpoint every this many finalized blocks. Default 50. */
  endpointRefreshBlocks?: number;
  /** Default: logs nothing. The CLI passes its logger. */
  logger?: Logger;
  /** First wait after a failure, doubled after each consecutive one up to retryDelayMaxMs. Default 1000. */
  retryDelayMs?: number;
  /** Default 30 000. */
  retryDelayMaxMs?: number;
  /** A node or pRuntime request without an answer after this long fails and is retried. Default 60 000. */
  requestTimeoutMs?: number;
  /** The same egress message is not submitted again sooner than this. Default 6000 (one block). */
  egressResubmitIntervalMs?: number;
  /** A progress line at most this often while behind. Default 2000. */
  progressIntervalMs?: number;
  /**
   * A registration or endpoint update neither on chain nor refused (System.ExtrinsicFailed)
   * after this many finalized blocks is submitted again. Default 20.
   */
  registrationTimeoutBlocks?: number;
}

export const PHOST_DEFAULTS = {
  batchSize: 1000,
  pollIntervalMs: 500,
  endpointRefreshBlocks: 50,
  retryDelayMs: 1000,
  retryDelayMaxMs: 30_000,
  requestTimeoutMs: 60_000,
  egressResubmitIntervalMs: 6000,
  progressIntervalMs: 2000,
  registrationTimeoutBlocks: 20,
} as const;

export type PhostState =
  /** Not yet through its first round. */
  | "starting"
  /** Feeding batches to pRuntime. */
  | "syncing"
  /** pRuntime is at the finalized head; registering, refreshing the endpoint, relaying egress. */
  | "caught-up"
  /** The last round failed; waiting before the next (see lastError). */
  | "retrying"
  | "stopped";

export interface PhostStatus {
  state: PhostState;
  nodeConnected: boolean;
  /** Whether the last request to pRuntime got an answer; undefined before the first. */
  pruntimeReachable: boolean | undefined;
  finalizedHeight: number | undefined;
  /** pRuntime's synced height as last reported. */
  syncedHeight: number | undefined;
  blocksPerSecond: number | undefined;
  etaSeconds: number | undefined;
  /** Whether `PhalaRegistry.Workers(pubkey)` was on chain at the last check. */
  registered: boolean | undefined;
  registrationsSubmitted: number;
  endpointUpdatesSubmitted: number;
  endpointUpdatedAtHeight: number | undefined;
  egress: EgressStats;
  /**
   * The last round's failure; else the chain's last refusal of the registration or endpoint
   * update (REGISTRATION_REFUSED, ENDPOINT_REFUSED, with `dispatchError` such as
   * "PhalaRegistry.DevAttestationNotAllowed"), kept until one takes effect.
   */
  lastError: { code: string; message: string; dispatchError?: string } | undefined;
}

export interface Phost {
  /** Closes the socket, aborts requests in flight and clears every timer. */
  stop(): Promise<void>;
  status(): PhostStatus;
}

type Resolved = Required<Omit<PhostOptions, "logger">> & { logger: Logger };

function invalid(message: string): PhostError<"INVALID_OPTIONS"> {
  return new PhostError("INVALID_OPTIONS", message);
}

function checkUrl(name: string, value: unknown, protocols: string[]): string {
  if (typeof value !== "string") throw invalid(`${name} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch (e) {
    throw new PhostError("INVALID_OPTIONS", `${name} "${value}" is not a URL`, { cause: e });
  }
  if (!protocols.includes(url.protocol)) throw invalid(`${name} must start with ${protocols.map((p) => p + "//").join(" or ")}, got "${value}"`);
  return value;
}

function checkInt(name: string, value: number | undefined, dflt: number, min: number, max: number): number {
  const v = value ?? dflt;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw invalid(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/** Fills defaults and checks every option; throws PhostError INVALID_OPTIONS. */
export function resolvePhostOptions(o: PhostOptions): Resolved {
  const D = PHOST_DEFAULTS;
  if (!o.operator || !KEY_TYPES.includes(o.operator.type) || !(o.operator.accountId instanceof Uint8Array) || o.operator.accountId.length !== 32) {
    throw invalid("operator must be a key pair from @phala-ts/primitives (keyPairFromUri)");
  }
  const retryDelayMs = checkInt("retryDelayMs", o.retryDelayMs, D.retryDelayMs, 1, 3_600_000);
  return {
    nodeUrl: checkUrl("nodeUrl", o.nodeUrl, ["ws:", "wss:"]),
    pruntimeUrl: checkUrl("pruntimeUrl", o.pruntimeUrl, ["http:", "https:"]),
    operator: o.operator,
    endpointUrl: o.endpointUrl === undefined ? o.pruntimeUrl : checkUrl("endpointUrl", o.endpointUrl, ["http:", "https:"]),
    batchSize: checkInt("batchSize", o.batchSize, D.batchSize, 1, SYNC_BATCH_BLOCKS_MAX),
    pollIntervalMs: checkInt("pollIntervalMs", o.pollIntervalMs, D.pollIntervalMs, 1, 3_600_000),
    endpointRefreshBlocks: checkInt("endpointRefreshBlocks", o.endpointRefreshBlocks, D.endpointRefreshBlocks, 1, 0xffff_ffff),
    logger: o.logger ?? silentLogger,
    retryDelayMs,
    retryDelayMaxMs: checkInt("retryDelayMaxMs", o.retryDelayMaxMs, Math.max(D.retryDelayMaxMs, retryDelayMs), retryDelayMs, 3_600_000),
    requestTimeoutMs: checkInt("requestTimeoutMs", o.requestTimeoutMs, D.requestTimeoutMs, 1, 3_600_000),
    egressResubmitIntervalMs: checkInt("egressResubmitIntervalMs", o.egressResubmitIntervalMs, D.egressResubmitIntervalMs, 0, 3_600_000),
    progressIntervalMs: checkInt("progressIntervalMs", o.progressIntervalMs, D.progressIntervalMs, 0, 3_600_000),
    registrationTimeoutBlocks: checkInt("registrationTimeoutBlocks", o.registrationTimeoutBlocks, D.registrationTimeoutBlocks, 1, 0xffff_ffff),
  };
}

type WakeReason = "head" | "connect" | "stop";

function refusal(e: ChainRefusedError | undefined): PhostStatus["lastError"] {
  return e && { code: e.code, message: e.message, dispatchError: e.dispatchError };
}

/**
 * Wires the parts and owns the one loop: each round reads pRuntime's state and the
 * finalized height, syncs to the head, relays egress and, at the head, keeps the worker
 * registered. Network callbacks only record a value and wake the loop; all decisions are
 * taken in the loop. A failed round waits with exponential backoff, and a head
 * notification does not cut that wait short, so a refused batch is never retried in a
 * spin. While the node is unreachable the loop waits for the RPC client to reconnect.
 */
class PhostService {
  readonly #o: Resolved;
  readonly #log: Logger;
  readonly #rpc: RpcClient;
  readonly #chain: ChainClient;
  readonly #pruntime: PruntimeClient;
  readonly #progress: ProgressReporter;
  readonly #sync: SyncLoop;
  readonly #registrar: Registrar;
  readonly #egress: EgressRelay;
  readonly #abort = new AbortController();
  readonly #headSub: Subscription;
  readonly #loopDone: Promise<void>;
  #stopped = false;
  #state: PhostState = "starting";
  #subHead: number | undefined;
  #genesisHash: Uint8Array | undefined;
  #finalized: number | undefined;
  #synced: number | undefined;
  #pruntimeReachable: boolean | undefined;
  #failures = 0;
  #lastError: { code: string; message: string } | undefined;
  #waker: { accepts: WakeReason[]; done: () => void } | undefined;
  /** Code of the last egress failure, so a lasting one is warned about once. */
  #egressFailure: string | undefined;

  constructor(o: Resolved) {
    this.#o = o;
    this.#log = o.logger;
    const now = () => performance.now();
    this.#rpc = new RpcClient({
      url: o.nodeUrl,
      logger: o.logger.child("rpc"),
      requestTimeoutMs: o.requestTimeoutMs,
      reconnectDelayMs: o.retryDelayMs,
      reconnectDelayMaxMs: o.retryDelayMaxMs,
    });
    this.#chain = new ChainClient(this.#rpc);
    this.#pruntime = new PruntimeClient({ url: o.pruntimeUrl, requestTimeoutMs: o.requestTimeoutMs, signal: this.#abort.signal });
    this.#progress = new ProgressReporter({ logger: o.logger.child("sync"), intervalMs: o.progressIntervalMs, now });
    this.#sync = new SyncLoop({ chain: this.#chain, pruntime: this.#pruntime, logger: o.logger.child("sync"), progress: this.#progress, batchSize: o.batchSize });
    this.#registrar = new Registrar({
      chain: this.#chain,
      pruntime: this.#pruntime,
      logger: o.logger.child("registry"),
      operator: o.operator,
      endpointUrl: o.endpointUrl,
      endpointRefreshBlocks: o.endpointRefreshBlocks,
      inclusionTimeoutBlocks: o.registrationTimeoutBlocks,
      retryDelayMs: o.retryDelayMs,
      retryDelayMaxMs: o.retryDelayMaxMs,
      now,
    });
    this.#egress = new EgressRelay({
      chain: this.#chain,
      pruntime: this.#pruntime,
      logger: o.logger.child("egress"),
      resubmitIntervalMs: o.egressResubmitIntervalMs,
      now,
    });
    this.#rpc.onConnect(() => {
      // A new connection may be to a restarted or different node: read everything again.
      this.#genesisHash = undefined;
      this.#subHead = undefined;
      this.#wake("connect");
    });
    this.#headSub = this.#rpc.subscribe({
      method: "chain_subscribeFinalizedHeads",
      params: [],
      unsubscribeMethod: "chain_unsubscribeFinalizedHeads",
      onItem: (header) => {
        try {
          this.#subHead = headerNumber("chain_subscribeFinalizedHeads", header);
        } catch (e) {
          this.#log.debug("ignored a finalized-head notification", { reason: errorMessage(e) });
          return;
        }
        this.#wake("head");
      },
      onError: (e) => this.#log.info("the node refused the finalized-head subscription; polling instead", { reason: e.message }),
    });
    this.#log.info("pHost starting", { node: o.nodeUrl, pruntime: o.pruntimeUrl, endpoint: o.endpointUrl, batchSize: o.batchSize });
    this.#rpc.start();
    this.#loopDone = this.#run();
  }

  status(): PhostStatus {
    const p = this.#progress.snapshot;
    const r = this.#registrar.stats;
    return {
      state: this.#state,
      nodeConnected: this.#rpc.connected,
      pruntimeReachable: this.#pruntimeReachable,
      finalizedHeight: this.#finalized,
      syncedHeight: this.#synced,
      blocksPerSecond: p.blocksPerSecond,
      etaSeconds: p.etaSeconds,
      registered: this.#registrar.registered,
      registrationsSubmitted: r.registrationsSubmitted,
      endpointUpdatesSubmitted: r.endpointUpdatesSubmitted,
      endpointUpdatedAtHeight: r.endpointUpdatedAtHeight,
      egress: { ...this.#egress.stats },
      lastError: this.#lastError ?? refusal(this.#registrar.lastRefusal),
    };
  }

  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#abort.abort();
      this.#headSub.unsubscribe();
      this.#wake("stop");
      await this.#rpc.close();
    }
    await this.#loopDone;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let delayMs: number;
      let wakeOn: WakeReason[];
      try {
        await this.#round();
        this.#failures = 0;
        this.#lastError = undefined;
        // A head that arrived during the round is worked on at once.
        const behind = this.#subHead !== undefined && this.#synced !== undefined && this.#headSub.active && this.#subHead > this.#synced;
        delayMs = behind ? 0 : this.#o.pollIntervalMs;
        wakeOn = ["head", "connect", "stop"];
      } catch (e) {
        if (this.#stopped) break;
        if (errorCode(e) === "NODE_UNAVAILABLE") {
          // The RPC client reconnects with its own backoff (and says so); wait for it.
          this.#state = "retrying";
          this.#lastError = { code: "NODE_UNAVAILABLE", message: errorMessage(e) };
          this.#log.debug("waiting for the node", { reason: errorMessage(e) });
          delayMs = this.#rpc.connected ? this.#o.retryDelayMs : this.#o.retryDelayMaxMs;
          wakeOn = ["connect", "stop"];
        } else {
          delayMs = this.#onFailure(e);
          wakeOn = ["stop"];
        }
      }
      await this.#sleep(delayMs, wakeOn);
    }
    this.#state = "stopped";
    this.#log.info("pHost stopped", { syncedHeight: this.#synced });
  }

  async #round(): Promise<void> {
    const genesisHash = (this.#genesisHash ??= await this.#chain.genesisHash());
    const info = await this.#sync.prepare(genesisHash);
    if (this.#pruntimeReachable === false) this.#log.info("pRuntime answers again", { url: this.#o.pruntimeUrl });
    this.#pruntimeReachable = true;
    this.#synced = info.syncedHeight;
    let finalized = await this.#finalizedHeight();
    this.#finalized = finalized;
    const target = () => {
      if (this.#headSub.active && this.#subHead !== undefined && this.#subHead > finalized) finalized = this.#subHead;
      this.#finalized = finalized;
      return finalized;
    };
    if (info.syncedHeight < finalized) this.#state = "syncing";
    const reached = await this.#sync.run(
      info.syncedHeight,
      target,
      async (height) => {
        // An accepted batch ends a streak of failures.
        this.#synced = height;
        this.#failures = 0;
        this.#lastError = undefined;
        this.#state = "syncing";
        await this.#relayEgress();
      },
      () => this.#stopped,
    );
    this.#synced = reached;
    if (this.#stopped || reached < finalized) return;
    this.#state = "caught-up";
    await this.#relayEgress();
    await this.#registrar.step(reached, info.identityKey);
  }

  async #finalizedHeight(): Promise<number> {
    if (this.#headSub.active && this.#subHead !== undefined) return this.#subHead;
    return this.#chain.finalizedHeight();
  }

  /** Egress failures other than lost connections are logged here and do not hold up syncing. */
  async #relayEgress(): Promise<void> {
    try {
      await this.#egress.relay();
      this.#egressFailure = undefined;
    } catch (e) {
      const code = errorCode(e);
      if (code === "NODE_UNAVAILABLE" || code === "NODE_TIMEOUT" || code === "PRUNTIME_UNAVAILABLE" || code === "STOPPED") throw e;
      const fields = { code, reason: errorMessage(e) };
      if (this.#egressFailure !== code) this.#log.warn("egress relay failed; trying again next round", fields);
      else this.#log.debug("egress relay failed again", fields);
      this.#egressFailure = code;
    }
  }

  /** Logs a failed round by kind and returns how long to wait before the next. */
  #onFailure(e: unknown): number {
    this.#failures++;
    const delayMs = Math.min(this.#o.retryDelayMaxMs, this.#o.retryDelayMs * 2 ** Math.min(this.#failures - 1, 30));
    const code = errorCode(e);
    const reason = errorMessage(e);
    this.#lastError = { code, message: reason };
    this.#state = "retrying";
    const log = this.#log;
    if (code === "PRUNTIME_UNAVAILABLE") {
      if (this.#pruntimeReachable !== false) log.warn("cannot reach pRuntime; retrying", { url: this.#o.pruntimeUrl, reason, retryInMs: delayMs });
      else log.debug("cannot reach pRuntime; retrying", { reason, retryInMs: delayMs });
      this.#pruntimeReachable = false;
    } else if (code === "GENESIS_MISMATCH") {
      log.error("pRuntime and the node are on different chains; not syncing", { ...(e as PhostError).details, retryInMs: delayMs });
    } else if (e instanceof BatchRefusedError) {
      log.warn("pRuntime refused a sync batch; retrying", {
        from: e.from,
        code: e.refusal.pruntimeCode,
        reason: e.refusal.pruntimeMessage,
        retryInMs: delayMs,
      });
    } else {
      log.warn("sync round failed; retrying", { code, reason, retryInMs: delayMs });
    }
    return delayMs;
  }

  #sleep(ms: number, accepts: WakeReason[]): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waker = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waker = { accepts, done };
    });
  }

  #wake(reason: WakeReason): void {
    const w = this.#waker;
    if (w && w.accepts.includes(reason)) w.done();
  }
}

/**
 * Starts pHost: connects to the node and pRuntime (retrying until they answer), feeds
 * pRuntime finalized blocks, relays its egress and keeps the worker registered. Throws
 * only for invalid options (PhostError INVALID_OPTIONS); everything else is retried.
 */
export function startPhost(options: PhostOptions): Phost {
  const service = new PhostService(resolvePhostOptions(options));
  return { stop: () => service.stop(), status: () => service.status() };
}
