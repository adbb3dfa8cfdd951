/**
 * A fake node (JSON-RPC over a real `ws` server) and a fake pRuntime (node:http) that
 * follow docs/interfaces.md, for pHost's tests. They keep just enough state to check what
 * pHost sends: headers linked by hash, block bodies, SyncBatch decoding, a tiny storage map
 * (with per-block values for items such as System.Events) and a pool that refuses
 * duplicates with 1013 as the real one does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { blake2b256, bytesEqual, fromHex, keyPairFromUri, toHex, type KeyPair } from "@phala-ts/primitives";
import { encodeHeader, decodeHeader } from "@phala-ts/runtime/consensus";
import { MessageList, SyncBatch, WorkerEndpointPayload, WorkerRegistrationInfo } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import type { LogFields, Logger } from "../src/logger.ts";

const ZERO32 = new Uint8Array(32);

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  scope: string;
  msg: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every line, for assertions (set PHOST_TEST_LOG=1 to also print them). */
export function memoryLogger(lines: LogLine[] = [], scope = "phost"): Logger & { lines: LogLine[] } {
  const emit = (level: LogLine["level"]) => (msg: string, fields?: LogFields) => {
    lines.push({ level, scope, msg, fields });
    if (process.env.PHOST_TEST_LOG) process.stderr.write(`${level} [${scope}] ${msg} ${JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? toHex(v) : v))}\n`);
  };
  return { lines, debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), child: (s) => memoryLogger(lines, `${scope}:${s}`) };
}

/** Waits until `pred` holds, checking every few ms; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SubmittedExtrinsic {
  bytes: Uint8Array;
  /** The node's finalized height when it arrived. */
  atHeight: number;
}

interface RpcErrorAnswer {
  code: number;
  message: string;
  data?: string;
}

export class FakeNode {
  readonly genesisHeader: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly headers: Uint8Array[] = [];
  readonly hashes: Uint8Array[] = [];
  readonly storage = new Map<string, Uint8Array>();
  /** Extrinsics of each block by height; blocks not listed are empty. */
  readonly bodies = new Map<number, Uint8Array[]>();
  /** Values (hex key → bytes) read at one block only, by height, before `storage`: e.g. that block's System.Events. */
  readonly blockStorage = new Map<number, Map<string, Uint8Array>>();
  readonly submitted: SubmittedExtrinsic[] = [];
  readonly syncBatchCalls: Array<{ from: number; maxBlocks: number }> = [];
  readonly nonces = new Map<string, number>();
  /** Decides what the pool answers; default: accept new bytes, 1013 for bytes seen before. */
  onSubmit: (bytes: Uint8Array, node: FakeNode) => RpcErrorAnswer | undefined = (bytes, node) =>
    node.submitted.slice(0, -1).some((s) => bytesEqual(s.bytes, bytes)) ? { code: 1013, message: "Transaction Already Imported" } : undefined;
  /** Runs when a block is produced (e.g. to "include" a submitted extrinsic into storage). */
  onBlock: (height: number, node: FakeNode) => void = () => {};
  supportsSubscription = true;
  /** Most blocks one phala_getSyncBatch answers, whatever is asked (a node cuts batches at its byte bound). */
  syncBatchBlocksCap = Number.POSITIVE_INFINITY;
  /** Whether test helpers that "include" extrinsics apply endpoint updates to storage. */
  applyEndpoints = true;
  #wss: WebSocketServer | undefined;
  readonly #sockets = new Set<WebSocket>();
  readonly #subs = new Map<WebSocket, Set<string>>();
  #nextSub = 1;
  port = 0;

  constructor(height: number) {
    this.genesisHeader = this.#makeHeader(ZERO32, 0);
    this.genesisHash = blake2b256(this.genesisHeader);
    this.headers.push(this.genesisHeader);
    this.hashes.push(this.genesisHash);
    this.#extend(height);
  }

  get height(): number {
    return this.headers.length - 1;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  #makeHeader(parent: Uint8Array, number: number): Uint8Array {
    return encodeHeader({ parent_hash: parent, number, state_root: ZERO32, extrinsics_root: ZERO32, digest: { logs: [] } });
  }

