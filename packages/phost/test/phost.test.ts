import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, bytesEqual, keyPairFromUri, toHex, verifyMultiSignature, type KeyPair } from "@phala-ts/primitives";
import { createPhalaRuntime, decodeExtrinsic, signingPayload } from "@phala-ts/runtime";
import { PhalaRegistryStorage, SignedMessage, WorkerEndpointPayload, type SignedMessageValue } from "@phala-ts/runtime/phala";
import { PHOST_DEFAULTS, resolvePhostOptions, startPhost, type Phost, type PhostOptions } from "../src/index.ts";
import { FakeNode, FakePruntime, memoryLogger, waitUntil, type LogLine } from "./fakes.ts";

const OPERATOR = keyPairFromUri("//Alice", "sr25519");
const runtime = createPhalaRuntime();

interface Harness {
  node: FakeNode;
  pr: FakePruntime;
  lines: LogLine[];
  phost: Phost;
  start(extra?: Partial<PhostOptions>): Phost;
  cleanup(): Promise<void>;
}

/** A fake node at `height`, a fresh fake pRuntime and a pHost between them, with fast timers. */
async function harness(height: number, options: Partial<PhostOptions> = {}): Promise<Harness> {
  const node = new FakeNode(height);
  const pr = new FakePruntime();
  await node.start();
  await pr.start();
  const lines: LogLine[] = [];
  const started: Phost[] = [];
  const start = (extra: Partial<PhostOptions> = {}) => {
    const p = startPhost({
      nodeUrl: node.url,
      pruntimeUrl: pr.url,
      operator: OPERATOR,
      pollIntervalMs: 20,
      retryDelayMs: 50,
      retryDelayMaxMs: 400,
      requestTimeoutMs: 5000,
      progressIntervalMs: 100,
      logger: memoryLogger(lines),
      ...options,
      ...extra,
    });
    started.push(p);
    return p;
  };
  const h: Harness = {
    node,
    pr,
    lines,
    phost: start(),
    start,
    async cleanup() {
      for (const p of started) await p.stop();
      await node.stop();
      await pr.stop();
    },
  };
  return h;
}

/** Names the PhalaRegistry error a call fails with in dispatch, or undefined to let it succeed. */
type Refuse = (call: DecodedCall) => string | undefined;

const EVENTS_KEY = toHex(runtime.systemEvents.key());
/** Stands in for the timestamp inherent at index 0, so the index of pHost's extrinsic matters. */
const INHERENT = new Uint8Array([0x08, 0x00]);
const DISPATCH_INFO = { weight: { ref_time: 1n, proof_size: 0n }, class: { tag: "Normal", value: undefined }, pays_fee: { tag: "Yes", value: undefined } };

function dispatchEvent(index: number, refusal: string | undefined) {
  const event =
    refusal === undefined
      ? { tag: "ExtrinsicSuccess", value: { dispatch_info: DISPATCH_INFO } }
      : { tag: "ExtrinsicFailed", value: { dispatch_error: runtime.pallet("PhalaRegistry")!.error(refusal), dispatch_info: DISPATCH_INFO } };
  return { phase: { tag: "ApplyExtrinsic", value: index }, event: { tag: "System", value: event }, topics: [] };
}

/**
 * Makes the fake node behave like a chain with PhalaRegistry: each block includes the signed
 * extrinsics the pool accepted since the last one, after an inherent, and writes that block's
 * System.Events. A call `refuse` names fails with that error; else a registration lands in
 * storage, and an endpoint update too unless `applyEndpoints` is off (then it is dropped).
 */
