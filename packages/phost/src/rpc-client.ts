import { WebSocket } from "ws";
import { NodeRpcError, PhostError, errorMessage } from "./errors.ts";
import type { Logger } from "./logger.ts";

/** Requests waiting for an answer at once; pHost sends a handful at a time, so more means a stuck node. */
export const RPC_PENDING_MAX = 256;
/** Subscriptions one client keeps; pHost needs one (finalized heads). */
export const RPC_SUBSCRIPTIONS_MAX = 16;
/**
 * Notifications kept for a subscription id the client does not know yet (a server may send
 * the first one before the subscribe answer arrives); the rest are dropped.
 */
export const RPC_ORPHAN_NOTIFICATIONS_MAX = 64;
/** Largest WebSocket message accepted: a sync batch of 1000 blocks with read proofs stays well below. */
export const RPC_MESSAGE_BYTES_MAX = 256 * 1024 * 1024;

export interface RpcClientOptions {
  /** ws:// or wss:// address of the node. */
  url: string;
  logger: Logger;
  /** A request without an answer after this long fails with NODE_TIMEOUT. */
  requestTimeoutMs: number;
  /** First delay before reconnecting; doubled after each failed attempt up to reconnectDelayMaxMs. */
  reconnectDelayMs: number;
  reconnectDelayMaxMs: number;
  /** Where the client schedules its timeouts and reconnections; default: Node's timers. */
  timers?: RpcTimers;
}

/**
 * The timer the client schedules on, injected so that a caller (a test) can see what is still
 * scheduled: after close() nothing is, so nothing can reconnect later.
 */
export interface RpcTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIMERS: RpcTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

export interface SubscriptionSpec {
  method: string;
  params: unknown[];
  unsubscribeMethod: string;
  /** Called with each notification's `result`. Must not throw; it should only record the value. */
  onItem(result: unknown): void;
  /** Called when the node refuses the subscription (e.g. it does not know the method). */
  onError?(error: PhostError): void;
}

export interface Subscription {
  /** Whether the node has confirmed the subscription on the current connection. */
  readonly active: boolean;
  unsubscribe(): void;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: PhostError): void;
  timer: unknown;
}

interface SubState {
  spec: SubscriptionSpec;
  serverId: string | undefined;
  removed: boolean;
}

/**
 * A JSON-RPC 2.0 client over one WebSocket that reconnects by itself: requests with ids
 * and timeouts, and subscriptions that are made again on every new connection. A request
 * made while disconnected fails at once with NODE_UNAVAILABLE, so the caller decides when
 * to retry (listen with `onConnect` to retry as soon as the node is back).
 */
export class RpcClient {
  readonly #opts: RpcClientOptions;
  readonly #log: Logger;
  readonly #timers: RpcTimers;
  #ws: WebSocket | undefined;
  #open = false;
  #closed = false;
  #started = false;
  #nextId = 1;
  #failedAttempts = 0;
  #everConnected = false;
  /** Whether this outage was already reported at warn level (one warning per outage). */
  #warnedOutage = false;
  #reconnectTimer: unknown;
  readonly #pending = new Map<number, Pending>();
  readonly #subs = new Set<SubState>();
  readonly #subsByServerId = new Map<string, SubState>();
  readonly #orphans: Array<{ id: string; result: unknown }> = [];
  readonly #connectListeners = new Set<() => void>();
  #closedSocket: Promise<void> = Promise.resolve();

  constructor(options: RpcClientOptions) {
    this.#opts = options;
    this.#log = options.logger;
    this.#timers = options.timers ?? NODE_TIMERS;
  }

  get connected(): boolean {
    return this.#open;
  }

  /** Starts connecting; later drops are healed by reconnecting with backoff until close(). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#connect();
  }

  /** Calls `listener` after every successful (re)connection. Returns a function that removes it. */
  onConnect(listener: () => void): () => void {
    this.#connectListeners.add(listener);
    return () => this.#connectListeners.delete(listener);
  }

