/**
 * Queries are served fairly across accounts: on a real pRuntime (synced in process by a
 * simulated chain, running the QuickJS contract VM) one account floods queries that each burn
 * the whole query gas budget, at full speed, while another sends a few; the other's are answered after a bounded number of the flood's,
 * not after its whole backlog.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake2b256, devAccount, sealEnvelope, toHex, utf8 } from "@phala-ts/primitives";
import { QueryPlaintext, QueryRequest, WireLabels, clusterIdOf, contractIdOf } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { PruntimeCore } from "../src/pruntime.ts";
import { startPruntime } from "../src/service.ts";
import { silentLogger } from "../src/logger.ts";
import { ChainSim } from "./chain-sim.ts";
import { LEDGER_CONTRACT, clusterEvent, initArgs, openQueryResponse, query } from "./contract-client.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { testRunner } from "./test-runner.ts";

const alice = devAccount("Alice");
const bob = devAccount("Bob");
const GAS = 5_000_000n;
/** Queries the flooding account keeps in flight: under the per-source queue share (64), since both accounts share 127.0.0.1. */
const FLOOD_IN_FLIGHT = 48;
/** Queries waiting before the other account sends its own: a backlog it must not wait behind. */
const BACKLOG = 32;
/** The other account's queries, one after another. */
const PROBES = 5;

/**
 * The flood's queries, built fast enough to keep the worker busy: one certificate (signed once,
 * as the SDK does for a session) and a fresh nonce per query, so only the envelope is new.
 */
function floodQueries(template: Uint8Array, ephemeralKey: Uint8Array, workerEcdh: Uint8Array, input: unknown): (i: number) => Uint8Array {
  const { contract, certificate } = decodeExact(QueryRequest, template);
  return (i) => {
    const env = sealEnvelope({
      recipientPublicKey: workerEcdh,
      label: WireLabels.query,
      associatedData: contract,
      plaintext: QueryPlaintext.codec.enc({ nonce: blake2b256(utf8(`flood ${i}`)).slice(0, 16), input: utf8(JSON.stringify(input)) }),
      senderPrivateKey: ephemeralKey,
    });
    return QueryRequest.codec.enc({ contract, certificate, encrypted: { sender_pubkey: env.senderPublicKey, iv: env.nonce, ciphertext: env.ciphertext } });
  };
}

