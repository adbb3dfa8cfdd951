/**
 * The contract routes of the HTTP API (docs/interfaces.md, "Contracts"), on a real pRuntime
 * server that a simulated chain syncs in process: /query, /queries, /contracts/<id>,
 * /contracts/<id>/results/<commandId> and the clusters on /info.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake2b256, devAccount, fromHex, toHex, utf8 } from "@phala-ts/primitives";
import { QueryBatchRequest, clusterIdOf, contractIdOf } from "@phala-ts/runtime/phala";
import { PruntimeCore } from "../src/pruntime.ts";
import { startPruntime, type RunningPruntime } from "../src/service.ts";
import { ChainSim } from "./chain-sim.ts";
import { LEDGER_CONTRACT, clusterEvent, command, initArgs, openQueryBatchAnswer, openQueryResponse, openResult, query } from "./contract-client.ts";
import { QUERY_BATCH_BODY_BYTES_MAX } from "../src/limits.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { silentLogger } from "../src/logger.ts";
import { testRunner } from "./test-runner.ts";

const alice = devAccount("Alice");
const GAS = 5_000_000n;
const MARKER = "MARKER-7f3a-confidential";

async function call(p: RunningPruntime, path: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: any; bytes: Uint8Array }> {
  const res = await fetch(`http://127.0.0.1:${p.port}${path}`, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, type, bytes, body: type.includes("json") ? JSON.parse(Buffer.from(bytes).toString("utf8")) : undefined };
}

const postBytes = (body: Uint8Array): RequestInit => ({ method: "POST", headers: { "content-type": "application/octet-stream" }, body });

test("contract routes: results, contract info, clusters on /info and encrypted queries", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-contracts-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runner = await testRunner();
  // The served pRuntime's runner tells the test when a spinning query has started, so the test
  // can send a request while a batch is running instead of guessing how long to wait.
  let spinStarted: () => void = () => {};
  const spinning$ = new Promise<void>((resolve) => (spinStarted = resolve));
  const servedRunner: typeof runner = {
    call: (c) => {
      if (c.mode === "query" && c.input.includes('"spin"')) spinStarted();
      return runner.call(c);
    },
  };
  const now = { ms: 5_000 };
  const p = await startPruntime({ dataDir: dir, port: 0, runner: servedRunner, clock: () => now.ms });
  let closed = false;
  t.after(() => (closed ? undefined : p.close()));
  const gk = PruntimeCore.open({ checkpointIntervalBlocks: 100, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(77), runner });

  const sim = new ChainSim();
  sim.add(gk);
  sim.add(p.core);
  const worker = p.core.keys.identityPublicKey;
  sim.block([gk, p.core].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
  sim.block();
  const cluster = clusterIdOf(0n);
  sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [worker], gas_price: 1n, deposit_per_byte: 1n, deposit_per_item: 1n } })] });
  sim.block();
  const info = await call(p, "/info");
  assert.deepEqual(info.body.clusters, [{ id: toHex(cluster), holdsKey: true }]);

  const code = utf8(LEDGER_CONTRACT);
  const codeHash = blake2b256(code);
  const contract = contractIdOf(alice.accountId, codeHash, cluster, utf8("s"));
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))!.ecdh_pubkey;
  sim.block([], {
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 10n ** 15n } }),
      clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args: initArgs(clusterEcdh, contract, { owner: "a" }, GAS, blake2b256(utf8("k"))) } }),
    ],
  });
  sim.block();
  const contractEcdh = sim.contractKeys.get(toHex(contract))!.ecdh_pubkey;
  const c = command(alice.accountId, contractEcdh, contract, { op: "note", text: MARKER }, GAS, "c");
  const pending = command(alice.accountId, contractEcdh, contract, { op: "add", n: 1 }, GAS, "not sent");
  sim.block([], { raw: [c.message] });

  // GET /contracts/<id>/results/<commandId>
  const result = await call(p, `/contracts/${toHex(contract)}/results/${toHex(c.commandId)}`);
  assert.equal(result.status, 200);
  assert.equal(openResult(fromHex(result.body.result), c.key, contractEcdh).outcome.ok, true);
  const notYet = await call(p, `/contracts/${toHex(contract)}/results/${toHex(pending.commandId)}`);
  assert.equal(notYet.status, 404);
  assert.equal(notYet.body.error.code, "NOT_FOUND");
  assert.equal((await call(p, `/contracts/${toHex(contract)}/results/0x12`)).status, 400);

  // GET /contracts/<id>
  const ci = await call(p, `/contracts/${toHex(contract)}`);
  assert.equal(ci.status, 200);
  assert.equal(ci.body.cluster, toHex(cluster));
  assert.equal(ci.body.codeHash, toHex(codeHash));
  assert.equal(ci.body.stateHash, toHex(p.core.contractInfo(contract)!.stateHash!));
  assert.equal(ci.body.commands, 1);
  assert.equal(ci.body.running, true);
  assert.equal((await call(p, `/contracts/${toHex(blake2b256(utf8("x")))}`)).status, 404);
  assert.equal((await call(p, `/contracts/${toHex(contract)}/nope`)).status, 404);
  assert.equal((await call(p, `/contracts/${toHex(contract)}`, { method: "POST", body: "" })).status, 405);

  // POST /query: a SCALE answer; refusals are JSON errors.
  const q = query(alice, p.core.keys.ecdhPublicKey, contract, { op: "note" }, "q", { expiresAtMs: 60_000n });
  const answer = await call(p, "/query", postBytes(q.request));
  assert.equal(answer.status, 200);
  assert.equal(answer.type, "application/octet-stream");
  const opened = openQueryResponse(answer.bytes, q, p.core.keys.identityPublicKey);
  assert.equal(JSON.parse(opened.outcome.output), MARKER);
  const replay = await call(p, "/query", postBytes(q.request));
  assert.equal(replay.status, 409);
  assert.equal(replay.body.error.code, "NONCE_REPLAYED");
  now.ms = 60_000;
  const expired = await call(p, "/query", postBytes(query(alice, p.core.keys.ecdhPublicKey, contract, { op: "note" }, "q2", { expiresAtMs: 60_000n }).request));
  assert.equal(expired.status, 401);
  assert.equal(expired.body.error.code, "CERT_EXPIRED");
  assert.equal((await call(p, "/query", postBytes(new Uint8Array([1, 2])))).status, 400);
  assert.equal((await call(p, "/query")).status, 405);

  // POST /queries: answers in order under one signature; a refused query is answered in its place.
  const ecdh = p.core.keys.ecdhPublicKey;
  const fresh = query(alice, ecdh, contract, { op: "note" }, "b1", { expiresAtMs: 120_000n });
  const stale = query(alice, ecdh, contract, { op: "note" }, "b2", { expiresAtMs: 30_000n });
  const nowhere = query(alice, ecdh, blake2b256(utf8("no contract")), { op: "note" }, "b3", { expiresAtMs: 120_000n });
  const junk = new Uint8Array([1, 2]);
  const batch = await call(p, "/queries", postBytes(QueryBatchRequest.codec.enc([fresh.request, stale.request, nowhere.request, fresh.request, junk])));
  assert.equal(batch.status, 200);
  assert.equal(batch.type, "application/octet-stream");
  const item = (i: number, q: { queryId: Uint8Array; key: Uint8Array; request: Uint8Array; nonce: Uint8Array }) => openQueryBatchAnswer(batch.bytes, i, q, worker);
  assert.equal(JSON.parse(item(0, fresh).answer!.outcome.output), MARKER);
  assert.deepEqual(item(0, fresh).answer!.nonce, fresh.nonce);
  const refusal = (i: number, q: Parameters<typeof item>[1]) => {
    const r = item(i, q).refusal!;
    return [r.status, r.code];
  };
  assert.deepEqual(refusal(1, stale), [401, "CERT_EXPIRED"]);
  assert.deepEqual(refusal(2, nowhere), [404, "CONTRACT_NOT_FOUND"]);
  assert.deepEqual(refusal(3, fresh), [409, "NONCE_REPLAYED"], "the same query twice in one batch is a replay");
  assert.deepEqual(refusal(4, { ...fresh, queryId: blake2b256(junk) }), [400, "BAD_REQUEST"]);
  // Whole batches that are not batches are refused as one.
  for (const [body, pattern] of [
    [junk, /does not decode as a SCALE QueryBatchRequest/],
    [QueryBatchRequest.codec.enc([]), /holds 1 to 32 queries, this one 0/],
    [QueryBatchRequest.codec.enc(Array(33).fill(junk)), /this one 33/],
  ] as const) {
    const r = await call(p, "/queries", postBytes(body));
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, pattern);
  }
  assert.equal((await call(p, "/queries")).status, 405);
  // A batch of queries that each run to their gas limit lets other requests in between them.
  const spins = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => query(alice, ecdh, contract, { op: "spin" }, `spin ${i}`, { expiresAtMs: 120_000n }));
  const order: string[] = [];
  const spinning = call(p, "/queries", postBytes(QueryBatchRequest.codec.enc(spins.map((q) => q.request)))).then((r) => (order.push("batch"), r));
  await spinning$;
  const health = await call(p, "/health");
  order.push("health");
  const spun = await spinning;
  assert.equal(health.status, 200);
  assert.deepEqual(order, ["health", "batch"]);
  for (const [i, q] of spins.entries()) {
    const outcome = openQueryBatchAnswer(spun.bytes, i, q, worker).answer!.outcome;
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!.kind, /gas|time/);
  }
  assert.equal((await call(p, "/queries", postBytes(new Uint8Array(QUERY_BATCH_BODY_BYTES_MAX + 1)))).status, 413);

  // Sealed at rest: the marker the command carried is nowhere in the data directory.
  await p.close();
  closed = true;
  for (const f of readdirSync(dir)) assert.ok(!readFileSync(join(dir, f)).includes(Buffer.from(MARKER)), `${f} holds the marker in clear`);
  const again = await startPruntime({ dataDir: dir, port: 0, runner });
  try {
    assert.deepEqual(again.core.contractInfo(contract)?.stateHash, ci.body.stateHash === null ? undefined : fromHex(ci.body.stateHash));
    assert.ok(again.core.commandResult(contract, c.commandId));
  } finally {
    await again.close();
  }
});
