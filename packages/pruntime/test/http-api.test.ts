import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatBytes, fromHex, toHex, verifyEd25519 } from "@phala-ts/primitives";
import { ENDPOINT_DOMAIN } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { SyncBatch, WorkerEndpointPayload, WorkerRegistrationInfo, registrationReportData } from "@phala-ts/runtime/phala";
import { decodeEvidence, devPolicy, verifyEvidence } from "@phala-ts/attestation";
import { startPruntime, type RunningPruntime } from "../src/service.ts";
import { ChainFixture } from "./chain-fixture.ts";

interface Reply {
  status: number;
  body: any;
}

async function call(p: RunningPruntime, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${p.port}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text.length ? JSON.parse(text) : undefined };
}

const postJson = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const postBytes = (body: Uint8Array): RequestInit => ({ method: "POST", headers: { "content-type": "application/octet-stream" }, body });

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(request));
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("end", () => resolve(out));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
}

test("the HTTP API follows the contract and keeps serving after bad input", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-http-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chain = new ChainFixture({ fillerKeys: 16 });
  for (let i = 0; i < 5; i++) chain.addBlock();
  const p = await startPruntime({ dataDir: dir, port: 0 });
  t.after(() => p.close());

  const health = await call(p, "/health");
  assert.deepEqual(health, { status: 200, body: { ok: true, syncedHeight: 0 } });
  let info = (await call(p, "/info")).body;
  assert.equal(info.initialized, false);
  assert.equal(info.genesisHash, null);
  assert.equal(info.role, "worker");
  assert.equal(info.tee, "dev");

  // Before /init.
  const early = await call(p, "/sync", postBytes(SyncBatch.codec.enc(chain.batch(1, 2))));
  assert.equal(early.status, 400);
  assert.equal(early.body.error.code, "NOT_INITIALIZED");
  assert.equal((await call(p, "/registration")).body.error.code, "NOT_INITIALIZED");

  // Bad /init bodies.
  for (const body of ["not json", JSON.stringify([1]), JSON.stringify({ genesisHeader: 5 }), JSON.stringify({ genesisHeader: "0xzz" }), JSON.stringify({ genesisHeader: "0x0102" })]) {
    const r = await call(p, "/init", { method: "POST", body });
    assert.equal(r.status, 400, body);
    assert.ok(["BAD_REQUEST", "MALFORMED"].includes(r.body.error.code), body);
  }
  const init = await call(p, "/init", postJson({ genesisHeader: toHex(chain.genesisHeader) }));
  assert.equal(init.status, 200);
  assert.equal(init.body.genesisHash, toHex(chain.genesisHash));
  assert.equal((await call(p, "/init", postJson({ genesisHeader: toHex(chain.genesisHeader) }))).status, 200, "idempotent");
  const other = new ChainFixture({ fillerKeys: 3 });
  const conflict = await call(p, "/init", postJson({ genesisHeader: toHex(other.genesisHeader) }));
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, "GENESIS_MISMATCH");

  // Bad /sync bodies: state unchanged each time.
  assert.equal((await call(p, "/sync", postBytes(new Uint8Array([1, 2, 3])))).body.error.code, "MALFORMED");
  assert.equal((await call(p, "/sync", postBytes(new Uint8Array()))).body.error.code, "MALFORMED");
  assert.equal((await call(p, "/sync", postBytes(SyncBatch.codec.enc(chain.batch(2, 3))))).body.error.code, "NOT_NEXT");
  const badCert = await call(p, "/sync", postBytes(SyncBatch.codec.enc(chain.batch(1, 3, chain.certificate(2)))));
  assert.equal(badCert.status, 400);
  assert.equal(badCert.body.error.code, "BAD_CERTIFICATE");
  assert.equal((await call(p, "/health")).body.syncedHeight, 0);

  // Oversized bodies are refused from the declared length, without reading them.
  const big = await raw(p.port, "POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 100000000\r\n\r\nabc");
  assert.match(big, /^HTTP\/1.1 413/);
  assert.match(big, /BODY_TOO_LARGE/);
  // Malformed HTTP gets a 400, unknown paths a 404, wrong methods a 405.
  assert.match(await raw(p.port, "GARBAGE\r\n\r\n"), /^HTTP\/1.1 400/);
  assert.equal((await call(p, "/nope")).status, 404);
  assert.equal((await call(p, "/sync")).status, 405);
  assert.equal((await call(p, "/info", { method: "POST", body: "{}" })).status, 405);

  // A good batch.
  const ok = await call(p, "/sync", postBytes(SyncBatch.codec.enc(chain.batch(1, 5))));
  assert.deepEqual(ok, { status: 200, body: { syncedHeight: 5, syncedHash: toHex(chain.hashAt(5)) } });
  assert.deepEqual((await call(p, "/egress")).body, { messages: [] });

  // Registration: the info binds both keys and the genesis; the dev evidence binds the info.
  const operator = "0x" + "11".repeat(32);
  assert.equal((await call(p, "/registration?operator=0x1234")).status, 400);
  const reg = (await call(p, `/registration?operator=${operator}`)).body;
  const regInfo = decodeExact(WorkerRegistrationInfo, fromHex(reg.info));
  info = (await call(p, "/info")).body;
  assert.equal(toHex(regInfo.pubkey), info.identityKey);
  assert.equal(toHex(regInfo.ecdh_pubkey), info.ecdhKey);
  assert.equal(toHex(regInfo.genesis_hash), toHex(chain.genesisHash));
  assert.equal(toHex(regInfo.operator!), operator);
  const evidence = decodeEvidence(fromHex(reg.evidence));
  assert.equal(evidence.tee, "dev");
  const verdict = verifyEvidence(evidence, { policy: devPolicy(), now: 1_700_000_000, expectedReportData: registrationReportData(regInfo) });
  assert.equal(verdict.tee, "dev");
  const noOperator = decodeExact(WorkerRegistrationInfo, fromHex((await call(p, "/registration?operator=")).body.info));
  assert.equal(noOperator.operator, undefined);

  // Endpoint: signed by the identity key at the synced height.
  assert.equal((await call(p, "/endpoint")).status, 400);
  // Nothing longer than the chain stores is signed.
  const tooLong = await call(p, `/endpoint?url=${encodeURIComponent(`https://worker.example/${"é".repeat(250)}`)}`);
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.body.error.message, /1\.\.512 bytes/);
  const ep = (await call(p, `/endpoint?url=${encodeURIComponent("http://10.0.0.1:8000")}`)).body;
  const payload = decodeExact(WorkerEndpointPayload, fromHex(ep.payload));
  assert.equal(payload.endpoint, "http://10.0.0.1:8000");
  assert.equal(payload.signed_at, 5);
  assert.ok(verifyEd25519(fromHex(info.identityKey), concatBytes(ENDPOINT_DOMAIN, fromHex(ep.payload)), fromHex(ep.signature)));

  // Still serving, and concurrent requests all get answers.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => call(p, i % 2 ? "/info" : "/sync", i % 2 ? {} : postBytes(new Uint8Array([i])))));
  assert.ok(many.every((r) => r.status === 200 || r.status === 400));
  assert.deepEqual((await call(p, "/health")).body, { ok: true, syncedHeight: 5 });

  // A restart on the same data dir continues where the last checkpoint left (close seals one).
  await p.close();
  const again = await startPruntime({ dataDir: dir, port: 0 });
  try {
    const i2 = (await call(again, "/info")).body;
    assert.equal(i2.identityKey, info.identityKey);
    assert.equal(i2.syncedHeight, 5);
    // A second pRuntime on the same directory is refused.
    await assert.rejects(startPruntime({ dataDir: dir, port: 0 }), /another pRuntime/);
  } finally {
    await again.close();
  }
});

