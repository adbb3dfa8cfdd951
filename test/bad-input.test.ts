/**
 * Bad input against one node running as a separate process: every malformed, forged or
 * stale request is refused with a clear JSON-RPC error, and the node keeps serving and
 * finalizing. The fuzz part is driven by one seed (FUZZ_SEED, printed on failure).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import WebSocket from "ws";
import { concatBytes, fromHex, keyPairFromUri, toHex, type KeyPair } from "@phala-ts/primitives";
import { createPhalaRuntime, decodeExtrinsic, encodeCompact, signExtrinsic, type Era } from "@phala-ts/runtime";
import { waitFor as waitUntil } from "./helpers/wait.ts";
import { spawnNode, rpcCall, type SpawnedNode } from "./helpers/spawn-node.ts";

/** Above the node's default --rpc max request size (15 MiB, packages/node/src/rpc/limits.ts). */
const OVERSIZED_REQUEST_BYTES = 16 * 1024 * 1024;
const FUZZ_BLOBS = 10_000;
/** Calls per JSON-RPC batch: below the server's maxBatchLength of 256. */
const FUZZ_BATCH_CALLS = 100;
/** Batches in flight at once on the fuzz socket. */
const FUZZ_BATCHES_IN_FLIGHT = 4;
const FUZZ_BLOB_BYTES_MAX = 300;
/** Highest pallet index of the runtime (Sudo) and a bound over its call indices, for random calls that decode partway. */
const PALLET_INDEX_MAX = 4;
const CALL_INDEX_MAX = 8;
const FINALIZE_TIMEOUT_MS = 15_000;
const WAIT_TIMEOUT_MS = 15_000;
/** Pool/author error codes a refused extrinsic may carry (Substrate's author RPC codes). */
const EXTRINSIC_REFUSAL_CODES = new Set([1001, 1010, 1011, 1012, 1013, 1014, 1016]);

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_1234) >>> 0;

const runtime = createPhalaRuntime();
const alice = keyPairFromUri("//Alice");
const bob = keyPairFromUri("//Bob");
const charlie = keyPairFromUri("//Charlie");
const unfunded = keyPairFromUri("//Unfunded");

let node: SpawnedNode;
let genesisHash: Uint8Array;
let specVersion: number;
let transactionVersion: number;

// ---------------------------------------------------------------- helpers

/** xorshift32: the one source of randomness, so a seed replays a run exactly. */
function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

interface RpcResponse {
  jsonrpc: "2.0";
  id: number | string | null;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: { subscription: string; result: any };
}

/** A bare JSON-RPC WebSocket client: exact frames in, every response and notification out. */
class RawWsClient {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number | string, (r: RpcResponse) => void>();
  /** Answers with a null id (parse errors, whole-batch errors) in arrival order. */
  readonly #nullIdWaiters: Array<(r: RpcResponse | RpcResponse[]) => void> = [];
  readonly #subscriptions = new Map<string, (result: any) => void>();
  #nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => {}); // surfaces as "close"
    ws.on("message", (data) => this.#onMessage(JSON.parse(data.toString())));
  }

