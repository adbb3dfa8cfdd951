/**
 * A dishonest RPC node for tests: a WebSocket proxy in front of a real node that passes
 * everything through, or lies in one chosen way. It records every method clients called, so
 * a test can tell that nothing was submitted.
 *
 * - `flip-value`: flips one byte of a chosen value (a contract's key) wherever it appears in
 *   a read proof, as a node that swaps the key would have to;
 * - `flip-proof`: flips one byte of the first node of every read proof;
 * - `flip-header`: flips one byte of the header a finality proof carries;
 * - `forge`: a consistent forgery: a state with the chosen value flipped, a header with that
 *   state's root, proofs that verify against it, and a certificate signed by //Bob (no validator);
 * - `stale`: keeps answering the first finalized head it saw (genuine, certified, and old).
 */
import { once } from "node:events";
import { WebSocket, WebSocketServer } from "ws";
import { fromHex, keyPairFromUri, toHex, twox128, utf8 } from "@phala-ts/primitives";
import { decodeHeader, encodeCertificate, encodeHeader, headerHash, signPrecommit } from "@phala-ts/runtime/consensus";
import { MemoryNodeDb, TrieStore } from "@phala-ts/trie";

export type LieMode = "pass" | "flip-value" | "flip-proof" | "flip-header" | "forge" | "stale";

/** Storage prefixes the forged state copies: what the SDK reads (System, Timestamp, PhalaRegistry, PhalaPhatContracts). */
const FORGED_PREFIXES_MAX_KEYS = 1000;

function flipIn(bytes: Uint8Array, needle: Uint8Array): Uint8Array | undefined {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    const out = bytes.slice();
    out[i + needle.length - 1] ^= 0x01;
    return out;
  }
  return undefined;
}

interface Forged {
  genuine: string;
  hash: string;
  header: string;
  certificate: string;
  root: Uint8Array;
  trie: TrieStore;
}

export class LyingProxy {
  mode: LieMode = "pass";
  /** The bytes `flip-value` and `forge` change. */
  needle: Uint8Array = new Uint8Array(0);
  /** Methods clients called, in order. */
  readonly calls: string[] = [];
  readonly #wss: WebSocketServer;
  readonly #upstream: string;
  readonly #httpUpstream: string;
  #frozenHead: string | undefined;
  #forged: Forged | undefined;
  #forging: Promise<Forged> | undefined;

  private constructor(wss: WebSocketServer, upstream: string, httpUpstream: string) {
    this.#wss = wss;
    this.#upstream = upstream;
    this.#httpUpstream = httpUpstream;
    wss.on("connection", (client) => this.#serve(client));
  }

  static async start(upstreamWs: string, upstreamHttp: string): Promise<LyingProxy> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    return new LyingProxy(wss, upstreamWs, upstreamHttp);
  }

  get url(): string {
    const a = this.#wss.address();
    return `ws://127.0.0.1:${typeof a === "string" ? a : a!.port}`;
  }

  /** Back to honest, forgetting any frozen head or forged state. */
  set(mode: LieMode, needle: Uint8Array = new Uint8Array(0)): void {
    this.mode = mode;
    this.needle = needle;
    this.#frozenHead = undefined;
    this.#forged = undefined;
    this.#forging = undefined;
    this.calls.length = 0;
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }

  async #rpc(method: string, params: unknown[]): Promise<any> {
    const r = await fetch(this.#httpUpstream, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const j = (await r.json()) as { result?: unknown; error?: unknown };
    if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
    return j.result;
  }