test("browsers may query and read results from any origin, but get no grant for operator routes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-cors-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = await startPruntime({ dataDir: dir, port: 0 });
  t.after(() => p.close());
  const origin = { origin: "https://dapp.example" };

  // The SDK posts binary SCALE, which makes browsers ask first (preflight).
  const preflight = await fetch(`http://127.0.0.1:${p.port}/query`, {
    method: "OPTIONS",
    headers: { ...origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /\bPOST\b/);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /\bcontent-type\b/);

  // Answers, errors included, carry the grant so the page can read what went wrong.
  const bad = await fetch(`http://127.0.0.1:${p.port}/query`, { method: "POST", headers: { ...origin, "content-type": "application/octet-stream" }, body: new Uint8Array([1, 2, 3]) });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get("access-control-allow-origin"), "*");
  const result = await fetch(`http://127.0.0.1:${p.port}/contracts/0x${"00".repeat(32)}`, { headers: origin });
  assert.equal(result.headers.get("access-control-allow-origin"), "*");
  assert.equal((await fetch(`http://127.0.0.1:${p.port}/info`, { headers: origin })).headers.get("access-control-allow-origin"), "*");

  for (const path of ["/init", "/sync", "/registration", "/egress", "/endpoint"]) {
    const res = await fetch(`http://127.0.0.1:${p.port}${path}`, { method: "OPTIONS", headers: { ...origin, "access-control-request-method": "POST" } });
    assert.equal(res.headers.get("access-control-allow-origin"), null, path);
    await res.arrayBuffer();
  }
  assert.equal((await call(p, "/health")).status, 200);
});

test("the public listener serves queries, results and status, and nothing an operator does", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-public-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = await startPruntime({ dataDir: dir, port: 0, publicPort: 0, publicHost: "127.0.0.1" });
  t.after(() => p.close());
  assert.ok(p.publicPort !== undefined && p.publicPort !== p.port);
  const pub = { ...p, port: p.publicPort! };

  assert.deepEqual(await call(pub, "/health"), { status: 200, body: { ok: true, syncedHeight: 0 } });
  assert.equal((await call(pub, "/info")).body.identityKey, (await call(p, "/info")).body.identityKey);
  assert.equal((await call(pub, "/query", postBytes(new Uint8Array([9])))).status, 400);
  assert.equal((await call(pub, "/queries", postBytes(new Uint8Array([9])))).body.error.code, "NOT_INITIALIZED");
  assert.equal((await call(pub, `/contracts/0x${"00".repeat(32)}`)).status, 404);

  // Strangers must not register the worker under their own operator, sign endpoints for their URLs, or feed it.
  const operatorOnly: [string, RequestInit?][] = [
    ["/init", postJson({ genesisHeader: "0x00" })],
    ["/registration?operator=0x" + "11".repeat(32)],
    ["/endpoint?url=https://attacker.example"],
    ["/egress"],
    ["/sync", postBytes(new Uint8Array([0]))],
  ];
  for (const [path, init] of operatorOnly) {
    const r = await call(pub, path, init);
    assert.equal(r.status, 404, path);
    assert.match(r.body.error.message, /operator port only/, path);
  }
  // The operator port still serves them.
  assert.deepEqual(await call(p, "/egress"), { status: 200, body: { messages: [] } });
});