  static open(url: string): Promise<RawWsClient> {
    const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new RawWsClient(ws)));
      ws.once("error", reject);
    });
  }

  #onMessage(msg: RpcResponse | RpcResponse[]): void {
    if (Array.isArray(msg)) {
      const first = msg.find((m) => m.id !== null);
      if (first === undefined) return void this.#nullIdWaiters.shift()?.(msg);
      // A batch answer is routed whole to the waiter of its first id.
      const w = this.#waiting.get(first.id!);
      this.#waiting.delete(first.id!);
      (w as unknown as (r: RpcResponse[]) => void)?.(msg);
      return;
    }
    if (msg.method !== undefined && msg.params) {
      this.#subscriptions.get(msg.params.subscription)?.(msg.params.result);
      return;
    }
    if (msg.id === null) return void this.#nullIdWaiters.shift()?.(msg);
    const w = this.#waiting.get(msg.id);
    this.#waiting.delete(msg.id);
    w?.(msg);
  }

  call(method: string, params: unknown[] = []): Promise<RpcResponse> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /** Sends one batch; resolves with the responses in request order (matched by id). */
  batch(calls: Array<[string, unknown[]]>): Promise<RpcResponse[]> {
    const ids = calls.map(() => this.#nextId++);
    const body = calls.map(([method, params], i) => ({ jsonrpc: "2.0", id: ids[i], method, params }));
    return new Promise((resolve) => {
      this.#waiting.set(ids[0], ((all: RpcResponse[] | RpcResponse) => {
        if (!Array.isArray(all)) return resolve([all]);
        const byId = new Map(all.map((r) => [r.id, r]));
        resolve(ids.map((id) => byId.get(id)!));
      }) as (r: RpcResponse) => void);
      this.#ws.send(JSON.stringify(body));
    });
  }

  /** Sends raw text whose answer carries a null id (e.g. unparseable JSON). */
  sendRawExpectingNullId(text: string): Promise<RpcResponse | RpcResponse[]> {
    return new Promise((resolve) => {
      this.#nullIdWaiters.push(resolve);
      this.#ws.send(text);
    });
  }

  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /** Opens a subscription; `onItem` sees every notification's result. */
  async subscribe(method: string, params: unknown[], onItem: (result: any) => void): Promise<RpcResponse> {
    const r = await this.call(method, params);
    if (typeof r.result === "string") this.#subscriptions.set(r.result, onItem);
    return r;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.#ws.close();
    return this.closed;
  }
}


async function finalizedNumber(): Promise<number> {
  const hash = (await rpcCall(node.httpUrl, "chain_getFinalizedHead")).result;
  const header = (await rpcCall(node.httpUrl, "chain_getHeader", [hash])).result;
  return parseInt(header.number, 16);
}

/** The node still answers a plain read over a fresh HTTP request. */
async function assertStillServing(context: string): Promise<void> {
  const r = await rpcCall(node.httpUrl, "chain_getHeader");
  assert.ok(r.result && typeof r.result.number === "string", `node stopped serving after ${context}: ${JSON.stringify(r)}`);
  assert.equal(node.proc.exitCode, null, `node exited after ${context}:\n${node.output()}`);
}

async function nextNonce(who: KeyPair): Promise<number> {
  return (await rpcCall(node.httpUrl, "system_accountNextIndex", [toHex(who.accountId)])).result;
}

function transferCall(to: Uint8Array, amount: bigint): Uint8Array {
  return runtime.call.codec.enc({ tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: to }, value: amount } } });
}

function signTransfer(
  signer: KeyPair,
  nonce: number,
  amount: bigint,
  overrides: { genesisHash?: Uint8Array; era?: Era; eraBlockHash?: Uint8Array } = {},
): Uint8Array {
  return signExtrinsic({
    signer,
    callBytes: transferCall(bob.accountId, amount),
    nonce,
    specVersion,
    transactionVersion,
    genesisHash: overrides.genesisHash ?? genesisHash,
    era: overrides.era,
    eraBlockHash: overrides.eraBlockHash,
  });
}

async function submit(tx: Uint8Array): Promise<RpcResponse> {
  return rpcCall(node.httpUrl, "author_submitExtrinsic", [toHex(tx)]);
}

function assertRefused(r: RpcResponse, code: number, pattern: RegExp, what: string): void {
  assert.ok(r.error, `${what}: expected an error, got ${JSON.stringify(r)}`);
  assert.equal(r.error.code, code, `${what}: ${JSON.stringify(r.error)}`);
  const text = `${r.error.message} ${typeof r.error.data === "string" ? r.error.data : JSON.stringify(r.error.data ?? "")}`;
  assert.match(text, pattern, `${what}: ${JSON.stringify(r.error)}`);
}