function post(agent: Agent, port: number, path: string, body: Uint8Array): Promise<{ status: number; bytes: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/octet-stream", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes: new Uint8Array(Buffer.concat(chunks)) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("while one account floods queries, another's are answered after a bounded number of the flood's", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-fair-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runner = await testRunner();
  const p = await startPruntime({ dataDir: dir, port: 0, publicPort: 0, publicHost: "127.0.0.1", runner, clock: () => 5_000 });
  t.after(() => p.close());
  const gk = PruntimeCore.open({ checkpointIntervalBlocks: 100, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(78), runner });
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
  const code = utf8(LEDGER_CONTRACT);
  const codeHash = blake2b256(code);
  const contract = contractIdOf(alice.accountId, codeHash, cluster, utf8("fair"));
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))!.ecdh_pubkey;
  sim.block([], {
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 10n ** 15n } }),
      clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args: initArgs(clusterEcdh, contract, { owner: "a" }, GAS, blake2b256(utf8("k"))) } }),
    ],
  });
  sim.block();
  const ecdh = p.core.keys.ecdhPublicKey;
  const port = p.publicPort!;
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOD_IN_FLIGHT });
  // Bob keeps his connection open, as the SDK does: a new connection is set up by this same
  // process, whose event loop the flood keeps busy, which would add its own delay to the count.
  const bobAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => {
    agent.destroy();
    bobAgent.destroy();
  });
  const warm = query(bob, ecdh, contract, { op: "note" }, "bob warm", { expiresAtMs: 600_000n });
  assert.equal((await post(bobAgent, port, "/query", warm.request)).status, 200);

  // Alice floods with queries that each run to the query gas limit (the costliest a query can be):
  // every answer sends the next one, FLOOD_IN_FLIGHT at a time, until told to stop.
  let floodAnswers = 0;
  let flooding = true;
  let sent = 0;
  const template = query(alice, ecdh, contract, { op: "spin" }, "flood", { expiresAtMs: 600_000n });
  const next = floodQueries(template.request, template.key, ecdh, { op: "spin" });
  const floodOne = async (): Promise<void> => {
    while (flooding) {
      const r = await post(agent, port, "/query", next(sent++));
      assert.equal(r.status, 200, Buffer.from(r.bytes).toString());
      floodAnswers += 1;
    }
  };
  const flood = Array.from({ length: FLOOD_IN_FLIGHT }, floodOne);

  // Bob waits until Alice's backlog is deep, then queries, one after another.
  const waitsBehind: number[] = [];
  const latenciesMs: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    await new Promise<void>((resolve) => {
      if (p.queries.queued >= BACKLOG) return resolve();
      const off = p.queries.onChange(() => {
        if (p.queries.queued >= BACKLOG) {
          off();
          resolve();
        }
      });
    });
    const q = query(bob, ecdh, contract, { op: "note" }, `bob ${i}`, { expiresAtMs: 600_000n });
    const before = floodAnswers;
    const started = performance.now();
    const r = await post(bobAgent, port, "/query", q.request);
    latenciesMs.push(performance.now() - started);
    waitsBehind.push(floodAnswers - before);
    assert.equal(r.status, 200);
    assert.equal(openQueryResponse(r.bytes, q, worker).outcome.ok, true);
  }
  flooding = false;
  await Promise.all(flood);

  t.diagnostic(
    `flood answers: ${floodAnswers}; flood answers received while each of Bob's queries waited: ${waitsBehind.join(", ")} ` +
      `(backlog ≥ ${BACKLOG} each time); Bob's latency ms: ${latenciesMs.map((x) => x.toFixed(0)).join(", ")}`,
  );
  // Round-robin: Bob's query runs after at most the one of Alice's already running and the next in turn.
  // The answers in flight on the wire when Bob sends add a few; a FIFO queue would put Bob behind ≥ 32.
  for (const n of waitsBehind) assert.ok(n <= 8, `Bob waited behind ${n} of Alice's answers (${waitsBehind.join(", ")})`);
});

test("a full query queue answers 429 TOO_MANY_QUERIES (per address) or 503 QUERY_QUEUE_FULL, with retry-after, and keeps serving", { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-fair-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = await startPruntime({ dataDir: dir, port: 0, publicPort: 0, publicHost: "127.0.0.1", queryLimits: { perSourceMax: 1, requestsMax: 2 } });
  t.after(() => p.close());
  // Hold the worker with a query that does not finish, and queue one more from this test's address.
  let release!: () => void;
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  const gate = new Promise<Uint8Array>((resolve) => (release = () => resolve(new Uint8Array())));
  const job = { lane: "", cost: 1, bytes: 1, abandoned: () => false };
  const holding = p.queries.submit({ ...job, source: "held", run: () => (running(), gate) });
  await started;
  const queued = p.queries.submit({ ...job, source: "127.0.0.1", run: () => new Uint8Array() });

  const agent = new Agent({ keepAlive: false });
  t.after(() => agent.destroy());
  const junk = new Uint8Array([1, 2, 3]);
  const tooMany = await fetch(`http://127.0.0.1:${p.publicPort}/query`, { method: "POST", body: junk });
  assert.equal(tooMany.status, 429);
  assert.equal(tooMany.headers.get("retry-after"), "1");
  assert.equal(((await tooMany.json()) as any).error.code, "TOO_MANY_QUERIES");
  // One more from elsewhere fills the queue (2 waiting), and yet another address is refused.
  const filler = p.queries.submit({ ...job, source: "filler", run: () => new Uint8Array() });
  const full = await new Promise<{ status: number; body: string; retryAfter: string | undefined }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: p.publicPort, path: "/queries", method: "POST", localAddress: "127.0.0.2", agent, headers: { "content-length": junk.length } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers["retry-after"] }));
    });
    req.on("error", reject);
    req.end(junk);
  });
  assert.equal(full.status, 503);
  assert.equal(full.retryAfter, "1");
  assert.equal(JSON.parse(full.body).error.code, "QUERY_QUEUE_FULL");
  release();
  await Promise.all([holding, queued, filler]);
  // Drained: queries are answered again (this one is junk, so its own refusal).
  assert.equal((await fetch(`http://127.0.0.1:${p.publicPort}/query`, { method: "POST", body: junk })).status, 400);
});
