/**
 * Contract commands run off the HTTP thread (threaded-runner.ts): while a command loops until
 * its gas runs out, a real pRuntime server keeps answering /health, /info and queries at once,
 * queries read the state of the last whole block, and the command's result and the contract's
 * state are byte-identical to those of a worker that ran it on its own thread.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake2b256, devAccount, fromHex, toHex, utf8 } from "@phala-ts/primitives";
import { COMMAND_GAS_MAX, SyncBatch, clusterIdOf, contractIdOf, type MessageValue } from "@phala-ts/runtime/phala";
import { PruntimeCore } from "../src/pruntime.ts";
import { startPruntime, type RunningPruntime } from "../src/service.ts";
import { createThreadedVmRunner } from "../src/threaded-runner.ts";
import { silentLogger } from "../src/logger.ts";
import { ChainSim } from "./chain-sim.ts";
import { clusterEvent, command, initArgs, openQueryResponse, openResult, query } from "./contract-client.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { testRunner } from "./test-runner.ts";

const alice = devAccount("Alice");
const GAS = 5_000_000n;
/** Each spin runs to the per-command cap, the longest one command may run. */
const SPIN_GAS = COMMAND_GAS_MAX;
/**
 * Spins in one block: together they run for as long as a block full of maximal commands
 * needs (seconds on the test machines), which is what must not stall the API.
 */
const SPIN_COMMANDS = 40;
/** What "answers at once" means here: far below the spin's run time, with room for a loaded CI machine. */
const PROMPT_MS = 250;

const SPIN_CONTRACT = `var __contract = (() => {
  const h = globalThis.__phala_host;
  return { default: {
    init() { h.storageSet("note", JSON.stringify("initial")); },
    handle(cmd) {
      if (cmd.op === "note") { h.storageSet("note", JSON.stringify(cmd.text)); return null; }
      if (cmd.op === "spin") { let i = 0; for (;;) { i++; } }
      throw new Error("unknown op " + cmd.op);
    },
    query(req) {
      if (req.op === "note") { const v = h.storageGet("note"); return v === undefined ? null : JSON.parse(v); }
      throw new Error("unknown query " + req.op);
    },
  } };
})();
`;