/** Submits a valid transfer from Alice and waits for it to be finalized, over a fresh WebSocket. */
async function transferFinalizes(amount: bigint): Promise<void> {
  const client = await RawWsClient.open(node.wsUrl);
  try {
    const tx = signTransfer(alice, await nextNonce(alice), amount);
    let resolveFinal!: (hash: string) => void;
    let rejectFinal!: (e: Error) => void;
    const finalized = new Promise<string>((res, rej) => {
      resolveFinal = res;
      rejectFinal = rej;
    });
    const r = await client.subscribe("author_submitAndWatchExtrinsic", [toHex(tx)], (status) => {
      if (status && typeof status === "object" && "finalized" in status) resolveFinal(status.finalized);
      else if (status === "invalid" || status === "dropped" || (status && typeof status === "object" && "usurped" in status)) {
        rejectFinal(new Error(`valid transfer ended as ${JSON.stringify(status)}`));
      }
    });
    assert.equal(typeof r.result, "string", `submitAndWatch refused a valid transfer: ${JSON.stringify(r)}`);
    let timer: NodeJS.Timeout | undefined;
    const blockHash = await Promise.race([
      finalized,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`valid transfer not finalized within ${FINALIZE_TIMEOUT_MS} ms`)), FINALIZE_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    const block = (await rpcCall(node.httpUrl, "chain_getBlock", [blockHash])).result;
    assert.ok(block.block.extrinsics.includes(toHex(tx)), "the finalized block carries the transfer");
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- setup

before(async () => {
  node = await spawnNode();
  genesisHash = fromHex((await rpcCall(node.httpUrl, "chain_getBlockHash", [0])).result);
  const version = (await rpcCall(node.httpUrl, "state_getRuntimeVersion")).result;
  specVersion = version.specVersion;
  transactionVersion = version.transactionVersion;
});

after(async () => {
  await node?.cleanup();
});

// ---------------------------------------------------------------- cases

test("a flipped signature byte is refused as a bad signature (1010)", async () => {
  const tx = signTransfer(alice, await nextNonce(alice), 1_000n);
  const sig = decodeExtrinsic(tx).signed!.signature.signature;
  const forged = tx.slice();
  forged[sig.byteOffset - tx.byteOffset + 7] ^= 0x01;
  assertRefused(await submit(forged), 1010, /bad signature/i, "flipped signature byte");
  await assertStillServing("a bad signature");
});

test("a stale nonce is refused as outdated (1010); a future nonce waits in the pool", async () => {
  const first = await nextNonce(alice);
  const tx = signTransfer(alice, first, 2_000n);
  const accepted = await submit(tx);
  assert.equal(typeof accepted.result, "string", `valid transfer refused: ${JSON.stringify(accepted)}`);
  await waitFor("Alice's first transfer to be finalized", async () => ((await nextNonce(alice)) > first ? true : undefined));
  // Same nonce, different amount: not a duplicate, just outdated.
  assertRefused(await submit(signTransfer(alice, first, 2_001n)), 1010, /Transaction is outdated/, "stale nonce");
  await assertStillServing("a stale nonce");

  const futureNonce = (await nextNonce(charlie)) + 1000;
  const future = signTransfer(charlie, futureNonce, 3_000n);
  const r = await submit(future);
  assert.equal(r.result, toHex(decodeExtrinsic(future).hash), `future nonce: ${JSON.stringify(r)}`);
  const pending: string[] = (await rpcCall(node.httpUrl, "author_pendingExtrinsics")).result;
  assert.ok(pending.includes(toHex(future)), "the future transaction is pending in the pool");
  assert.equal(await nextNonce(charlie), futureNonce - 1000, "a future transaction does not advance the next nonce");
  await assertStillServing("a future nonce");
});

test("a transaction signed for another genesis is refused as a bad signature (1010)", async () => {
  const next = xorshift32(FUZZ_SEED ^ 0x9e37_79b9);
  const otherGenesis = randomBytes(next, 32);
  const tx = signTransfer(alice, await nextNonce(alice), 4_000n, { genesisHash: otherGenesis });
  assertRefused(await submit(tx), 1010, /bad signature|bad proof/i, "wrong genesis hash");
  await assertStillServing("a wrong genesis hash");
});

test("a transaction whose mortal era has passed is refused (1010)", async () => {
  const period = 4;
  // Birth block b with the era window [b, b + 4) already over: the node's current window is
  // the next one, so it can tell the transaction outlived its era.
  const head = await waitFor("the head to pass block 5", async () => {
    const n = await finalizedNumber();
    return n >= 5 ? n : undefined;
  });
  const birth = head + 1 - period;
  const birthHash = fromHex((await rpcCall(node.httpUrl, "chain_getBlockHash", [birth])).result);
  const era: Era = { kind: "mortal", period, phase: birth % period };
  const tx = signTransfer(alice, await nextNonce(alice), 5_000n, { era, eraBlockHash: birthHash });
  assertRefused(await submit(tx), 1010, /ancient birth block|era/i, `expired era (birth #${birth}, head #${head})`);
  await assertStillServing("an expired era");
});

test("a transfer from an account with no funds cannot pay its fees (1010)", async () => {
  const tx = signTransfer(unfunded, 0, 1_000_000n);
  assertRefused(await submit(tx), 1010, /Inability to pay some fees/, "unfunded sender");
  await assertStillServing("an unfunded sender");
});

test("random bytes as an extrinsic are refused (1001 or 1010)", async () => {
  const next = xorshift32(FUZZ_SEED);
  for (const len of [0, 1, 2, 5, 64, 200]) {
    const r = await submit(randomBytes(next, len));
    assert.ok(r.error && (r.error.code === 1001 || r.error.code === 1010), `seed ${FUZZ_SEED}, ${len} random bytes: ${JSON.stringify(r)}`);
  }
  const notHex = await rpcCall(node.httpUrl, "author_submitExtrinsic", ["0xzz"]);
  assert.equal(notHex.error?.code, -32602, `non-hex extrinsic: ${JSON.stringify(notHex)}`);
  const noParam = await rpcCall(node.httpUrl, "author_submitExtrinsic", []);
  assert.equal(noParam.error?.code, -32602, `missing extrinsic: ${JSON.stringify(noParam)}`);
  await assertStillServing("random extrinsic bytes");
});

test("payment_queryInfo of an undecodable call is a client error, not an internal one", async () => {
  // Well-framed unsigned extrinsics whose call does not decode: an unknown Balances call, a truncated transfer.
  for (const tx of ["0x18040263010203", "0x1004020300"]) {
    const r = await rpcCall(node.httpUrl, "payment_queryInfo", [tx]);
    assertRefused(r, 4003, /could not decode/, `payment_queryInfo(${tx})`);
  }
  await assertStillServing("payment_queryInfo of garbage");
});

test("every RPC method answers garbage params with a result or a clear error, never an internal error", async () => {
  const methods: string[] = (await rpcCall(node.httpUrl, "rpc_methods")).result.methods;
  const h32 = "0x" + "ab".repeat(32);
  const garbage: unknown[][] = [
    [],
    [null],
    ["0x"],
    [123],
    [{}],
    [h32],
    [true, "x"],
    ["0x00", h32],
    [h32, h32, h32],
    ["x".repeat(1000)],
    [[h32]],
    [-1, -1],
    ["0x" + "ff".repeat(100)],
    [1e300],
    [[]],
    ["1", h32, ["0x00"]],
    ["1", [{ key: "0x00", type: "value" }]],
  ];
  const client = await RawWsClient.open(node.wsUrl);
  const bad: string[] = [];
  try {
    for (const method of methods) {
      const responses = await client.batch(garbage.map((params) => [method, params]));
      responses.forEach((r, i) => {
        const answered = r !== undefined && (r.error !== undefined || "result" in r);
        if (!answered || r.error?.code === -32603) bad.push(`${method}(${JSON.stringify(garbage[i]).slice(0, 60)}) -> ${JSON.stringify(r)}`);
      });
    }
  } finally {
    await client.close();
  }
  assert.deepEqual(bad, []);
  await assertStillServing("garbage params to every method");
});

test("an oversized HTTP request is refused with 413", async () => {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "author_submitExtrinsic", params: ["0x" + "00".repeat(OVERSIZED_REQUEST_BYTES / 2)] });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(node.httpUrl, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // Written in full before the answer is read, as simple clients do: the node must still
    // deliver the 413 rather than reset the connection.
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(status, 413, text);
  assert.equal(JSON.parse(text).error.code, -32007);
  await assertStillServing("an oversized HTTP request");
});

test("an oversized WebSocket message closes that connection; a new one works", async () => {
  const client = await RawWsClient.open(node.wsUrl);
  const payload = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "author_submitExtrinsic", params: ["0x" + "00".repeat(OVERSIZED_REQUEST_BYTES / 2)] });
  client.sendRaw(payload);
  const closed = await client.closed;
  assert.equal(closed.code, 1009, `close code ${closed.code} ${closed.reason}`);
  const fresh = await RawWsClient.open(node.wsUrl);
  try {
    const r = await fresh.call("chain_getHeader");
    assert.ok(r.result?.number, JSON.stringify(r));
  } finally {
    await fresh.close();
  }
  await assertStillServing("an oversized WebSocket message");
});