  #serve(client: WebSocket): void {
    const up = new WebSocket(this.#upstream);
    const pending = new Map<unknown, { method: string; params: unknown[] }>();
    const queue: string[] = [];
    up.on("open", () => {
      for (const m of queue.splice(0)) up.send(m);
    });
    up.on("message", (data) => {
      const text = String(data);
      const m = JSON.parse(text) as { id?: unknown; result?: unknown };
      const req = m.id === undefined ? undefined : pending.get(m.id);
      if (!req || m.result === undefined) return client.send(text);
      pending.delete(m.id);
      void this.#lie(req.method, req.params, m.result).then(
        (result) => client.readyState === WebSocket.OPEN && client.send(JSON.stringify({ ...m, result })),
        (e: Error) => client.readyState === WebSocket.OPEN && client.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code: -32000, message: `proxy: ${e.message}` } })),
      );
    });
    up.on("close", () => client.close());
    up.on("error", () => client.terminate());
    client.on("close", () => up.close());
    client.on("message", (data) => {
      const text = String(data);
      const m = JSON.parse(text) as { id?: unknown; method: string; params?: unknown[] };
      this.calls.push(m.method);
      pending.set(m.id, { method: m.method, params: m.params ?? [] });
      // A forged block is the proxy's alone: answer for it without asking the node.
      if (this.mode === "forge" && this.#forged && (m.method === "phala_proveFinality" || m.method === "state_getReadProof") && this.#asksForged(m.method, m.params ?? [])) {
        pending.delete(m.id);
        void this.#lie(m.method, m.params ?? [], null).then((result) => client.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result })));
        return;
      }
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else queue.push(text);
    });
  }

  #asksForged(method: string, params: unknown[]): boolean {
    const at = method === "phala_proveFinality" ? params[0] : params[1];
    return at === this.#forged!.hash;
  }

  async #lie(method: string, params: unknown[], result: any): Promise<unknown> {
    switch (this.mode) {
      case "pass":
        return result;
      case "flip-value":
        if (method !== "state_getReadProof") return result;
        return { ...result, proof: (result.proof as string[]).map((n) => toHex(flipIn(fromHex(n), this.needle) ?? fromHex(n))) };
      case "flip-proof":
        if (method !== "state_getReadProof" || result.proof.length === 0) return result;
        return { ...result, proof: [toHex(flipIn(fromHex(result.proof[0]), fromHex(result.proof[0]).subarray(-1))!), ...result.proof.slice(1)] };
      case "flip-header": {
        if (method !== "phala_proveFinality") return result;
        const h = fromHex(result.header);
        h[40] ^= 0x01;
        return { ...result, header: toHex(h) };
      }
      case "stale":
        if (method === "chain_getFinalizedHead") return (this.#frozenHead ??= result);
        return result;
      case "forge":
        return this.#forge(method, params, result);
    }
  }

  async #forge(method: string, params: unknown[], result: any): Promise<unknown> {
    if (method === "chain_getFinalizedHead") {
      // One forged block serves the whole test: forging copies the pallets' state.
      this.#forging ??= this.#forgeAt(result as string);
      this.#forged = await this.#forging;
      return this.#forged.hash;
    }
    const f = this.#forged;
    if (f && method === "phala_proveFinality" && params[0] === f.hash) return { header: f.header, certificate: f.certificate, setChanges: [] };
    if (f && method === "state_getReadProof" && params[1] === f.hash) {
      return { at: f.hash, proof: f.trie.prove(f.root, (params[0] as string[]).map((k) => fromHex(k))).map(toHex) };
    }
    return result;
  }

  /** A state like the genuine one at `genuine` but with the needle flipped, and a header for it. */
  async #forgeAt(genuine: string): Promise<Forged> {
    const keys: string[] = [];
    for (const pallet of ["System", "Timestamp", "PhalaRegistry", "PhalaPhatContracts"]) {
      keys.push(...(await this.#rpc("state_getKeysPaged", [toHex(twox128(utf8(pallet))), FORGED_PREFIXES_MAX_KEYS, null, genuine])));
    }
    const trie = new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: Infinity });
    const batch = trie.batch();
    for (const k of keys) {
      const v = fromHex((await this.#rpc("state_getStorage", [k, genuine])) as string);
      batch.set(fromHex(k), flipIn(v, this.needle) ?? v);
    }
    const root = batch.commit(0).root;
    const proof = await this.#rpc("phala_proveFinality", [genuine]);
    const header = decodeHeader(fromHex(proof.header));
    const forgedHeader = encodeHeader({ ...header, state_root: root });
    const hash = headerHash(forgedHeader);
    // Whoever forges a header cannot make the validators sign it: //Bob signs in the validator's place.
    const genesis = headerHash(fromHex(await this.#rpc("phala_getGenesisHeader", [])));
    const signature = signPrecommit(keyPairFromUri("//Bob", "ed25519"), genesis, header.number, 0, hash);
    const certificate = encodeCertificate({ height: header.number, round: 0, block_hash: hash, set_id: 0n, precommits: [{ validator: 0, signature }] });
    return { genuine, hash: toHex(hash), header: toHex(forgedHeader), certificate: toHex(certificate), root, trie };
  }
}
