/**
 * A small JSON-RPC 2.0 client over one WebSocket: requests with ids and timeouts, and
 * subscriptions whose notifications may arrive before the subscribe answer. It does not
 * reconnect: when the socket closes, every waiting request and subscription fails with
 * NODE_UNAVAILABLE and the caller connects again.
 */
import { PhalaSdkError, errorMessage } from "./errors.ts";
import { RPC_MESSAGE_BYTES_MAX, RPC_ORPHAN_NOTIFICATIONS_MAX, RPC_PENDING_MAX, RPC_SUBSCRIPTIONS_MAX } from "./limits.ts";
import type { WebSocketFactory, WebSocketLike } from "./websocket.ts";

const WS_OPEN = 1;

export interface RpcClientOptions {
  url: string;
  requestTimeoutMs: number;
  webSocket: WebSocketFactory;
}

export interface RpcSubscription {
  readonly id: string;
  unsubscribe(): void;
}

export interface SubscriptionHandlers {
  onItem(result: unknown): void;
  /** The connection closed while subscribed. */
  onClose(error: PhalaSdkError): void;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: PhalaSdkError): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Sub {
  handlers: SubscriptionHandlers;
  unsubscribeMethod: string;
}

export class RpcClient {
  readonly url: string;
  readonly #opts: RpcClientOptions;
  readonly #ws: WebSocketLike;
  #closed = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #subs = new Map<string, Sub>();
  readonly #orphans: Array<{ id: string; result: unknown }> = [];

  private constructor(opts: RpcClientOptions, ws: WebSocketLike) {
    this.url = opts.url;
    this.#opts = opts;
    this.#ws = ws;
    ws.onmessage = (ev) => this.#onMessage(ev.data);
    ws.onclose = (ev) => this.#onClose(`the connection to the node at ${opts.url} closed (code ${ev.code})`);
    ws.onerror = () => {
      // The close event that follows reports the failure.
    };
  }