  request(method: string, params: unknown[] = []): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PhostError("STOPPED", `${method}: the RPC client is closed`));
    const ws = this.#ws;
    if (!this.#open || !ws) {
      return Promise.reject(new PhostError("NODE_UNAVAILABLE", `${method}: not connected to the node at ${this.#opts.url}`, { details: { method } }));
    }
    if (this.#pending.size >= RPC_PENDING_MAX) {
      return Promise.reject(new PhostError("NODE_BUSY", `${method}: ${RPC_PENDING_MAX} requests are already waiting for the node`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#pending.delete(id);
        reject(new PhostError("NODE_TIMEOUT", `${method}: the node did not answer within ${this.#opts.requestTimeoutMs} ms`, { details: { method } }));
      }, this.#opts.requestTimeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }), (err) => {
        if (!err) return;
        const p = this.#pending.get(id);
        if (!p) return;
        this.#pending.delete(id);
        this.#timers.clearTimeout(p.timer);
        p.reject(new PhostError("NODE_UNAVAILABLE", `${method}: sending to the node failed: ${err.message}`, { cause: err }));
      });
    });
  }

  /** Subscribes now if connected, and again after every reconnection, until unsubscribed. */
  subscribe(spec: SubscriptionSpec): Subscription {
    if (this.#subs.size >= RPC_SUBSCRIPTIONS_MAX) {
      throw new PhostError("NODE_BUSY", `at most ${RPC_SUBSCRIPTIONS_MAX} subscriptions per client`);
    }
    const sub: SubState = { spec, serverId: undefined, removed: false };
    this.#subs.add(sub);
    if (this.#open) this.#establish(sub);
    return {
      get active() {
        return sub.serverId !== undefined && !sub.removed;
      },
      unsubscribe: () => {
        if (sub.removed) return;
        sub.removed = true;
        this.#subs.delete(sub);
        if (sub.serverId !== undefined) {
          this.#subsByServerId.delete(sub.serverId);
          const id = sub.serverId;
          sub.serverId = undefined;
          this.request(spec.unsubscribeMethod, [id]).catch(() => {
            // Nothing to undo: the node drops the subscription with the connection anyway.
          });
        }
      },
    };
  }

  /** Stops reconnecting, fails waiting requests with STOPPED and closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return this.#closedSocket;
    this.#closed = true;
    this.#timers.clearTimeout(this.#reconnectTimer);
    this.#rejectPending(() => new PhostError("STOPPED", "the RPC client was closed"));
    this.#ws?.terminate();
    await this.#closedSocket;
  }

  #connect(): void {
    if (this.#closed) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#opts.url, { handshakeTimeout: this.#opts.requestTimeoutMs, maxPayload: RPC_MESSAGE_BYTES_MAX });
    } catch (e) {
      // A malformed URL is caught by option validation; anything else is retried like a refusal.
      this.#failedAttempts++;
      this.#scheduleReconnect(errorMessage(e));
      return;
    }
    this.#ws = ws;
    let lastError = "";
    let resolveClosed!: () => void;
    this.#closedSocket = new Promise((r) => (resolveClosed = r));
    ws.on("open", () => {
      if (this.#closed) return;
      this.#open = true;
      this.#failedAttempts = 0;
      this.#warnedOutage = false;
      this.#log.info(this.#everConnected ? "reconnected to the node" : "connected to the node", { url: this.#opts.url });
      this.#everConnected = true;
      for (const sub of this.#subs) this.#establish(sub);
      for (const l of this.#connectListeners) l();
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      this.#onMessage(String(data));
    });
    ws.on("error", (e) => {
      lastError = e.message;
    });
    ws.on("close", (code) => {
      const wasOpen = this.#open;
      this.#open = false;
      this.#ws = undefined;
      this.#subsByServerId.clear();
      for (const sub of this.#subs) sub.serverId = undefined;
      this.#orphans.length = 0;
      this.#rejectPending((p) => new PhostError("NODE_UNAVAILABLE", `${p.method}: the connection to the node closed before it answered`));
      resolveClosed();
      if (this.#closed) return;
      if (wasOpen) {
        this.#log.warn("lost the connection to the node; reconnecting", { url: this.#opts.url, closeCode: code, ...(lastError ? { error: lastError } : {}) });
        this.#warnedOutage = true;
        this.#scheduleReconnect();
      } else {
        this.#failedAttempts++;
        this.#scheduleReconnect(lastError || `closed with code ${code}`);
      }
    });
  }

  /** Reconnects after a delay that doubles with each failed attempt; `failure` says why the last attempt failed. */
  #scheduleReconnect(failure?: string): void {
    if (this.#closed) return;
    const delayMs = Math.min(this.#opts.reconnectDelayMaxMs, this.#opts.reconnectDelayMs * 2 ** Math.min(this.#failedAttempts, 30));
    if (failure !== undefined) {
      // One warning per outage; the retries that follow only at debug.
      const fields = { url: this.#opts.url, error: failure, retryInMs: delayMs, attempt: this.#failedAttempts };
      if (!this.#warnedOutage) this.#log.warn("cannot reach the node; retrying", fields);
      else this.#log.debug("cannot reach the node; retrying", fields);
      this.#warnedOutage = true;
    }
    this.#reconnectTimer = this.#timers.setTimeout(() => this.#connect(), delayMs);
  }

  #establish(sub: SubState): void {
    this.request(sub.spec.method, sub.spec.params).then(
      (id) => {
        if (typeof id !== "string" && typeof id !== "number") {
          sub.spec.onError?.(new PhostError("NODE_BAD_RESPONSE", `${sub.spec.method} answered a subscription id of type ${typeof id}`));
          return;
        }
        const key = String(id);
        if (sub.removed) {
          this.request(sub.spec.unsubscribeMethod, [id]).catch(() => {});
          return;
        }
        sub.serverId = key;
        this.#subsByServerId.set(key, sub);
        for (let i = 0; i < this.#orphans.length; ) {
          if (this.#orphans[i].id === key) {
            sub.spec.onItem(this.#orphans[i].result);
            this.#orphans.splice(i, 1);
          } else i++;
        }
      },
      (e: PhostError) => {
        // A dropped connection re-establishes on reconnect; a refusal is the caller's to handle.
        if (e.code === "NODE_RPC_ERROR") sub.spec.onError?.(e);
      },
    );
  }

  #onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#log.debug("ignored a message from the node that is not JSON", { bytes: text.length });
      return;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    if (typeof m.id === "number" && this.#pending.has(m.id)) {
      const p = this.#pending.get(m.id)!;
      this.#pending.delete(m.id);
      this.#timers.clearTimeout(p.timer);
      const err = m.error;
      if (err !== undefined && err !== null) {
        const e = typeof err === "object" ? (err as Record<string, unknown>) : {};
        const code = typeof e.code === "number" ? e.code : 0;
        const message = typeof e.message === "string" ? e.message : "unknown error";
        p.reject(new NodeRpcError(p.method, code, message, e.data));
      } else {
        p.resolve(m.result);
      }
      return;
    }
    const params = m.params;
    if (typeof m.method === "string" && typeof params === "object" && params !== null) {
      const { subscription, result } = params as Record<string, unknown>;
      if (typeof subscription !== "string" && typeof subscription !== "number") return;
      const key = String(subscription);
      const sub = this.#subsByServerId.get(key);
      if (sub) sub.spec.onItem(result);
      else if (this.#orphans.length < RPC_ORPHAN_NOTIFICATIONS_MAX) this.#orphans.push({ id: key, result });
    }
  }

  #rejectPending(make: (p: Pending) => PhostError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) {
      this.#timers.clearTimeout(p.timer);
      p.reject(make(p));
    }
  }
}
