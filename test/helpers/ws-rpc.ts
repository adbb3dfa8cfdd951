import { WebSocket } from "ws";
import { spawnNode, type SpawnedNode } from "./spawn-node.ts";

/** A minimal JSON-RPC client over WebSocket for protocol-level tests. */
export class WsRpc {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: any) => void }>();
  readonly #subs = new Map<string, any[]>();
  readonly #waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data));
      if (msg.id !== undefined && this.#pending.has(msg.id)) {
        const p = this.#pending.get(msg.id)!;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
        else p.resolve(msg.result);
      } else if (msg.params?.subscription !== undefined) {
        const list = this.#subs.get(msg.params.subscription) ?? [];
        list.push(msg.params.result);
        this.#subs.set(msg.params.subscription, list);
        for (const w of this.#waiters.splice(0)) w();
      }
    });
  }

  static async connect(url: string): Promise<WsRpc> {
    const ws = new WebSocket(url);
    await new Promise((res, rej) => {
      ws.once("open", res);
      ws.once("error", rej);
    });
    return new WsRpc(ws);
  }

  call(method: string, params: unknown[] = []): Promise<any> {
    const id = this.#next++;
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  /** Waits (bounded) until a notification on `sub` satisfies `pred`, and returns it. */
  async waitFor(sub: string, pred: (ev: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = (this.#subs.get(sub) ?? []).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching notification on ${sub}: ${JSON.stringify(this.#subs.get(sub))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * One spawned node and a WebSocket client for a whole test file: registers the node:test
 * hooks that start them before the tests and stop them after.
 */
export function useNodeWithWs(hooks: { before: (f: () => Promise<void>) => void; after: (f: () => Promise<void>) => void }): { readonly rpc: WsRpc } {
  const ctx: { node?: SpawnedNode; rpc?: WsRpc } = {};
  hooks.before(async () => {
    ctx.node = await spawnNode();
    ctx.rpc = await WsRpc.connect(ctx.node.wsUrl);
  });
  hooks.after(async () => {
    ctx.rpc?.close();
    await ctx.node?.cleanup();
  });
  return {
    get rpc() {
      if (!ctx.rpc) throw new Error("the node is not started yet");
      return ctx.rpc;
    },
  };
}
