/**
 * A minimal JSON-RPC 2.0 client over one WebSocket, made for load generation: requests
 * can be pre-serialized and sent without awaiting each other (pipelined), and
 * subscription notifications are routed by subscription id.
 */
import WebSocket from "ws";

type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };
type NotificationHandler = (result: any) => void;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${message}${data ? `: ${String(data)}` : ""} (${code})`);
    this.name = "RpcError";
  }
}

export class RpcClient {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #subs = new Map<string, NotificationHandler>();
  /** Notifications whose subscription id is not registered yet (raced with the response). */
  readonly #early = new Map<string, any[]>();
  #closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.#onMessage(data.toString()));
    ws.on("close", () => {
      this.#closed = true;
      for (const p of this.#pending.values()) p.reject(new Error("websocket closed"));
      this.#pending.clear();
    });
  }

  static connect(url: string): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      ws.once("open", () => resolve(new RpcClient(ws)));
      ws.once("error", reject);
    });
  }

  #onMessage(text: string): void {
    const parsed = JSON.parse(text);
    for (const msg of Array.isArray(parsed) ? parsed : [parsed]) this.#onResponse(msg);
  }

  #onResponse(msg: any): void {
    if (msg.id !== undefined && msg.id !== null) {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
      else p.resolve(msg.result);
      return;
    }
    const sub = msg.params?.subscription;
    if (sub === undefined) return;
    const h = this.#subs.get(String(sub));
    if (h) h(msg.params.result);
    else {
      const q = this.#early.get(String(sub)) ?? [];
      q.push(msg.params.result);
      this.#early.set(String(sub), q);
    }
  }

  /** Reserves an id and returns the serialized request plus a promise of its result. */
  prepare(method: string, params: unknown[]): { id: number; text: string } {
    const id = this.#nextId++;
    return { id, text: JSON.stringify({ jsonrpc: "2.0", id, method, params }) };
  }

  /** Sends a request made by `prepare`; resolves with its result. */
  sendPrepared(req: { id: number; text: string }): Promise<any> {
    if (this.#closed) return Promise.reject(new Error("websocket closed"));
    const promise = new Promise<any>((resolve, reject) => this.#pending.set(req.id, { resolve, reject }));
    this.ws.send(req.text);
    return promise;
  }

  /** Serializes calls as one JSON-RPC batch (one WebSocket frame each way). */
  prepareBatch(method: string, paramsList: unknown[][]): { ids: number[]; text: string } {
    const items = paramsList.map((params) => ({ jsonrpc: "2.0", id: this.#nextId++, method, params }));
    return { ids: items.map((i) => i.id), text: JSON.stringify(items) };
  }

  /** Sends a batch made by `prepareBatch`; one promise per call, in order. */
  sendBatch(batch: { ids: number[]; text: string }): Promise<any>[] {
    if (this.#closed) return batch.ids.map(() => Promise.reject(new Error("websocket closed")));
    const promises = batch.ids.map((id) => new Promise<any>((resolve, reject) => this.#pending.set(id, { resolve, reject })));
    this.ws.send(batch.text);
    return promises;
  }

  call(method: string, params: unknown[] = []): Promise<any> {
    return this.sendPrepared(this.prepare(method, params));
  }

  /** Subscribes and routes notifications to `onNotify`; returns the subscription id. */
  async subscribe(method: string, params: unknown[], onNotify: NotificationHandler): Promise<string> {
    const id = String(await this.call(method, params));
    this.#subs.set(id, onNotify);
    const early = this.#early.get(id);
    if (early) {
      this.#early.delete(id);
      for (const r of early) onNotify(r);
    }
    return id;
  }

  unsubscribeLocal(id: string): void {
    this.#subs.delete(id);
  }

  close(): void {
    if (!this.#closed) this.ws.close();
    this.#closed = true;
  }
}