function includeRegistrations(node: FakeNode, pr: FakePruntime, refuse: Refuse = () => undefined): void {
  const base = node.onSubmit;
  const accepted: Uint8Array[] = [];
  node.onSubmit = (bytes, n) => {
    const refusal = base(bytes, n);
    const xt = decodeExtrinsic(bytes);
    if (!refusal && xt.signed) {
      const who = toHex(xt.signed.address.value as Uint8Array);
      n.nonces.set(who, (n.nonces.get(who) ?? 0) + 1);
      accepted.push(bytes);
    }
    return refusal;
  };
  node.onBlock = (height, n) => {
    const body: Uint8Array[] = [INHERENT];
    const records = [dispatchEvent(0, undefined)];
    for (const bytes of accepted.splice(0)) {
      const c = decodeCallForTest(decodeExtrinsic(bytes).callBytes);
      if (c.call === "update_worker_endpoint" && !n.applyEndpoints) continue;
      const index = body.push(bytes) - 1;
      const refusal = refuse(c);
      records.push(dispatchEvent(index, refusal));
      if (refusal !== undefined) continue;
      if (c.call === "register_worker") n.storage.set(toHex(PhalaRegistryStorage.Workers.key(pr.identity.publicKey)), new Uint8Array([1]));
      if (c.call === "update_worker_endpoint") {
        n.storage.set(toHex(PhalaRegistryStorage.Endpoints.key(pr.identity.publicKey)), WorkerEndpointPayload.codec.enc(c.args.payload));
      }
    }
    n.bodies.set(height, body);
    n.blockStorage.set(height, new Map([[EVENTS_KEY, runtime.systemEvents.type.codec.enc(records)]]));
  };
}

interface DecodedCall {
  pallet: string;
  call: string;
  args: Record<string, any>;
}

/** Decodes a call pHost submitted with the runtime's call type. */
function decodeCallForTest(bytes: Uint8Array): DecodedCall {
  const c = runtime.decodeCall(bytes);
  return { pallet: c.tag, call: c.value.tag, args: c.value.value };
}

function callsNamed(node: FakeNode, call: string) {
  return node.submitted
    .map((s) => ({ ...s, xt: decodeExtrinsic(s.bytes) }))
    .map((s) => ({ ...s, decoded: decodeCallForTest(s.xt.callBytes) }))
    .filter((s) => s.decoded.call === call);
}

/** Checks an extrinsic is signed by `signer` over this chain's signing payload (immortal era). */
function assertSignedBy(bytes: Uint8Array, signer: KeyPair, genesisHash: Uint8Array): void {
  const xt = decodeExtrinsic(bytes);
  assert.ok(xt.signed, "the extrinsic is signed");
  assert.equal(xt.signed.address.tag, "Id");
  assert.deepEqual(xt.signed.address.value, signer.accountId);
  assert.deepEqual(xt.signed.era, { kind: "immortal" });
  const payload = signingPayload(xt.callBytes, xt.signed.extra, { specVersion: 1, transactionVersion: 1, genesisHash, eraBlockHash: genesisHash });
  assert.ok(verifyMultiSignature(xt.signed.signature, payload, signer.accountId), "the signature verifies under the operator's key");
}

function signedMessage(seq: bigint, fill: number): Uint8Array {
  const m: SignedMessageValue = {
    message: { sender: { tag: "Worker", value: new Uint8Array(32).fill(fill) } as SignedMessageValue["message"]["sender"], destination: new TextEncoder().encode("phala/test"), payload: new Uint8Array([fill]) },
    sequence: seq,
    signature: new Uint8Array(64).fill(fill),
  };
  return SignedMessage.codec.enc(m);
}

/** Waits until pHost has started two more rounds, so the round that saw the current state has finished. */
async function settle(h: Harness): Promise<void> {
  const rounds = h.pr.count("/info");
  await waitUntil("two more rounds", () => h.pr.count("/info") >= rounds + 2);
}

const warnings = (lines: LogLine[]) => lines.filter((l) => l.level === "warn" || l.level === "error");

test("initializes pRuntime, syncs in batches up to the tip and follows new finalized blocks", async () => {
  const h = await harness(2500, { batchSize: 1000 });
  try {
    await waitUntil("pRuntime is at 2500", () => h.pr.syncedHeight === 2500);
    assert.equal(h.pr.count("/init"), 1);
    assert.deepEqual(h.pr.syncBatches.slice(0, 3), [
      { from: 1, to: 1000 },
      { from: 1001, to: 2000 },
      { from: 2001, to: 2500 },
    ]);
    await waitUntil("caught up", () => h.phost.status().state === "caught-up");
    assert.ok(h.lines.some((l) => l.msg === "caught up with the finalized chain"));
    assert.ok(h.lines.some((l) => l.msg === "initialized pRuntime with the chain's genesis header"));

    h.node.produce(3);
    await waitUntil("pHost follows to 2503", () => h.phost.status().syncedHeight === 2503);
    await settle(h);
    const s = h.phost.status();
    assert.equal(s.finalizedHeight, 2503);
    assert.equal(s.syncedHeight, 2503);
    assert.equal(s.nodeConnected, true);
    assert.equal(s.pruntimeReachable, true);
  } finally {
    await h.cleanup();
  }
});