test("malformed JSON gets -32700 and an unknown method -32601 naming it", async () => {
  const parse = await fetch(node.httpUrl, { method: "POST", headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":1,"method":' });
  assert.equal(((await parse.json()) as RpcResponse).error?.code, -32700);
  const unknown = await rpcCall(node.httpUrl, "author_doesNotExist", []);
  assert.equal(unknown.error?.code, -32601);
  assert.match(unknown.error.message, /author_doesNotExist/);

  const client = await RawWsClient.open(node.wsUrl);
  try {
    const wsParse = (await client.sendRawExpectingNullId("{not json")) as RpcResponse;
    assert.equal(wsParse.error?.code, -32700);
    const wsUnknown = await client.call("foo_bar", []);
    assert.equal(wsUnknown.error?.code, -32601);
    assert.match(wsUnknown.error!.message, /foo_bar/);
    const stillThere = await client.call("chain_getHeader");
    assert.ok(stillThere.result?.number, "the same socket keeps serving after bad JSON");
  } finally {
    await client.close();
  }
  await assertStillServing("malformed JSON");
});

test(`${FUZZ_BLOBS} random and mutated extrinsics over one WebSocket are all refused`, async (t) => {
  t.diagnostic(`fuzz seed ${FUZZ_SEED} (replay with FUZZ_SEED=${FUZZ_SEED})`);
  const next = xorshift32(FUZZ_SEED);
  const aliceNonce = await nextNonce(alice);
  // Valid extrinsics to mutate: different signers, nonces, eras and amounts.
  const head = await finalizedNumber();
  const headHash = fromHex((await rpcCall(node.httpUrl, "chain_getBlockHash", [head])).result);
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    const signer = [alice, bob, charlie, keyPairFromUri("//Dave", "ed25519")][i % 4];
    const mortal = i % 2 === 1;
    seeds.push(
      signTransfer(signer, i % 4 === 0 ? aliceNonce : 0, BigInt(next()) * 1_000n + 1n, mortal ? { era: { kind: "mortal", period: 64, phase: head % 64 }, eraBlockHash: headHash } : {}),
    );
  }
  const framed = (body: Uint8Array): Uint8Array => concatBytes(encodeCompact(body.length), body);
  const blob = (i: number): Uint8Array => {
    const kind = i % 4;
    if (kind === 0) return randomBytes(next, next() % (FUZZ_BLOB_BYTES_MAX + 1));
    if (kind === 1) {
      // Well-formed length prefix and version byte, random body: reaches the signature and call decoders.
      const body = randomBytes(next, 1 + (next() % FUZZ_BLOB_BYTES_MAX));
      body[0] = next() % 2 ? 0x84 : 0x04;
      return framed(body);
    }
    if (kind === 2) {
      // A valid signed header over a random call of a real pallet: reaches the runtime's call decoder.
      const seed = decodeExtrinsic(seeds[next() % seeds.length]);
      const prefixLen = encodeCompact(seed.bytes.length).length;
      const header = seed.bytes.subarray(prefixLen, seed.bytes.length - seed.callBytes.length);
      const call = randomBytes(next, 2 + (next() % 80));
      call[0] = next() % (PALLET_INDEX_MAX + 1);
      call[1] = next() % (CALL_INDEX_MAX + 1);
      return framed(concatBytes(header, call));
    }
    // Mutations of valid extrinsics: flipped bits, overwritten bytes, truncation, extension.
    const base = seeds[next() % seeds.length].slice();
    const flips = 1 + (next() % 3);
    for (let f = 0; f < flips; f++) {
      const op = next() % 4;
      const at = next() % base.length;
      if (op === 0) base[at] ^= 1 << (next() % 8);
      else if (op === 1) base[at] = (base[at] + 1 + (next() % 255)) & 0xff; // always a different byte
      else if (op === 2) return base.subarray(0, at);
      else return Uint8Array.from([...base, ...randomBytes(next, 1 + (next() % 8))]);
    }
    return base;
  };

  const client = await RawWsClient.open(node.wsUrl);
  const failures: string[] = [];
  const accepted: string[] = [];
  const codes = new Map<number | string, number>();
  try {
    let sent = 0;
    const worker = async () => {
      while (sent < FUZZ_BLOBS) {
        const start = sent;
        const n = Math.min(FUZZ_BATCH_CALLS, FUZZ_BLOBS - sent);
        sent += n;
        const blobs = Array.from({ length: n }, (_, k) => blob(start + k));
        const responses = await client.batch(blobs.map((b) => ["author_submitExtrinsic", [toHex(b)]]));
        responses.forEach((r, k) => {
          const key = r?.error ? r.error.code : r?.result !== undefined ? "accepted" : "missing";
          codes.set(key, (codes.get(key) ?? 0) + 1);
          const ok = r !== undefined && (r.error ? EXTRINSIC_REFUSAL_CODES.has(r.error.code) : typeof r.result === "string");
          if (r?.result !== undefined) accepted.push(`blob #${start + k} ${toHex(blobs[k])}`);
          if (!ok && failures.length < 10) failures.push(`blob #${start + k} ${toHex(blobs[k])} -> ${JSON.stringify(r)}`);
        });
      }
    };
    await Promise.all(Array.from({ length: FUZZ_BATCHES_IN_FLIGHT }, worker));
  } finally {
    await client.close();
  }
  t.diagnostic(`answers by code: ${JSON.stringify(Object.fromEntries(codes))}`);
  for (const a of accepted) t.diagnostic(`accepted: ${a}`);
  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, FUZZ_BLOBS, `seed ${FUZZ_SEED}: every blob gets an answer (${JSON.stringify([...codes])})`);
  assert.deepEqual(failures, [], `seed ${FUZZ_SEED}: unexpected answers (codes seen: ${JSON.stringify([...codes])})`);
  await assertStillServing(`${FUZZ_BLOBS} fuzzed extrinsics (seed ${FUZZ_SEED})`);
});

test("after all of it, a valid transfer still finalizes", async () => {
  await transferFinalizes(7_777_777n);
  await assertStillServing("the final transfer");
  assert.doesNotMatch(node.output(), /rpc method failed|dispatcher rejected|uncaught|FATAL/i, "the node logged no internal failures");
});

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  return waitUntil(what, probe, timeoutMs);
}