async function timed(p: RunningPruntime, path: string, init: RequestInit = {}): Promise<{ ms: number; status: number; bytes: Uint8Array }> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${p.port}${path}`, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { ms: performance.now() - started, status: res.status, bytes };
}

const postBytes = (body: Uint8Array): RequestInit => ({ method: "POST", headers: { "content-type": "application/octet-stream" }, body });

test("a command spinning until its gas runs out does not stall /health, /info or queries", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-thread-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The default runner: commands on the VM's own thread.
  const p = await startPruntime({ dataDir: dir, port: 0, clock: () => 5_000 });
  t.after(() => p.close());
  const inThread = await testRunner();
  const gk = PruntimeCore.open({ checkpointIntervalBlocks: 100, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(91), runner: inThread });
  // A second member that runs every command on its own thread: the reference for the bytes.
  const twin = PruntimeCore.open({ checkpointIntervalBlocks: 100, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(92), runner: inThread });

  const sim = new ChainSim();
  for (const n of [gk, twin, p.core]) sim.add(n);
  const inProcess = { syncNodes: [gk, twin] };
  /** Brings the served pRuntime to the chain's head over POST /sync, as pHost does. */
  const syncServed = async (): Promise<void> => {
    while (p.core.status().syncedHeight < sim.chain.height) {
      const batch = SyncBatch.codec.enc(sim.chain.batch(p.core.status().syncedHeight + 1, sim.chain.height));
      const r = await timed(p, "/sync", postBytes(batch));
      assert.equal(r.status, 200, Buffer.from(r.bytes).toString());
    }
  };
  const block = async (opts: Parameters<ChainSim["block"]>[1] = {}): Promise<void> => {
    sim.block([], { ...inProcess, ...opts });
    await syncServed();
  };

  const members = [p.core, twin].map((n) => n.keys.identityPublicKey);
  sim.block([gk, twin, p.core].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })), inProcess);
  await syncServed();
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }], inProcess);
  await syncServed();
  await block();
  const cluster = clusterIdOf(0n);
  await block({ raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: members, gas_price: 1n, deposit_per_byte: 1n, deposit_per_item: 1n } })] });
  await block();
  const code = utf8(SPIN_CONTRACT);
  const codeHash = blake2b256(code);
  const contract = contractIdOf(alice.accountId, codeHash, cluster, utf8("spin"));
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))!.ecdh_pubkey;
  await block({
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 10n ** 15n } }),
      clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args: initArgs(clusterEcdh, contract, {}, GAS, blake2b256(utf8("k"))) } }),
    ],
  });
  await block();
  const contractEcdh = sim.contractKeys.get(toHex(contract))!.ecdh_pubkey;

  // One block: a note, then spins to the gas limit. The in-process twin runs them first.
  const note = command(alice.accountId, contractEcdh, contract, { op: "note", text: "changed" }, GAS, "note");
  const spins = Array.from({ length: SPIN_COMMANDS }, (_, i) => command(alice.accountId, contractEcdh, contract, { op: "spin" }, SPIN_GAS, `spin ${i}`));
  sim.block([], { ...inProcess, raw: [note.message, ...spins.map((s) => s.message)] });
  const batch = SyncBatch.codec.enc(sim.chain.batch(p.core.status().syncedHeight + 1, sim.chain.height));
  const heightBefore = p.core.status().syncedHeight;

  let syncAnswered = false;
  const started = performance.now();
  const syncing = timed(p, "/sync", postBytes(batch)).then((r) => {
    syncAnswered = true;
    return r;
  });
  // Wait for the spin to be under way: the note before it has its result once it ran.
  while (p.core.commandResult(contract, note.commandId) === undefined) await new Promise((r) => setImmediate(r));

  const health = await timed(p, "/health");
  const info = await timed(p, "/info");
  const q = query(alice, p.core.keys.ecdhPublicKey, contract, { op: "note" }, "during", { expiresAtMs: 60_000n });
  const during = await timed(p, "/query", postBytes(q.request));
  assert.equal(syncAnswered, false, "the spin is still running while the API answers");
  for (const [what, r] of [["/health", health], ["/info", info], ["/query", during]] as const) {
    assert.equal(r.status, 200, `${what}: ${Buffer.from(r.bytes).toString()}`);
    assert.ok(r.ms < PROMPT_MS, `${what} answered in ${r.ms.toFixed(1)} ms while a command spins; expected under ${PROMPT_MS} ms`);
  }
  // Mid-block, the height and the state shown are those of the last whole block.
  assert.equal(JSON.parse(Buffer.from(info.bytes).toString()).syncedHeight, heightBefore);
  assert.equal(JSON.parse(openQueryResponse(during.bytes, q, p.core.keys.identityPublicKey).outcome.output), "initial");

  const synced = await syncing;
  const spinMs = performance.now() - started;
  assert.equal(synced.status, 200);
  assert.ok(spinMs > 2 * PROMPT_MS, `the spin ran ${spinMs.toFixed(0)} ms: too short to show anything; raise SPIN_COMMANDS`);
  t.diagnostic(`spin ${spinMs.toFixed(0)} ms; /health ${health.ms.toFixed(1)} ms, /info ${info.ms.toFixed(1)} ms, /query ${during.ms.toFixed(1)} ms during it`);

  // Each command ran out of gas and paid for all of it, exactly as on the twin's own thread.
  for (const spin of spins) {
    const served = p.core.commandResult(contract, spin.commandId);
    assert.ok(served !== undefined);
    const outcome = openResult(served, spin.key, contractEcdh).outcome;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.kind, "gas", outcome.error?.message);
    assert.equal(outcome.gas_used, SPIN_GAS);
    assert.deepEqual(served, twin.commandResult(contract, spin.commandId), "the result bytes are those of a worker that ran the command on its own thread");
  }
  assert.deepEqual(p.core.contractInfo(contract)?.stateHash, twin.contractInfo(contract)?.stateHash);
  assert.equal(p.core.clusterBalance(cluster, alice.accountId), twin.clusterBalance(cluster, alice.accountId));
  const after = query(alice, p.core.keys.ecdhPublicKey, contract, { op: "note" }, "after", { expiresAtMs: 60_000n });
  const answered = await timed(p, "/query", postBytes(after.request));
  assert.equal(JSON.parse(openQueryResponse(answered.bytes, after, p.core.keys.identityPublicKey).outcome.output), "changed");
  assert.deepEqual(fromHex(JSON.parse(Buffer.from((await timed(p, "/info")).bytes).toString()).syncedHash), sim.chain.hashAt(sim.chain.height));
});

/**
 * A worker whose commands run on the VM's thread (`threaded`), a member twin that runs them
 * in-thread (the reference), and a gatekeeper, synced to a deployed SPIN_CONTRACT.
 */
async function deployed(t: TestContext, budgetMs: number) {
  const inThread = await testRunner();
  const threaded = await createThreadedVmRunner();
  t.after(() => threaded.close());
  const open = (i: number, runner: typeof inThread) =>
    PruntimeCore.open(
      { checkpointIntervalBlocks: 100, beaconIntervalBlocks: 1000, logger: silentLogger, syncExecutionBudgetMs: budgetMs },
      { sealer: new MemorySealer(), random: seededRandom(i), runner, clock: () => 5_000 },
    );
  const gk = open(101, inThread);
  const twin = open(102, inThread);
  const worker = open(103, threaded);
  const sim = new ChainSim();
  for (const n of [gk, twin, worker]) sim.add(n);
  const catchUp = async () => {
    while (worker.status().syncedHeight < sim.chain.height) await worker.sync(sim.chain.batch(worker.status().syncedHeight + 1, sim.chain.height));
  };
  const block = async (events: Parameters<ChainSim["block"]>[0], raw: MessageValue[] = []) => {
    sim.block(events, { syncNodes: [gk, twin], raw });
    await catchUp();
  };
  await block([gk, twin, worker].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  await block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
  await block([]);
  const cluster = clusterIdOf(0n);
  const members = [worker, twin].map((n) => n.keys.identityPublicKey);
  await block([], [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: members, gas_price: 1n, deposit_per_byte: 1n, deposit_per_item: 1n } })]);
  await block([]);
  const code = utf8(SPIN_CONTRACT);
  const codeHash = blake2b256(code);
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))!.ecdh_pubkey;
  const instantiate = (salt: string): { contract: Uint8Array; message: MessageValue } => {
    const contract = contractIdOf(alice.accountId, codeHash, cluster, utf8(salt));
    const init_args = initArgs(clusterEcdh, contract, {}, GAS, blake2b256(utf8(salt)));
    return { contract, message: clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args } }) };
  };
  const first = instantiate("first");
  await block([], [
    clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code } }),
    clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 10n ** 15n } }),
    first.message,
  ]);
  await block([]);
  const contractEcdh = sim.contractKeys.get(toHex(first.contract))!.ecdh_pubkey;
  return { sim, gk, twin, worker, threaded, cluster, contract: first.contract, contractEcdh, instantiate, catchUp };
}

/** Gas of a spin that runs a noticeable while (tens of ms) but keeps the test short. */
const SHORT_SPIN_GAS = 30_000_000n;

test("while a batch runs on the VM's thread: new egress waits for its checkpoint, a second batch and a checkpoint are refused", async (t) => {
  const { sim, gk, twin, worker, contract, contractEcdh, instantiate } = await deployed(t, 60_000);
  const second = instantiate("second");
  const spin = command(alice.accountId, contractEcdh, contract, { op: "spin" }, SHORT_SPIN_GAS, "spin 1");
  sim.block([], { syncNodes: [gk, twin], raw: [second.message, spin.message] });
  const egressBefore = worker.pendingEgress().length;
  const batch = sim.chain.batch(worker.status().syncedHeight + 1, sim.chain.height);
  const syncing = worker.sync(batch);
  // The instantiation signed a ContractKeyPublished; the init and the spin are still running.
  assert.equal(worker.pendingEgress().length, egressBefore, "egress signed during the batch is not served before the checkpoint that seals it");
  // Queries know the new contract only once its block is whole.
  const early = query(alice, worker.keys.ecdhPublicKey, second.contract, { op: "note" }, "early", { expiresAtMs: 60_000n });
  assert.throws(() => worker.query(early.request), (e: Error & { code?: string }) => e.code === "CONTRACT_NOT_FOUND");
  // The same batch again (its first block is still the next one for the light client): refused, not run twice.
  await assert.rejects(worker.sync(batch), (e: Error & { code?: string }) => e.code === "SYNC_BUSY");
  assert.throws(() => worker.checkpoint(), /only between batches/);
  await syncing;
  const published = worker.pendingEgress().filter((m) => m.message.sender.tag === "Cluster");
  assert.equal(published.length, 1, "the new contract's key publication is served once sealed");
  assert.equal(worker.status().syncedHeight, sim.chain.height);
  assert.deepEqual(worker.commandResult(contract, spin.commandId), twin.commandResult(contract, spin.commandId), "the spin ran once, as on the twin");
  assert.deepEqual(worker.contractInfo(second.contract)?.stateHash, twin.contractInfo(second.contract)?.stateHash);
  const later = query(alice, worker.keys.ecdhPublicKey, second.contract, { op: "note" }, "later", { expiresAtMs: 60_000n });
  assert.equal(JSON.parse(openQueryResponse(worker.query(later.request), later, worker.keys.identityPublicKey).outcome.output), "initial");
});

test("a batch stops after the block in which execution used its budget, and the rest applies to the same state", async (t) => {
  const { sim, gk, twin, worker, cluster, contract, contractEcdh } = await deployed(t, 1);
  const from = worker.status().syncedHeight + 1;
  const spins = [1, 2, 3].map((i) => command(alice.accountId, contractEcdh, contract, { op: "spin" }, SHORT_SPIN_GAS, `budget ${i}`));
  for (const s of spins) sim.block([], { syncNodes: [gk, twin], raw: [s.message] });
  const reached = await worker.sync(sim.chain.batch(from, sim.chain.height));
  assert.equal(reached.height, from, "the first block's spin used the 1 ms budget: the batch stops after it");
  assert.deepEqual(reached.hash, sim.chain.hashAt(from));
  assert.equal(worker.status().syncedHeight, from);
  assert.ok(worker.commandResult(contract, spins[0].commandId));
  assert.equal(worker.commandResult(contract, spins[1].commandId), undefined);
  // pHost resends from the height reached.
  while (worker.status().syncedHeight < sim.chain.height) await worker.sync(sim.chain.batch(worker.status().syncedHeight + 1, sim.chain.height));
  for (const s of spins) assert.deepEqual(worker.commandResult(contract, s.commandId), twin.commandResult(contract, s.commandId));
  assert.equal(worker.clusterBalance(cluster, alice.accountId), twin.clusterBalance(cluster, alice.accountId));
  assert.deepEqual(worker.contractInfo(contract)?.stateHash, twin.contractInfo(contract)?.stateHash);
});

test("when the VM's thread is gone, the batch fails with VM_THREAD_FAILED and pRuntime refuses work until restarted", async (t) => {
  const { sim, gk, twin, worker, threaded, contract, contractEcdh } = await deployed(t, 60_000);
  const height = worker.status().syncedHeight;
  await threaded.close();
  const c = command(alice.accountId, contractEcdh, contract, { op: "note", text: "x" }, GAS, "after close");
  sim.block([], { syncNodes: [gk, twin], raw: [c.message] });
  await assert.rejects(worker.sync(sim.chain.batch(height + 1, sim.chain.height)), (e: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(e.code, "CHECKPOINT_FAILED");
    assert.equal(e.cause?.code, "VM_THREAD_FAILED");
    assert.match(e.message, /restart it/);
    return true;
  });
  assert.throws(() => worker.pendingEgress(), /restart it/);
  // Nothing of the failed block was sealed: a restart resumes from the checkpoint before it.
  assert.equal(worker.status().syncedHeight, height);
});
