/**
 * A fake node for SDK tests: JSON-RPC over a real WebSocket with the methods the SDK uses,
 * storage as a map, and extrinsics "dispatched" by a test-supplied handler. It is a real
 * certified chain all the same, since the SDK believes nothing else: every change of storage
 * becomes a block with a real state trie, header and commit certificate by //Alice (ed25519,
 * the dev validator), read proofs come from that trie, and `System.Events` of an extrinsic's
 * block are real SCALE in its state. `tamper` lets a test lie as a dishonest node would.
 */
import { once } from "node:events";
import { WebSocketServer, type WebSocket } from "ws";
import { fromHex, keyPairFromUri, toHex, u64le, type KeyPair } from "@phala-ts/primitives";
import { TimestampStorage, createPhalaRuntime, decodeExtrinsic, type DispatchErrorValue } from "@phala-ts/runtime";
import { encodeCertificate, encodeHeader, headerHash, signPrecommit, validatorSetDigest, type ValidatorSetValue } from "@phala-ts/runtime/consensus";
import { MemoryNodeDb, TrieStore, orderedTrieRoot } from "@phala-ts/trie";

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
  header: Uint8Array;
  certificate: Uint8Array;
  stateRoot: Uint8Array;
  extrinsics: string[];
}

/** The dev chain's validator: //Alice's ed25519 key, as `phala node --dev` has it. */
export const VALIDATOR = keyPairFromUri("//Alice", "ed25519");
export const VALIDATOR_SET: ValidatorSetValue = { set_id: 0n, validators: [{ public_key: VALIDATOR.publicKey, power: 1n }] };

/** A dishonest node's edits of its own answers, by method; return the answer to send. */
export type Tamper = (method: string, params: unknown[], result: unknown) => unknown;

