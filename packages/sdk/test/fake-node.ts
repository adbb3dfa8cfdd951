/**
 * A fake node for SDK tests: JSON-RPC over a real WebSocket with the few methods the SDK
 * uses, storage as a map, and extrinsics "dispatched" by a test-supplied handler into a new
 * finalized block with real SCALE `System.Events`.
 */
import { once } from "node:events";
import { WebSocketServer, type WebSocket } from "ws";
import { blake2b256, fromHex, toHex, utf8 } from "@phala-ts/primitives";
import { createPhalaRuntime, decodeExtrinsic, type DispatchErrorValue } from "@phala-ts/runtime";

const runtime = createPhalaRuntime();
const DISPATCH_INFO = { weight: { ref_time: 1000n, proof_size: 0n }, class: { tag: "Normal" }, pays_fee: { tag: "Yes" } };

export interface DecodedCall {
  pallet: string;
  name: string;
  args: any;
  signer: Uint8Array;
}

export type CallVerdict =
  | { ok: true; events?: Array<{ pallet: string; name: string; value: unknown }> }
  | { ok: false; error: DispatchErrorValue }
  /** Refused by the pool: a JSON-RPC error. */
  | { refuse: { code: number; message: string; data?: string } };

interface Block {
  hash: Uint8Array;
  number: number;
  extrinsics: string[];
  events: Uint8Array;
}

export class FakeNode {
  readonly storage = new Map<string, Uint8Array>();
  readonly submitted: DecodedCall[] = [];
  readonly blocks: Block[] = [];
  readonly nonces = new Map<string, number>();
  readonly genesisHash = blake2b256(utf8("fake genesis"));
  onCall: (call: DecodedCall) => CallVerdict = () => ({ ok: true });
  readonly #wss: WebSocketServer;
  #subId = 0;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    wss.on("connection", (ws) => ws.on("message", (data) => this.#onMessage(ws, String(data))));
  }

  static async start(): Promise<FakeNode> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    return new FakeNode(wss);
  }

  get url(): string {
    const a = this.#wss.address();
    return `ws://127.0.0.1:${typeof a === "string" ? a : a!.port}`;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.storage.set(toHex(key), value);
  }

  delete(key: Uint8Array): void {
    this.storage.delete(toHex(key));
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }

  #onMessage(ws: WebSocket, text: string): void {
    const m = JSON.parse(text) as { id: number; method: string; params: unknown[] };
    const reply = (result: unknown) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }));
    const fail = (code: number, message: string, data?: string) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code, message, data } }));
    const p = m.params ?? [];
    switch (m.method) {
      case "chain_getBlockHash":
        return reply(p[0] === 0 ? toHex(this.genesisHash) : null);
      case "state_getRuntimeVersion":
        return reply({ specVersion: runtime.version.spec_version, transactionVersion: runtime.version.transaction_version });
      case "system_accountNextIndex":
        return reply(this.nonces.get(String(p[0])) ?? 0);
      case "state_getStorage": {
        const key = String(p[0]);
        if (p[1] !== undefined && key === toHex(runtime.systemEvents.key())) {
          const b = this.blocks.find((x) => toHex(x.hash) === p[1]);
          return reply(b ? toHex(b.events) : null);
        }
        const v = this.storage.get(key);
        return reply(v ? toHex(v) : null);
      }
      case "state_getKeysPaged": {
        const prefix = String(p[0]);
        return reply([...this.storage.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, Number(p[1])));
      }
      case "chain_getBlock": {
        const b = this.blocks.find((x) => toHex(x.hash) === p[0]);
        return reply(b ? { block: { header: { number: `0x${b.number.toString(16)}` }, extrinsics: b.extrinsics }, justifications: null } : null);
      }
      case "author_unwatchExtrinsic":
        return reply(true);
      case "author_submitAndWatchExtrinsic":
        return this.#submit(ws, String(p[0]), reply, fail);
      default:
        return fail(-32601, `Method not found: ${m.method}`);
    }
  }

  #submit(ws: WebSocket, xtHex: string, reply: (r: unknown) => void, fail: (code: number, message: string, data?: string) => void): void {
    const xt = decodeExtrinsic(fromHex(xtHex));
    const signer = xt.signed!.address.value as Uint8Array;
    const account = toHex(signer);
    const expected = this.nonces.get(account) ?? 0;
    if (xt.signed!.nonce !== expected) return fail(1010, "Invalid Transaction", xt.signed!.nonce < expected ? "Transaction is outdated" : "Transaction will be valid in the future");
    const call = runtime.decodeCall(xt.callBytes) as { tag: string; value: { tag: string; value: unknown } };
    const decoded: DecodedCall = { pallet: call.tag, name: call.value.tag, args: call.value.value, signer };
    const verdict = this.onCall(decoded);
    if ("refuse" in verdict) return fail(verdict.refuse.code, verdict.refuse.message, verdict.refuse.data);
    this.nonces.set(account, expected + 1);
    this.submitted.push(decoded);
    const number = this.blocks.length + 1;
    const hash = blake2b256(utf8(`block ${number}`));
    const records: unknown[] = [];
    const phase = { tag: "ApplyExtrinsic", value: 0 };
    if (verdict.ok) {
      for (const e of verdict.events ?? []) records.push({ phase, event: { tag: e.pallet, value: { tag: e.name, value: e.value } }, topics: [] });
      records.push({ phase, event: { tag: "System", value: { tag: "ExtrinsicSuccess", value: { dispatch_info: DISPATCH_INFO } } }, topics: [] });
    } else {
      records.push({ phase, event: { tag: "System", value: { tag: "ExtrinsicFailed", value: { dispatch_error: verdict.error, dispatch_info: DISPATCH_INFO } } }, topics: [] });
    }
    this.blocks.push({ hash, number, extrinsics: [xtHex], events: runtime.systemEvents.type.codec.enc(records) });
    const id = `sub-${++this.#subId}`;
    const notify = (result: unknown) => ws.send(JSON.stringify({ jsonrpc: "2.0", method: "author_extrinsicUpdate", params: { subscription: id, result } }));
    // As the real node can: the first notification goes out before the subscription id.
    notify("ready");
    reply(id);
    setTimeout(() => {
      notify({ inBlock: toHex(hash) });
      notify({ finalized: toHex(hash) });
    }, 5);
  }
}