test("a node answering fewer blocks than asked (its byte bound) still gets pRuntime to the tip", async () => {
  const h = await harness(0, { batchSize: 1000 });
  try {
    h.node.syncBatchBlocksCap = 70;
    h.node.produce(300);
    await waitUntil("pRuntime is at 300", () => h.pr.syncedHeight === 300);
    assert.deepEqual(h.pr.syncBatches.slice(0, 5), [
      { from: 1, to: 70 },
      { from: 71, to: 140 },
      { from: 141, to: 210 },
      { from: 211, to: 280 },
      { from: 281, to: 300 },
    ]);
    assert.ok(h.node.syncBatchCalls.every((c) => c.maxBlocks === 1000), "pHost does not shrink its ask for a short answer");
  } finally {
    await h.cleanup();
  }
});

test("prints progress with height, rate and time left while behind", async () => {
  const h = await harness(1000, { batchSize: 10, progressIntervalMs: 20 });
  try {
    await waitUntil("pRuntime is at 1000", () => h.pr.syncedHeight === 1000, 20_000);
    const progress = h.lines.filter((l) => l.msg === "syncing");
    assert.ok(progress.length >= 1, "at least one progress line");
    const last = progress[progress.length - 1].fields!;
    assert.equal(last.target, 1000);
    assert.equal(typeof last.height, "number");
    assert.ok("blocksPerSecond" in last && "eta" in last && "remaining" in last);
    assert.ok(progress.some((l) => typeof l.fields!.blocksPerSecond === "number" && typeof l.fields!.eta === "string" && l.fields!.eta !== "?"), "a rate and an ETA are reported");
  } finally {
    await h.cleanup();
  }
});

test("registers once at the tip with a register_worker signed by the operator, then keeps the endpoint fresh", async () => {
  const endpointUrl = "https://worker.example:8000";
  const h = await harness(120, { batchSize: 50, endpointUrl, endpointRefreshBlocks: 5 });
  includeRegistrations(h.node, h.pr);
  try {
    await waitUntil("registration submitted", () => callsNamed(h.node, "register_worker").length === 1);
    // Only at the tip: pRuntime had synced every finalized block before pHost asked it.
    const regCall = h.pr.calls.find((c) => c.path === "/registration")!;
    assert.equal(regCall.syncedHeight, 120);
    assert.equal(regCall.query.get("operator"), toHex(OPERATOR.accountId));

    const [reg] = callsNamed(h.node, "register_worker");
    assert.equal(reg.decoded.pallet, "PhalaRegistry");
    assertSignedBy(reg.bytes, OPERATOR, h.node.genesisHash);
    assert.equal(reg.xt.signed!.nonce, 0);
    assert.deepEqual(reg.decoded.args.info.pubkey, h.pr.identity.publicKey);
    assert.deepEqual(reg.decoded.args.info.operator, OPERATOR.accountId);
    assert.deepEqual(reg.decoded.args.evidence, h.pr.evidence);

    h.node.produce(1);
    await waitUntil("registered", () => h.phost.status().registered === true);
    assert.ok(h.lines.some((l) => l.msg === "worker is registered on chain"));

    await waitUntil("first endpoint update", () => callsNamed(h.node, "update_worker_endpoint").length === 1);
    const [ep] = callsNamed(h.node, "update_worker_endpoint");
    assertSignedBy(ep.bytes, OPERATOR, h.node.genesisHash);
    assert.equal(ep.xt.signed!.nonce, 1);
    assert.equal(ep.decoded.args.payload.endpoint, endpointUrl);
    assert.deepEqual(ep.decoded.args.payload.pubkey, h.pr.identity.publicKey);
    assert.equal(ep.decoded.args.payload.signed_at, 121);

    // More blocks: no second registration; a new endpoint every 5 blocks.
    for (let i = 0; i < 12; i++) {
      h.node.produce(1);
      await waitUntil(`pHost at ${h.node.height}`, () => h.phost.status().syncedHeight === h.node.height);
      await settle(h);
    }
    await waitUntil("third endpoint update", () => callsNamed(h.node, "update_worker_endpoint").length === 3);
    assert.equal(callsNamed(h.node, "register_worker").length, 1);
    const heights = callsNamed(h.node, "update_worker_endpoint").map((e) => e.decoded.args.payload.signed_at);
    assert.deepEqual(heights, [121, 126, 131]);
    assert.deepEqual(warnings(h.lines), []);
  } finally {
    await h.cleanup();
  }
});