  /** Opens the socket; fails with NODE_UNAVAILABLE when the node cannot be reached within the request timeout. */
  static connect(opts: RpcClientOptions): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = opts.webSocket(opts.url);
      } catch (e) {
        reject(new PhalaSdkError("NODE_UNAVAILABLE", "chain", `cannot connect to the node at ${opts.url}: ${errorMessage(e)}; check the --node address`, { cause: e }));
        return;
      }
      const fail = (why: string) => {
        clearTimeout(timer);
        ws.onopen = ws.onclose = ws.onerror = null;
        try {
          ws.close();
        } catch {
          // Closing a socket that never opened may throw; it is gone either way.
        }
        reject(new PhalaSdkError("NODE_UNAVAILABLE", "chain", `cannot connect to the node at ${opts.url}: ${why}; is the node running (phala dev) and is the address right?`));
      };
      const timer = setTimeout(() => fail(`no connection within ${opts.requestTimeoutMs} ms`), opts.requestTimeoutMs);
      ws.onerror = () => {
        // The close event that follows says the attempt failed.
      };
      ws.onclose = (ev) => fail(`connection refused or closed (code ${ev.code})`);
      ws.onopen = () => {
        clearTimeout(timer);
        ws.onopen = null;
        resolve(new RpcClient(opts, ws));
      };
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(method: string, params: unknown[] = []): Promise<unknown> {
    if (this.#closed || this.#ws.readyState !== WS_OPEN) {
      return Promise.reject(new PhalaSdkError(this.#closed ? "CLOSED" : "NODE_UNAVAILABLE", this.#closed ? "sdk" : "chain", `${method}: ${this.#closed ? "the client was closed; connect again" : `not connected to the node at ${this.url}; connect again`}`));
    }
    if (this.#pending.size >= RPC_PENDING_MAX) {
      return Promise.reject(new PhalaSdkError("NODE_UNAVAILABLE", "chain", `${method}: ${RPC_PENDING_MAX} requests are already waiting for the node; wait for them before sending more`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new PhalaSdkError("NODE_TIMEOUT", "chain", `${method}: the node at ${this.url} did not answer within ${this.#opts.requestTimeoutMs} ms; it may be overloaded or stuck`, { details: { method } }));
      }, this.#opts.requestTimeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      try {
        this.#ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (e) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new PhalaSdkError("NODE_UNAVAILABLE", "chain", `${method}: sending to the node failed: ${errorMessage(e)}`, { cause: e }));
      }
    });
  }

  /**
   * Calls a subscribe method and routes its notifications to `handlers`, including any
   * that arrived before the answer. A refused subscription rejects like a request.
   */
  async subscribe(method: string, params: unknown[], unsubscribeMethod: string, handlers: SubscriptionHandlers): Promise<RpcSubscription> {
    if (this.#subs.size >= RPC_SUBSCRIPTIONS_MAX) {
      throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `at most ${RPC_SUBSCRIPTIONS_MAX} subscriptions per client; wait for some to finish`);
    }
    const raw = await this.request(method, params);
    if (typeof raw !== "string" && typeof raw !== "number") {
      throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${method} answered a subscription id of type ${typeof raw}`);
    }
    const id = String(raw);
    const sub: Sub = { handlers, unsubscribeMethod };
    this.#subs.set(id, sub);
    for (let i = 0; i < this.#orphans.length; ) {
      const o = this.#orphans[i];
      if (o.id === id) {
        this.#orphans.splice(i, 1);
        if (this.#subs.get(id) === sub) handlers.onItem(o.result);
      } else i++;
    }
    return {
      id,
      unsubscribe: () => {
        if (!this.#subs.delete(id)) return;
        if (!this.#closed) {
          this.request(unsubscribeMethod, [raw]).catch(() => {
            // The node may have ended the subscription itself; nothing to undo.
          });
        }
      },
    };
  }

  /** Closes the socket; waiting requests and subscriptions fail with CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#onClose("the client was closed", "CLOSED");
    try {
      this.#ws.close(1000, "client closed");
    } catch {
      // Already closing.
    }
  }

  #onClose(why: string, code: "CLOSED" | "NODE_UNAVAILABLE" = "NODE_UNAVAILABLE"): void {
    if (this.#closed) return;
    this.#closed = true;
    const make = (what: string) => new PhalaSdkError(code, code === "CLOSED" ? "sdk" : "chain", `${what}: ${why}${code === "CLOSED" ? "" : "; connect again"}`);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(make(p.method));
    }
    const subs = [...this.#subs.values()];
    this.#subs.clear();
    this.#orphans.length = 0;
    for (const s of subs) s.handlers.onClose(make("subscription"));
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    if (data.length > RPC_MESSAGE_BYTES_MAX) return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    if (typeof m.id === "number") {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error !== undefined && m.error !== null) {
        const e = typeof m.error === "object" ? (m.error as Record<string, unknown>) : {};
        const rpcCode = typeof e.code === "number" ? e.code : 0;
        const message = typeof e.message === "string" ? e.message : "unknown error";
        const data = typeof e.data === "string" ? e.data : e.data === undefined ? undefined : JSON.stringify(e.data);
        p.reject(new PhalaSdkError("NODE_RPC_ERROR", "chain", `${p.method}: ${message}${data ? `: ${data}` : ""}`, { details: { method: p.method, rpcCode, rpcMessage: message, rpcData: data } }));
      } else {
        p.resolve(m.result);
      }
      return;
    }
    const params = m.params;
    if (typeof m.method !== "string" || typeof params !== "object" || params === null) return;
    const { subscription, result } = params as Record<string, unknown>;
    if (typeof subscription !== "string" && typeof subscription !== "number") return;
    const key = String(subscription);
    const sub = this.#subs.get(key);
    if (sub) sub.handlers.onItem(result);
    else if (this.#orphans.length < RPC_ORPHAN_NOTIFICATIONS_MAX) this.#orphans.push({ id: key, result });
  }
}