  #extend(n: number): void {
    for (let i = 0; i < n; i++) {
      const h = this.#makeHeader(this.hashes[this.hashes.length - 1], this.headers.length);
      this.headers.push(h);
      this.hashes.push(blake2b256(h));
    }
  }

  async start(): Promise<void> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: this.port });
    await new Promise<void>((res, rej) => {
      wss.once("listening", res);
      wss.once("error", rej);
    });
    this.port = (wss.address() as AddressInfo).port;
    this.#wss = wss;
    wss.on("connection", (ws) => {
      this.#sockets.add(ws);
      ws.on("close", () => {
        this.#sockets.delete(ws);
        this.#subs.delete(ws);
      });
      ws.on("message", (data) => this.#onMessage(ws, String(data)));
    });
  }

  /** Closes every connection and the listening socket (the port is reused by start()). */
  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#sockets.clear();
    this.#subs.clear();
    const wss = this.#wss;
    this.#wss = undefined;
    if (wss) await new Promise<void>((r) => wss.close(() => r()));
  }

  /** Finalizes `n` more blocks and notifies subscribers of each. */
  produce(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.#extend(1);
      this.onBlock(this.height, this);
      for (const [ws, ids] of this.#subs) for (const id of ids) this.#notify(ws, id);
    }
  }

  #headerJson(n: number) {
    const h = decodeHeader(this.headers[n]);
    return { parentHash: toHex(h.parent_hash), number: "0x" + n.toString(16), stateRoot: toHex(ZERO32), extrinsicsRoot: toHex(ZERO32), digest: { logs: [] } };
  }

  #notify(ws: WebSocket, id: string): void {
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "chain_finalizedHead", params: { subscription: id, result: this.#headerJson(this.height) } }));
  }

  #onMessage(ws: WebSocket, text: string): void {
    const req = JSON.parse(text) as { id: number; method: string; params: unknown[] };
    let result: unknown;
    let error: RpcErrorAnswer | undefined;
    const p = req.params ?? [];
    switch (req.method) {
      case "chain_getFinalizedHead":
        result = toHex(this.hashes[this.height]);
        break;
      case "chain_getHeader": {
        const n = this.hashes.findIndex((h) => toHex(h) === p[0]);
        result = n < 0 ? null : this.#headerJson(n);
        break;
      }
      case "chain_getBlockHash":
        result = typeof p[0] === "number" && p[0] <= this.height ? toHex(this.hashes[p[0]]) : null;
        break;
      case "chain_subscribeFinalizedHeads": {
        if (!this.supportsSubscription) {
          error = { code: -32601, message: "Method not found" };
          break;
        }
        const id = `sub${this.#nextSub++}`;
        result = id;
        let set = this.#subs.get(ws);
        if (!set) this.#subs.set(ws, (set = new Set()));
        set.add(id);
        setImmediate(() => this.#subs.get(ws)?.has(id) && this.#notify(ws, id));
        break;
      }
      case "chain_unsubscribeFinalizedHeads":
        result = this.#subs.get(ws)?.delete(String(p[0])) ?? false;
        break;
      case "state_getRuntimeVersion":
        result = { specName: "phala", specVersion: 1, transactionVersion: 1 };
        break;
      case "system_accountNextIndex":
        result = this.nonces.get(String(p[0])) ?? 0;
        break;
      case "state_getStorage": {
        const key = String(p[0]);
        let v: Uint8Array | undefined;
        if (p[1] !== undefined && p[1] !== null) {
          const n = this.hashes.findIndex((h) => toHex(h) === p[1]);
          if (n < 0) {
            error = { code: 4003, message: `Client error: UnknownBlock: ${String(p[1])}` };
            break;
          }
          v = this.blockStorage.get(n)?.get(key);
        }
        v ??= this.storage.get(key);
        result = v ? toHex(v) : null;
        break;
      }
      case "chain_getBlock": {
        const n = this.hashes.findIndex((h) => toHex(h) === p[0]);
        result = n < 0 ? null : { block: { header: this.#headerJson(n), extrinsics: (this.bodies.get(n) ?? []).map(toHex) }, justifications: null };
        break;
      }
      case "author_submitExtrinsic": {
        const bytes = fromHex(String(p[0]));
        this.submitted.push({ bytes, atHeight: this.height });
        error = this.onSubmit(bytes, this);
        result = toHex(blake2b256(bytes));
        break;
      }
      case "phala_getGenesisHeader":
        result = toHex(this.genesisHeader);
        break;
      case "phala_getSyncBatch": {
        const [from, max] = p as [number, number];
        this.syncBatchCalls.push({ from, maxBlocks: max });
        if (from > this.height || from < 1) {
          error = { code: -32602, message: `block ${from} is not finalized yet (finalized: ${this.height})` };
          break;
        }
        const to = Math.min(from + Math.min(max, this.syncBatchBlocksCap) - 1, this.height);
        const blocks = [];
        for (let n = from; n <= to; n++) blocks.push({ header: this.headers[n], messages: MessageList.codec.enc([]), timestamp: new Uint8Array(8), proof: [] });
        result = toHex(SyncBatch.codec.enc({ blocks, certificate: new Uint8Array() }));
        break;
      }
      default:
        error = { code: -32601, message: "Method not found" };
    }
    ws.send(JSON.stringify(error ? { jsonrpc: "2.0", id: req.id, error } : { jsonrpc: "2.0", id: req.id, result }));
  }
}

export interface PruntimeRefusal {
  status: number;
  code: string;
  message: string;
}

export class FakePruntime {
  readonly identity: KeyPair = keyPairFromUri("//PhostTestWorker", "ed25519");
  readonly ecdhKey = new Uint8Array(32).fill(0xec);
  readonly evidence = new Uint8Array([0xde, 0x70, 1, 2, 3]);
  initialized = false;
  genesisHash: Uint8Array | undefined;
  syncedHeight = 0;
  syncedHash: Uint8Array | undefined;
  egress: Uint8Array[] = [];
  /** Refusals for the next /sync calls, used up in order. */
  refuseSync: PruntimeRefusal[] = [];
  readonly calls: Array<{ method: string; path: string; query: URLSearchParams; syncedHeight: number }> = [];
  readonly syncBatches: Array<{ from: number; to: number }> = [];
  #server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(path: string): number {
    return this.calls.filter((c) => c.path === path).length;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => send(res, 500, { error: { code: "INTERNAL", message: String(e) } }));
    });
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(this.port, "127.0.0.1", () => res());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.calls.push({ method: req.method ?? "", path: url.pathname, query: url.searchParams, syncedHeight: this.syncedHeight });
    const notInit = () => send(res, 400, { error: { code: "NOT_INITIALIZED", message: "call /init first" } });
    switch (`${req.method} ${url.pathname}`) {
      case "GET /info":
        return send(res, 200, {
          version: "test",
          identityKey: toHex(this.identity.publicKey),
          ecdhKey: toHex(this.ecdhKey),
          initialized: this.initialized,
          genesisHash: this.genesisHash ? toHex(this.genesisHash) : null,
          syncedHeight: this.syncedHeight,
          syncedHash: this.syncedHash ? toHex(this.syncedHash) : null,
          role: "worker",
          registered: false,
          masterPubkey: null,
          holdsMasterKey: false,
          rotationId: 0,
          tee: "dev",
          egressPending: this.egress.length,
        });
      case "POST /init": {
        const header = fromHex(JSON.parse(body.toString("utf8")).genesisHeader);
        const hash = blake2b256(header);
        if (this.initialized && !bytesEqual(hash, this.genesisHash!)) return send(res, 409, { error: { code: "GENESIS_MISMATCH", message: "other genesis" } });
        this.initialized = true;
        this.genesisHash = hash;
        this.syncedHash ??= hash;
        return send(res, 200, {});
      }
      case "POST /sync": {
        if (!this.initialized) return notInit();
        if (req.headers["content-type"] !== "application/octet-stream") return send(res, 400, { error: { code: "MALFORMED", message: "binary body expected" } });
        const refusal = this.refuseSync.shift();
        if (refusal) return send(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
        const batch = decodeExact(SyncBatch, new Uint8Array(body));
        const headers = batch.blocks.map((b) => decodeHeader(b.header));
        if (headers.length === 0 || headers[0].number !== this.syncedHeight + 1) return send(res, 400, { error: { code: "NOT_NEXT", message: `expected block ${this.syncedHeight + 1}` } });
        let parent = this.syncedHash!;
        for (let i = 0; i < headers.length; i++) {
          if (!bytesEqual(headers[i].parent_hash, parent)) return send(res, 400, { error: { code: "BAD_LINK", message: `block ${headers[i].number}` } });
          parent = blake2b256(batch.blocks[i].header);
        }
        this.syncBatches.push({ from: headers[0].number, to: headers[headers.length - 1].number });
        this.syncedHeight = headers[headers.length - 1].number;
        this.syncedHash = parent;
        return send(res, 200, { syncedHeight: this.syncedHeight, syncedHash: toHex(parent) });
      }
      case "GET /registration": {
        if (!this.initialized) return notInit();
        const op = url.searchParams.get("operator");
        const info = WorkerRegistrationInfo.codec.enc({
          version: 1,
          genesis_hash: this.genesisHash!,
          pubkey: this.identity.publicKey,
          ecdh_pubkey: this.ecdhKey,
          runtime_version: 1,
          operator: op ? fromHex(op) : undefined,
        });
        return send(res, 200, { info: toHex(info), evidence: toHex(this.evidence) });
      }
      case "GET /endpoint": {
        const payload = WorkerEndpointPayload.codec.enc({ pubkey: this.identity.publicKey, endpoint: url.searchParams.get("url") ?? "", signed_at: this.syncedHeight });
        return send(res, 200, { payload: toHex(payload), signature: toHex(this.identity.sign(payload)) });
      }
      case "GET /egress":
        return send(res, 200, { messages: this.egress.map(toHex) });
      default:
        return send(res, 404, { error: { code: "NOT_FOUND", message: url.pathname } });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