test("an endpoint update that does not land on chain is reported and submitted again", async () => {
  const h = await harness(20, { endpointRefreshBlocks: 100, registrationTimeoutBlocks: 3, retryDelayMs: 20 });
  includeRegistrations(h.node, h.pr);
  h.node.applyEndpoints = false; // as if dispatch failed (e.g. a bad signature)
  try {
    await waitUntil("registration submitted", () => callsNamed(h.node, "register_worker").length === 1);
    h.node.produce(1);
    await waitUntil("first endpoint update", () => callsNamed(h.node, "update_worker_endpoint").length === 1);
    const firstAt = h.node.height;
    while (callsNamed(h.node, "update_worker_endpoint").length < 2) {
      assert.ok(h.node.height < firstAt + 10, "a second update within 10 blocks");
      h.node.produce(1);
      await waitUntil(`pHost at ${h.node.height}`, () => h.phost.status().syncedHeight === h.node.height);
      await settle(h);
    }
    assert.ok(h.node.height >= firstAt + 3, "not before registrationTimeoutBlocks");
    assert.ok(h.lines.some((l) => l.level === "warn" && l.msg === "the worker endpoint update did not reach the chain; submitting again"));

    // Once updates land, the next one waits for endpointRefreshBlocks.
    h.node.applyEndpoints = true;
    // pHost looks for the landed update on its own rounds; under load that may take a few blocks.
    await produceWhile(h, 20, () => !h.lines.some((l) => l.msg === "the worker endpoint is on chain"));
    assert.ok(h.lines.some((l) => l.msg === "the worker endpoint is on chain"));
    assert.equal(callsNamed(h.node, "update_worker_endpoint").length, 2);
  } finally {
    await h.cleanup();
  }
});

/** Produces blocks one at a time, each synced and settled, while `more()` holds (at most `max`). */
async function produceWhile(h: Harness, max: number, more: () => boolean): Promise<void> {
  for (let i = 0; i < max && more(); i++) {
    h.node.produce(1);
    await waitUntil(`pHost at ${h.node.height}`, () => h.phost.status().syncedHeight === h.node.height);
    await settle(h);
  }
}