export class FakeNode {
  readonly storage = new Map<string, Uint8Array>();
  readonly submitted: DecodedCall[] = [];
  readonly blocks: Block[] = [];
  readonly nonces = new Map<string, number>();
  readonly genesisHeader = encodeHeader({ parent_hash: new Uint8Array(32), number: 0, state_root: new Uint8Array(32), extrinsics_root: orderedTrieRoot([]), digest: { logs: [validatorSetDigest(VALIDATOR_SET)] } });
  readonly genesisHash = headerHash(this.genesisHeader);
  onCall: (call: DecodedCall) => CallVerdict = () => ({ ok: true });
  tamper: Tamper | undefined;
  /** Unix ms written into each new block's Timestamp.Now. */
  clock: () => number = Date.now;
  readonly #wss: WebSocketServer;
  readonly #trie = new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: Infinity });
  #subId = 0;
  /** Storage changed since the last block: the next read makes a block of it. */
  #dirty = true;
  /** The validators signing new blocks, with their seeds' key pairs. */
  #set: { set: ValidatorSetValue; keys: KeyPair[] } = { set: VALIDATOR_SET, keys: [VALIDATOR] };
  /** A set the next block announces; it signs the blocks after that one. */
  #announce: { set: ValidatorSetValue; keys: KeyPair[] } | undefined;
  /** Blocks that announced a set, by the id they announced. */
  readonly setChanges: Array<{ setId: bigint; block: Block }> = [];

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
    this.#dirty = true;
  }

  delete(key: Uint8Array): void {
    this.storage.delete(toHex(key));
    this.#dirty = true;
  }

  /** The finalized head: a new block of the storage as it is now when it changed since the last one. */
  head(): Block {
    if (this.#dirty || this.blocks.length === 0) this.#seal([], undefined);
    return this.blocks[this.blocks.length - 1];
  }

  /** The next block announces `keys` (equal power) as the next validator set, and they sign from the block after it. */
  announceValidators(keys: KeyPair[], setId = this.#set.set.set_id + 1n): void {
    this.#announce = { set: { set_id: setId, validators: keys.map((k) => ({ public_key: k.publicKey, power: 1n })) }, keys };
    this.#dirty = true;
  }

  /** Makes a certified block of the current storage, with `events` as its System.Events. */
  #seal(extrinsics: string[], events: Uint8Array | undefined): Block {
    const parent = this.blocks[this.blocks.length - 1];
    const number = this.blocks.length + 1;
    const batch = this.#trie.batch();
    for (const [k, v] of this.storage) batch.set(fromHex(k), v);
    batch.set(TimestampStorage.Now.key(), u64le(BigInt(this.clock())));
    if (events) batch.set(runtime.systemEvents.key(), events);
    const stateRoot = batch.commit(number).root;
    const header = encodeHeader({
      parent_hash: parent?.hash ?? this.genesisHash,
      number,
      state_root: stateRoot,
      extrinsics_root: orderedTrieRoot(extrinsics.map((x) => fromHex(x))),
      digest: { logs: this.#announce ? [validatorSetDigest(this.#announce.set)] : [] },
    });
    const hash = headerHash(header);
    const signers = this.#set;
    const certificate = encodeCertificate({
      height: number,
      round: 0,
      block_hash: hash,
      set_id: signers.set.set_id,
      precommits: signers.keys.map((k, validator) => ({ validator, signature: signPrecommit(k, this.genesisHash, number, 0, hash) })),
    });
    const block = { hash, number, header, certificate, stateRoot, extrinsics };
    this.blocks.push(block);
    if (this.#announce) {
      this.setChanges.push({ setId: this.#announce.set.set_id, block });
      this.#set = this.#announce;
      this.#announce = undefined;
    }
    this.#dirty = false;
    return block;
  }

  #block(hashHex: unknown): Block | undefined {
    return this.blocks.find((x) => toHex(x.hash) === hashHex);
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }

  #onMessage(ws: WebSocket, text: string): void {
    const m = JSON.parse(text) as { id: number; method: string; params: unknown[] };
    const p = m.params ?? [];
    const reply = (result: unknown) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: this.tamper ? this.tamper(m.method, p, result) : result }));
    const fail = (code: number, message: string, data?: string) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code, message, data } }));
    switch (m.method) {
      case "chain_getBlockHash":
        return reply(p[0] === 0 ? toHex(this.genesisHash) : null);
      case "phala_getGenesisHeader":
        return reply(toHex(this.genesisHeader));
      case "chain_getFinalizedHead":
        return reply(toHex(this.head().hash));
      case "phala_proveFinality": {
        const b = this.#block(p[0]);
        if (!b) return fail(4003, "unknown block");
        const known = BigInt((p[1] as number | undefined) ?? 0);
        const setChanges = this.setChanges.filter((c) => c.setId > known && c.block.number <= b.number).map((c) => ({ header: toHex(c.block.header), certificate: toHex(c.block.certificate) }));
        return reply({ header: toHex(b.header), certificate: toHex(b.certificate), setChanges });
      }
      case "state_getReadProof": {
        const b = p[1] === undefined ? this.head() : this.#block(p[1]);
        if (!b) return fail(4003, "unknown block");
        const keys = (p[0] as string[]).map((k) => fromHex(k));
        return reply({ at: toHex(b.hash), proof: this.#trie.prove(b.stateRoot, keys).map(toHex) });
      }
      case "state_getRuntimeVersion":
        return reply({ specVersion: runtime.version.spec_version, transactionVersion: runtime.version.transaction_version });
      case "system_accountNextIndex":
        return reply(this.nonces.get(String(p[0])) ?? 0);
      case "state_getKeysPaged": {
        const prefix = String(p[0]);
        return reply([...this.storage.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, Number(p[1])));
      }
      case "chain_getBlock": {
        const b = this.#block(p[0]);
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
    const records: unknown[] = [];
    const phase = { tag: "ApplyExtrinsic", value: 0 };
    if (verdict.ok) {
      for (const e of verdict.events ?? []) records.push({ phase, event: { tag: e.pallet, value: { tag: e.name, value: e.value } }, topics: [] });
      records.push({ phase, event: { tag: "System", value: { tag: "ExtrinsicSuccess", value: { dispatch_info: DISPATCH_INFO } } }, topics: [] });
    } else {
      records.push({ phase, event: { tag: "System", value: { tag: "ExtrinsicFailed", value: { dispatch_error: verdict.error, dispatch_info: DISPATCH_INFO } } }, topics: [] });
    }
    const { hash } = this.#seal([xtHex], runtime.systemEvents.type.codec.enc(records));
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