test("a registration the chain refuses in dispatch is reported with the pallet error and a hint, and not resubmitted quickly", async () => {
  const h = await harness(20, { retryDelayMs: 20, retryDelayMaxMs: 60_000, registrationTimeoutBlocks: 3 });
  includeRegistrations(h.node, h.pr, (c) => (c.call === "register_worker" ? "DevAttestationNotAllowed" : undefined));
  try {
    await waitUntil("registration submitted", () => callsNamed(h.node, "register_worker").length === 1);
    h.node.produce(1);
    const includedAt = h.node.height;
    await waitUntil("the refusal is reported", () => h.phost.status().lastError?.code === "REGISTRATION_REFUSED");
    const s = h.phost.status();
    assert.equal(s.registered, false);
    assert.equal(s.lastError!.dispatchError, "PhalaRegistry.DevAttestationNotAllowed");
    assert.match(s.lastError!.message, /^the chain refused this worker's registration: PhalaRegistry\.DevAttestationNotAllowed — .*dev evidence.*--tee/);

    const refused = h.lines.filter((l) => l.msg === "the chain refused this worker's registration");
    assert.equal(refused.length, 1);
    assert.equal(refused[0].level, "error");
    assert.equal(refused[0].scope, "phost:registry");
    assert.equal(refused[0].fields!.error, "PhalaRegistry.DevAttestationNotAllowed");
    assert.match(String(refused[0].fields!.hint), /does not accept dev evidence/);
    assert.equal(refused[0].fields!.block, includedAt);
    assert.equal(refused[0].fields!.retryInMs, 60_000, "a cause only the operator can change waits the longest backoff");

    // Well past registrationTimeoutBlocks and the short backoff: no second fee.
    await produceWhile(h, 8, () => true);
    assert.equal(callsNamed(h.node, "register_worker").length, 1);
    assert.equal(h.lines.filter((l) => l.msg === "the chain refused this worker's registration").length, 1, "one line per refusal");
    assert.ok(!h.lines.some((l) => l.msg === "the worker registration did not reach the chain; submitting again"));
    assert.equal(h.phost.status().lastError?.code, "REGISTRATION_REFUSED", "the refusal stays in the status while it holds");
  } finally {
    await h.cleanup();
  }
});

test("refusals that may pass next time are retried at the normal pace: a registration, then an endpoint update", async () => {
  const h = await harness(20, { retryDelayMs: 20, retryDelayMaxMs: 60_000, registrationTimeoutBlocks: 50, endpointRefreshBlocks: 100 });
  const refusals: Record<string, string[]> = { register_worker: ["CollateralExpired"], update_worker_endpoint: ["EndpointStale"] };
  includeRegistrations(h.node, h.pr, (c) => refusals[c.call]?.shift());
  try {
    await waitUntil("registration submitted", () => callsNamed(h.node, "register_worker").length === 1);
    await produceWhile(h, 10, () => callsNamed(h.node, "register_worker").length < 2);
    assert.equal(callsNamed(h.node, "register_worker").length, 2, "submitted again within a few blocks");
    const reg = h.lines.find((l) => l.msg === "the chain refused this worker's registration")!;
    assert.equal(reg.level, "warn");
    assert.equal(reg.fields!.error, "PhalaRegistry.CollateralExpired");
    assert.equal(reg.fields!.retryInMs, 20);
    assert.match(String(reg.fields!.hint), /collateral/);

    await produceWhile(h, 10, () => h.phost.status().registered !== true);
    assert.equal(h.phost.status().registered, true);
    assert.equal(h.phost.status().lastError, undefined, "a registration that took effect clears the refusal");

    await waitUntil("first endpoint update", () => callsNamed(h.node, "update_worker_endpoint").length === 1);
    await produceWhile(h, 10, () => h.phost.status().lastError?.code !== "ENDPOINT_REFUSED");
    const s = h.phost.status();
    assert.equal(s.lastError?.code, "ENDPOINT_REFUSED");
    assert.equal(s.lastError?.dispatchError, "PhalaRegistry.EndpointStale");
    const ep = h.lines.find((l) => l.msg === "the chain refused this worker's endpoint update")!;
    assert.equal(ep.level, "warn");
    assert.match(String(ep.fields!.hint), /fresh one/);

    await produceWhile(h, 10, () => !h.lines.some((l) => l.msg === "the worker endpoint is on chain"));
    assert.equal(callsNamed(h.node, "update_worker_endpoint").length, 2);
    assert.equal(h.phost.status().lastError, undefined);
    assert.ok(!h.lines.some((l) => /did not reach the chain/.test(l.msg)), "refusals are seen in events, not by timeout");
  } finally {
    await h.cleanup();
  }
});

test("a node that cannot show a registration's outcome leaves pHost to the storage check and the timeout", async () => {
  const h = await harness(20, { retryDelayMs: 20, retryDelayMaxMs: 60_000, registrationTimeoutBlocks: 3 });
  includeRegistrations(h.node, h.pr, () => "DevAttestationNotAllowed");
  const include = h.node.onBlock;
  h.node.onBlock = (height, n) => {
    include(height, n);
    n.blockStorage.delete(height); // as if the node had pruned the block's state
  };
  try {
    await waitUntil("registration submitted", () => callsNamed(h.node, "register_worker").length === 1);
    await produceWhile(h, 10, () => callsNamed(h.node, "register_worker").length < 2);
    assert.equal(callsNamed(h.node, "register_worker").length, 2);
    const unknown = h.lines.filter((l) => l.msg === "cannot tell whether the chain accepted the registration; watching storage instead");
    assert.equal(unknown.length, 1);
    assert.match(String(unknown[0].fields!.reason), /no dispatch event/);
    const timedOut = h.lines.find((l) => l.msg === "the worker registration did not reach the chain; submitting again")!;
    assert.match(String(timedOut.fields!.hint), /outcome is unknown/);
    assert.equal(h.phost.status().lastError, undefined);
  } finally {
    await h.cleanup();
  }
});

test("a refused registration is logged with the node's reason and retried later", async () => {
  const h = await harness(30, { retryDelayMs: 100 });
  let refusals = 2;
  h.node.onSubmit = () => (refusals-- > 0 ? { code: 1010, message: "Invalid Transaction", data: "Inability to pay some fees (e.g. account balance too low)" } : undefined);
  try {
    await waitUntil("the third attempt is accepted", () => h.phost.status().registrationsSubmitted === 1);
    assert.equal(callsNamed(h.node, "register_worker").length, 3);
    const refused = h.lines.filter((l) => l.msg === "the node refused the registration");
    assert.equal(refused.length, 2);
    assert.equal(refused[0].fields!.rpcCode, 1010);
    assert.match(String(refused[0].fields!.reason), /Inability to pay some fees/);
  } finally {
    await h.cleanup();
  }
});

test("relays egress as unsigned sync_offchain_message extrinsics and treats 'already there' answers as normal", async () => {
  const h = await harness(5, { egressResubmitIntervalMs: 300 });
  const m1 = signedMessage(0n, 1);
  const m2 = signedMessage(1n, 1);
  const stale = signedMessage(0n, 2);
  const bad = signedMessage(0n, 3);
  h.pr.egress = [m1, m2, stale, bad];
  const registrations = new Set<string>();
  const base = h.node.onSubmit;
  h.node.onSubmit = (bytes, n) => {
    const xt = decodeExtrinsic(bytes);
    if (xt.signed) return registrations.add(toHex(bytes)) && undefined;
    const msg: Uint8Array = SignedMessage.codec.enc(decodeCallForTest(xt.callBytes).args.signed_message);
    if (bytesEqual(msg, stale)) return { code: 1010, message: "Invalid Transaction", data: "Transaction is outdated" };
    if (bytesEqual(msg, bad)) return { code: 1010, message: "Invalid Transaction", data: "Transaction has a bad signature" };
    return base(bytes, n);
  };
  const t0 = Date.now();
  try {
    await waitUntil("every message submitted at least twice", () => h.phost.status().egress.known >= 4, 10_000);
    const unsigned = h.node.submitted.filter((s) => !decodeExtrinsic(s.bytes).signed);
    for (const s of unsigned) {
      const c = decodeCallForTest(decodeExtrinsic(s.bytes).callBytes);
      assert.equal(c.pallet, "PhalaMq");
      assert.equal(c.call, "sync_offchain_message");
    }
    const submissionsOf = (m: Uint8Array) =>
      unsigned.filter((s) => bytesEqual(SignedMessage.codec.enc(decodeCallForTest(decodeExtrinsic(s.bytes).callBytes).args.signed_message), m)).length;
    assert.ok(submissionsOf(m1) >= 2 && submissionsOf(m2) >= 2);
    // Not more often than every 300 ms.
    const elapsedMs = Date.now() - t0;
    assert.ok(submissionsOf(m1) <= Math.floor(elapsedMs / 300) + 1, `${submissionsOf(m1)} submissions in ${elapsedMs} ms`);

    const s = h.phost.status().egress;
    assert.ok(s.submitted >= 2);
    // Duplicates (1013) and stale ones (1010 outdated) are normal; only the bad signature is a warning.
    const egressWarnings = warnings(h.lines).filter((l) => l.scope.endsWith("egress"));
    assert.equal(egressWarnings.length, 1, "one warning for the refused message, although it was submitted again");
    assert.equal(egressWarnings[0].msg, "the node refused an egress message");
    assert.match(String(egressWarnings[0].fields!.reason), /bad signature/);
    assert.ok(submissionsOf(bad) >= 2);

    // A message pRuntime no longer lists is not submitted again.
    h.pr.egress = [];
    await settle(h);
    const before = h.node.submitted.length;
    const rounds = h.pr.count("/egress");
    await waitUntil("a few more rounds", () => h.pr.count("/egress") > rounds + 10);
    assert.equal(h.node.submitted.filter((x, i) => i >= before && !decodeExtrinsic(x.bytes).signed).length, 0);
  } finally {
    await h.cleanup();
  }
});

test("survives pRuntime refusing batches: logs the code, backs off, never spins", async () => {
  const h = await harness(250, { batchSize: 100, retryDelayMs: 100 });
  h.pr.refuseSync = [
    { status: 400, code: "BAD_CERTIFICATE", message: "the certificate does not verify" },
    { status: 400, code: "BAD_CERTIFICATE", message: "the certificate does not verify" },
    { status: 400, code: "BAD_LINK", message: "block 1 does not link" },
  ];
  const t0 = Date.now();
  try {
    await waitUntil("pHost is at 250", () => h.phost.status().syncedHeight === 250);
    const elapsedMs = Date.now() - t0;
    // Backoff: 100 + 200 + 400 ms between the refused attempts.
    assert.ok(elapsedMs >= 650, `synced after ${elapsedMs} ms`);
    assert.equal(h.pr.count("/sync"), 3 + 3, "three refused attempts and three accepted batches");
    const refused = h.lines.filter((l) => l.msg === "pRuntime refused a sync batch; retrying");
    assert.deepEqual(
      refused.map((l) => [l.fields!.code, l.fields!.from]),
      [
        ["BAD_CERTIFICATE", 1],
        ["BAD_CERTIFICATE", 1],
        ["BAD_LINK", 1],
      ],
    );
    assert.deepEqual(
      refused.map((l) => l.fields!.retryInMs),
      [100, 200, 400],
    );
    assert.equal(h.phost.status().lastError, undefined);
  } finally {
    await h.cleanup();
  }
});

test("asks for smaller batches when pRuntime says one is too large", async () => {
  const h = await harness(300, { batchSize: 200, retryDelayMs: 20 });
  h.pr.refuseSync = [{ status: 413, code: "BODY_TOO_LARGE", message: "the body exceeds the limit" }];
  try {
    await waitUntil("pHost is at 300", () => h.phost.status().syncedHeight === 300);
    assert.deepEqual(
      h.node.syncBatchCalls.map((c) => [c.from, c.maxBlocks]),
      [
        [1, 200],
        [1, 100],
        [101, 100],
        [201, 100],
      ],
    );
    assert.ok(h.lines.some((l) => l.msg === "pRuntime found a batch too large; asking for smaller ones" && l.fields!.batchSize === 100));
  } finally {
    await h.cleanup();
  }
});

test("survives the node and pRuntime going away and coming back", async () => {
  const h = await harness(300, { batchSize: 100 });
  try {
    await waitUntil("pRuntime is at 300", () => h.pr.syncedHeight === 300);
    await h.node.stop();
    await waitUntil("pHost sees the node gone", () => !h.phost.status().nodeConnected);
    h.node.produce(200); // the chain moves on while pHost cannot see it
    const seen = h.lines.length;
    await waitUntil("pHost tried the node twice more", () => h.lines.slice(seen).filter((l) => l.msg === "cannot reach the node; retrying").length >= 2);
    assert.equal(h.pr.syncedHeight, 300);
    await h.node.start();
    await waitUntil("pRuntime is at 500", () => h.pr.syncedHeight === 500);
    assert.ok(h.lines.some((l) => l.level === "warn" && l.msg === "lost the connection to the node; reconnecting"));
    assert.ok(h.lines.some((l) => l.msg === "reconnected to the node"));

    await h.pr.stop();
    h.node.produce(10);
    await waitUntil("pHost reports pRuntime unreachable", () => h.phost.status().pruntimeReachable === false);
    assert.equal(h.phost.status().lastError?.code, "PRUNTIME_UNAVAILABLE");
    await h.pr.start();
    await waitUntil("pHost is at 510", () => h.phost.status().syncedHeight === 510);
    await settle(h);
    assert.equal(h.lines.filter((l) => l.msg === "cannot reach pRuntime; retrying" && l.level === "warn").length, 1, "one warning per outage");
    assert.ok(h.lines.some((l) => l.msg === "pRuntime answers again"));
    assert.equal(h.phost.status().state, "caught-up");
  } finally {
    await h.cleanup();
  }
});

test("a restarted pHost continues from pRuntime's height, not from 0", async () => {
  const h = await harness(1500, { batchSize: 100 });
  try {
    // Kill the first pHost in the middle of syncing.
    await waitUntil("pRuntime past 300", () => h.pr.syncedHeight >= 300);
    await h.phost.stop();
    assert.equal(h.phost.status().state, "stopped");
    const stoppedAt = h.pr.syncedHeight;
    assert.ok(stoppedAt < 1500);
    h.node.produce(200);
    h.node.syncBatchCalls.length = 0;
    const second = h.start();
    await waitUntil("pHost is at 1700", () => second.status().syncedHeight === 1700);
    assert.equal(h.node.syncBatchCalls[0].from, stoppedAt + 1);
    assert.equal(h.pr.count("/init"), 1, "pRuntime is initialized only once");
    assert.equal(second.status().syncedHeight, 1700);
  } finally {
    await h.cleanup();
  }
});

test("falls back to polling when the node has no finalized-head subscription", async () => {
  const node = new FakeNode(40);
  node.supportsSubscription = false;
  const pr = new FakePruntime();
  await node.start();
  await pr.start();
  const lines: LogLine[] = [];
  const phost = startPhost({ nodeUrl: node.url, pruntimeUrl: pr.url, operator: OPERATOR, pollIntervalMs: 20, logger: memoryLogger(lines) });
  try {
    await waitUntil("pRuntime is at 40", () => pr.syncedHeight === 40);
    node.produce(5);
    await waitUntil("pRuntime is at 45", () => pr.syncedHeight === 45);
    assert.ok(lines.some((l) => l.msg === "the node refused the finalized-head subscription; polling instead"));
  } finally {
    await phost.stop();
    await node.stop();
    await pr.stop();
  }
});

test("refuses to feed a pRuntime that follows another chain", async () => {
  const node = new FakeNode(10);
  const pr = new FakePruntime();
  pr.initialized = true;
  pr.genesisHash = blake2b256(new Uint8Array([1]));
  pr.syncedHash = pr.genesisHash;
  await node.start();
  await pr.start();
  const lines: LogLine[] = [];
  const phost = startPhost({ nodeUrl: node.url, pruntimeUrl: pr.url, operator: OPERATOR, pollIntervalMs: 20, retryDelayMs: 50, logger: memoryLogger(lines) });
  try {
    await waitUntil("the mismatch is reported", () => phost.status().lastError?.code === "GENESIS_MISMATCH");
    assert.equal(pr.count("/sync"), 0);
    assert.equal(pr.count("/init"), 0);
    const err = lines.find((l) => l.level === "error")!;
    assert.equal(err.msg, "pRuntime and the node are on different chains; not syncing");
    assert.equal(err.fields!.nodeGenesis, toHex(node.genesisHash));
  } finally {
    await phost.stop();
    await node.stop();
    await pr.stop();
  }
});

test("startPhost refuses invalid options and stop() is idempotent", async () => {
  const base = { nodeUrl: "ws://127.0.0.1:1", pruntimeUrl: "http://127.0.0.1:1", operator: OPERATOR };
  assert.throws(() => startPhost({ ...base, nodeUrl: "http://127.0.0.1:9944" }), { code: "INVALID_OPTIONS" });
  assert.throws(() => startPhost({ ...base, pruntimeUrl: "not a url" }), { code: "INVALID_OPTIONS" });
  assert.throws(() => startPhost({ ...base, batchSize: 0 }), { code: "INVALID_OPTIONS" });
  assert.throws(() => startPhost({ ...base, batchSize: 1e9 }), { code: "INVALID_OPTIONS" });
  assert.throws(() => startPhost({ ...base, operator: undefined as unknown as KeyPair }), { code: "INVALID_OPTIONS" });
  const resolved = resolvePhostOptions(base);
  assert.equal(resolved.endpointUrl, base.pruntimeUrl, "the endpoint defaults to the pRuntime URL");
  assert.equal(resolved.batchSize, 1000);
  assert.equal(resolved.pollIntervalMs, 500);
  assert.equal(resolved.endpointRefreshBlocks, 50);
  assert.equal(resolved.batchSize, PHOST_DEFAULTS.batchSize);
  // Nothing listens on port 1: pHost keeps retrying and stops cleanly.
  const lines: LogLine[] = [];
  const p = startPhost({ ...base, retryDelayMs: 20, logger: memoryLogger(lines) });
  await waitUntil("a few failed attempts", () => lines.filter((l) => l.msg === "cannot reach the node; retrying").length >= 3);
  assert.equal(p.status().nodeConnected, false);
  assert.equal(p.status().state, "retrying");
  await Promise.all([p.stop(), p.stop()]);
  assert.equal(p.status().state, "stopped");
});
