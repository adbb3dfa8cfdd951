/**
 * Clusters and confidential contracts through the real path, in process: a simulated chain
 * (ChainSim: real proofs, certificates and egress checks), two gatekeepers, two member
 * workers and an outsider. Seeded: every key and nonce derives from SEED, so a failure replays.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import {
  commandIdOf,
  COMMAND_GAS_MAX,
  ClusterKeyPublished,
  ContractKeyPublished,
  ContractTopics,
  EncryptedPayload,
  clusterIdOf,
  contractIdOf,
  type CallOutcomeValue,
  type SignedMessageValue,
} from "@phala-ts/runtime/phala";
import { PruntimeError } from "../src/errors.ts";
import { QUERY_CERT_LIFETIME_MAX_MS } from "../src/limits.ts";
import { CHECKPOINT_SEALED_NAME, CheckpointV2, loadCheckpoint } from "../src/checkpoint.ts";
import { LoadedContractState } from "../src/contract-store-entries.ts";
import { SealedStore } from "../src/sealed-store.ts";
import { clusterSecretOf, publicKeysOf } from "../src/key-shares.ts";
import type { ContractRunner } from "../src/contract-runner.ts";
import { PruntimeCore } from "../src/pruntime.ts";
import { ChainSim } from "./chain-sim.ts";
import { LEDGER_CONTRACT, clusterEvent, command, commandMessage, initArgs, openQueryResponse, openResult, query, type SentCommand } from "./contract-client.ts";
import { testRunner } from "./test-runner.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { recordingLogger, type LogEntry } from "./test-logger.ts";

const SEED = 0xc0de;
const GAS_PRICE = 2n;
const DEPOSIT_PER_BYTE = 1_000n;
const DEPOSIT_PER_ITEM = 100n;
const GAS = 5_000_000n;

const alice = devAccount("Alice");
const bob = devAccount("Bob");
const charlie = devAccount("Charlie", "ed25519");

const runner: ContractRunner = await testRunner();

interface Node {
  core: PruntimeCore;
  sealer: MemorySealer;
  log: LogEntry[];
  now: { ms: number };
}

function open(i: number, sealer = new MemorySealer(), log: LogEntry[] = []): Node {
  const now = { ms: 0 };
  const core = PruntimeCore.open(
    { checkpointIntervalBlocks: 50, beaconIntervalBlocks: 1000, logger: recordingLogger(log) },
    { sealer, random: seededRandom(SEED + i), runner, clock: () => now.ms },
  );
  return { core, sealer, log, now };
}

const pk = (n: Node) => n.core.keys.identityPublicKey;
const topicOf = (m: SignedMessageValue) => Buffer.from(m.message.destination).toString("utf8");
const gkPending = (n: Node) => n.core.pendingEgress().filter((m) => m.message.sender.tag === "Gatekeeper");
const clusterPending = (n: Node) => n.core.pendingEgress().filter((m) => m.message.sender.tag === "Cluster");

interface Network {
  sim: ChainSim;
  gk1: Node;
  gk2: Node;
  w1: Node;
  w2: Node;
  outsider: Node;
  cluster: Uint8Array;
  clusterEcdh: Uint8Array;
  code: Uint8Array;
  codeHash: Uint8Array;
  /** The gatekeepers' ClusterKeyPublished, as each queued it. */
  clusterKeyMessages: SignedMessageValue[][];
}

/** Two gatekeepers holding the master key, three registered workers, one cluster of two. */
function network(): Network {
  const sim = new ChainSim();
  const [gk1, gk2, w1, w2, outsider] = [1, 2, 3, 4, 5].map((i) => open(i));
  for (const n of [gk1, gk2, w1, w2, outsider]) sim.add(n.core);
  sim.block(sim.nodes.map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(gk1), ecdh_pubkey: gk1.core.keys.ecdhPublicKey } }]);
  sim.block();
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(gk2), ecdh_pubkey: gk2.core.keys.ecdhPublicKey } }]);
  sim.block();
  assert.equal(gk2.core.status().holdsMasterKey, true);

  const cluster = clusterIdOf(0n);
  sim.block([], {
    raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [pk(w1), pk(w2)], gas_price: GAS_PRICE, deposit_per_byte: DEPOSIT_PER_BYTE, deposit_per_item: DEPOSIT_PER_ITEM } })],
  });
  const clusterKeyMessages = [gkPending(gk1), gkPending(gk2)];
  sim.block(); // the cluster key lands: members open their shares
  const keys = sim.clusterKeys.get(toHex(cluster));
  assert.ok(keys, "the chain holds the cluster key");
  const code = utf8(LEDGER_CONTRACT);
  const codeHash = blake2b256(code);
  sim.block([], {
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 1_000_000_000_000n } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: bob.accountId, amount: 1_000n } }),
    ],
  });
  return { sim, gk1, gk2, w1, w2, outsider, cluster, clusterEcdh: keys.ecdh_pubkey, code, codeHash, clusterKeyMessages };
}

interface Deployed {
  contract: Uint8Array;
  contractEcdh: Uint8Array;
  initKey: Uint8Array;
  initArgs: Uint8Array;
  keyMessages: SignedMessageValue[][];
}

function deploy(net: Network, salt: string, input: unknown = { owner: "alice" }, codeHash = net.codeHash): Deployed {
  const contract = contractIdOf(alice.accountId, codeHash, net.cluster, utf8(salt));
  const initKey = blake2b256(utf8(`init ${salt}`));
  const args = initArgs(net.clusterEcdh, contract, input, GAS, initKey);
  net.sim.block([], { raw: [clusterEvent({ tag: "ContractInstantiated", value: { cluster: net.cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args: args } })] });
  const keyMessages = [clusterPending(net.w1), clusterPending(net.w2)];
  net.sim.block(); // the contract key lands
  const keys = net.sim.contractKeys.get(toHex(contract));
  assert.ok(keys, "the chain holds the contract key");
  return { contract, contractEcdh: keys.ecdh_pubkey, initKey, initArgs: args, keyMessages };
}

function send(net: Network, commands: SentCommand[]): void {
  net.sim.block([], { raw: commands.map((c) => c.message) });
}

function resultOf(n: Node, d: Deployed, c: SentCommand): CallOutcomeValue {
  const bytes = n.core.commandResult(d.contract, c.commandId);
  assert.ok(bytes, "the command has a result");
  return openResult(bytes, c.key, d.contractEcdh).outcome;
}

function assertSameState(net: Network, d: Deployed): void {
  const a = net.w1.core.contractInfo(d.contract);
  const b = net.w2.core.contractInfo(d.contract);
  assert.ok(a?.stateHash && b?.stateHash);
  assert.deepEqual(a.stateHash, b.stateHash, "both members hold byte-identical contract state");
  assert.equal(a.commands, b.commands);
  for (const who of [alice, bob]) assert.equal(net.w1.core.clusterBalance(net.cluster, who.accountId), net.w2.core.clusterBalance(net.cluster, who.accountId));
}

function refusedWith(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof PruntimeError && e.code === code;
}

const errorsIn = (n: Node) => n.log.filter((e) => e.level === "error");

test("cluster keys: both gatekeepers emit the same ClusterKeyPublished and both members open their share", () => {
  const net = network();
  const [a, b] = net.clusterKeyMessages;
  assert.deepEqual(a.map(topicOf), [ContractTopics.clusterKey]);
  assert.equal(b.length, 1);
  assert.ok(net.sim.sameBytes(a[0], b[0]), "the two gatekeepers' messages are byte-identical");
  const published = decodeExact(ClusterKeyPublished, a[0].message.payload);
  assert.deepEqual(published.cluster, net.cluster);
  assert.deepEqual(published.shares.map((s) => toHex(s.worker)).sort(), [toHex(pk(net.w1)), toHex(pk(net.w2))].sort());
  assert.deepEqual(net.sim.refused, []);
  for (const n of [net.w1, net.w2]) assert.deepEqual(n.core.clusters(), [{ id: net.cluster, member: true, holdsKey: true }]);
  for (const n of [net.gk1, net.gk2, net.outsider]) assert.deepEqual(n.core.clusters(), []);
  for (const n of [net.gk1, net.gk2, net.w1, net.w2, net.outsider]) {
    assert.equal(n.core.status().gatekeeperSequence, net.gk1.core.status().gatekeeperSequence, "every pRuntime counts the cluster key in the Gatekeeper sequence");
    assert.equal(n.core.status().egressConflicts, 0);
    assert.deepEqual(errorsIn(n), []);
  }
  // The share is sealed in the checkpoint: a restarted member still holds the key.
  const again = open(3, net.w1.sealer);
  assert.deepEqual(again.core.clusters(), [{ id: net.cluster, member: true, holdsKey: true }]);
});

test("a worker added later gets its own share; a removed one forgets the key", () => {
  const net = network();
  const { sim, outsider, cluster } = net;
  sim.block([], { raw: [clusterEvent({ tag: "WorkerAdded", value: { cluster, worker: pk(outsider) } })] });
  const [a, b] = [gkPending(net.gk1), gkPending(net.gk2)];
  assert.equal(a.length, 1);
  assert.ok(sim.sameBytes(a[0], b[0]));
  assert.deepEqual(decodeExact(ClusterKeyPublished, a[0].message.payload).shares.map((s) => s.worker), [pk(outsider)]);
  sim.block();
  assert.deepEqual(outsider.core.clusters(), [{ id: cluster, member: true, holdsKey: true }]);
  sim.block([], { raw: [clusterEvent({ tag: "WorkerRemoved", value: { cluster, worker: pk(outsider) } })] });
  assert.deepEqual(outsider.core.clusters(), []);
  assert.deepEqual(sim.refused, []);
});

test("a cluster created after a master-key rotation derives its key from the rotated master key", () => {
  const net = network();
  const { sim } = net;
  sim.block([{ tag: "MasterKeyRotationRequested", value: { rotation_id: 1 } }]);
  sim.block();
  assert.equal(sim.masterRotation, 1);
  const second = clusterIdOf(1n);
  sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster: second, workers: [pk(net.w1), pk(net.outsider)], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
  const [a, b] = [gkPending(net.gk1), gkPending(net.gk2)];
  assert.equal(a.length, 1);
  assert.ok(sim.sameBytes(a[0], b[0]));
  sim.block();
  const held = loadCheckpoint(net.gk1.sealer)!.chain!.gatekeeper.held;
  assert.deepEqual(held.map((r) => r.rotation_id), [0, 1]);
  const keys = sim.clusterKeys.get(toHex(second))!;
  assert.deepEqual(keys, publicKeysOf(clusterSecretOf(held[1].secret, second)));
  assert.deepEqual(sim.clusterKeys.get(toHex(net.cluster)), publicKeysOf(clusterSecretOf(held[0].secret, net.cluster)), "the first cluster keeps its rotation-0 key");
  assert.deepEqual(net.outsider.core.clusters(), [{ id: second, member: true, holdsKey: true }]);
  assert.equal(net.w1.core.clusters().length, 2);
  assert.deepEqual(sim.refused, []);
});

test("a cluster created before the master key gets its key once the master key is established", () => {
  const sim = new ChainSim();
  const [gk, w] = [11, 12].map((i) => open(i));
  for (const n of [gk, w]) sim.add(n.core);
  sim.block(sim.nodes.map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  const cluster = clusterIdOf(0n);
  sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [pk(w)], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
  assert.equal(gkPending(gk).length, 0);
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(gk), ecdh_pubkey: gk.core.keys.ecdhPublicKey } }]);
  sim.block(); // master key accepted; the pending cluster key is published at the end of this block
  assert.deepEqual(gkPending(gk).map(topicOf), [ContractTopics.clusterKey]);
  sim.block();
  assert.deepEqual(w.core.clusters(), [{ id: cluster, member: true, holdsKey: true }]);
  assert.equal(w.core.status().gatekeeperSequence, gk.core.status().gatekeeperSequence);
  assert.deepEqual(sim.refused, []);
});

test("contract keys: both members publish identical ContractKeyPublished signed by the cluster key; init runs on both", () => {
  const net = network();
  const d = deploy(net, "one");
  const [a, b] = d.keyMessages;
  assert.deepEqual(a.map(topicOf), [ContractTopics.contractKey]);
  assert.ok(net.sim.sameBytes(a[0], b[0]), "both members emit the same bytes");
  assert.equal(a[0].sequence, 0n);
  assert.deepEqual(decodeExact(ContractKeyPublished, a[0].message.payload).contract, d.contract);
  assert.deepEqual(net.sim.refused, [], "the chain accepted it under the cluster key");
  // The init result is kept, encrypted to the deployer's init key.
  const init = net.w1.core.commandResult(d.contract, blake2b256(d.initArgs));
  assert.ok(init);
  assert.equal(openResult(init, d.initKey, d.contractEcdh).outcome.ok, true);
  assertSameState(net, d);
  // A second contract is the cluster's message number 1; the outsider counts it too.
  const d2 = deploy(net, "two");
  assert.equal(d2.keyMessages[0][0].sequence, 1n);
  for (const n of [net.w1, net.w2]) assert.equal(n.core.pendingEgress().length, 0);
  assert.equal(net.outsider.core.contractInfo(d.contract)?.running, false);
  assert.equal(net.outsider.core.contractInfo(d.contract)?.stateHash, undefined);
});

test("commands run identically on both members; results are readable by their sender only", () => {
  const net = network();
  const d = deploy(net, "ledger");
  const c1 = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 5 }, GAS, "c1");
  const c2 = command(bob.accountId, d.contractEcdh, d.contract, { op: "note", text: "SECRET-MARKER-bob" }, 400n, "c2");
  const c3 = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 7 }, GAS, "c3");
  const aliceBefore = net.w1.core.clusterBalance(net.cluster, alice.accountId);
  send(net, [c1, c2, c3]);

  for (const n of [net.w1, net.w2]) {
    const r1 = resultOf(n, d, c1);
    assert.equal(r1.ok, true, JSON.stringify(r1.error));
    assert.deepEqual(JSON.parse(r1.output), { count: 5 });
    assert.deepEqual(r1.events, [{ topic: "added", data: JSON.stringify({ n: 5 }) }]);
    assert.ok(r1.gas_used > 0n);
    assert.ok(r1.fee > r1.gas_used * GAS_PRICE, "the fee includes storage deposits");
    assert.deepEqual(JSON.parse(resultOf(n, d, c3).output), { count: 12 });
  }
  // Byte-identical results on both workers.
  for (const c of [c1, c2, c3]) assert.deepEqual(net.w1.core.commandResult(d.contract, c.commandId), net.w2.core.commandResult(d.contract, c.commandId));
  assertSameState(net, d);
  const fees = resultOf(net.w1, d, c1).fee + resultOf(net.w1, d, c3).fee;
  assert.equal(net.w1.core.clusterBalance(net.cluster, alice.accountId), aliceBefore - fees, "Alice paid exactly her fees");

  // Only the sender's key opens a result.
  const other = command(alice.accountId, d.contractEcdh, d.contract, {}, 1n, "someone else");
  assert.throws(() => openResult(net.w1.core.commandResult(d.contract, c1.commandId)!, other.key, d.contractEcdh));
  assert.equal(net.outsider.core.commandResult(d.contract, c1.commandId), undefined, "a non-member keeps no results");

  // The same ciphertext pushed again by its sender is not executed twice.
  const before = net.w1.core.contractInfo(d.contract)!;
  net.sim.block([], { raw: [commandMessage(alice.accountId, d.contract, c1.payload, GAS)] });
  assert.equal(net.w1.core.contractInfo(d.contract)!.commands, before.commands);
  assert.deepEqual(net.w1.core.contractInfo(d.contract)!.stateHash, before.stateHash);
  // Pushed by someone else it is another command, which does not decrypt: it changes no state.
  net.sim.block([], { raw: [commandMessage(bob.accountId, d.contract, c1.payload, GAS)] });
  assert.deepEqual(net.w1.core.contractInfo(d.contract)!.stateHash, before.stateHash);

  // A contract error commits nothing but still charges gas.
  const bad = command(alice.accountId, d.contractEcdh, d.contract, { op: "fail" }, GAS, "c4");
  const hashBefore = net.w1.core.contractInfo(d.contract)!.stateHash;
  send(net, [bad]);
  const r = resultOf(net.w2, d, bad);
  assert.equal(r.ok, false);
  assert.equal(r.error?.kind, "contract");
  assert.equal(r.fee, r.gas_used * GAS_PRICE);
  assert.deepEqual(net.w1.core.contractInfo(d.contract)!.stateHash, hashBefore);
  assertSameState(net, d);

  // The block time the contract saw is the proven one.
  const q = query(alice, net.w1.core.keys.ecdhPublicKey, d.contract, { op: "count" }, "time", { expiresAtMs: 10_000n });
  const answer = openQueryResponse(net.w1.core.query(q.request), q, pk(net.w1));
  const out = JSON.parse(answer.outcome.output) as { count: number; mine: number; block: number; time: number };
  assert.equal(out.count, 12);
  assert.equal(out.mine, 12);
  assert.equal(out.block, net.sim.chain.height);
  assert.equal(BigInt(out.time), net.sim.chain.blocks[net.sim.chain.height - 1].timestampMs);
  for (const n of [net.w1, net.w2]) assert.deepEqual(errorsIn(n), []);
});

test("insufficient balance: nothing runs; a tampered command gets a decrypt outcome", () => {
  const net = network();
  const d = deploy(net, "ledger");
  const hash = net.w1.core.contractInfo(d.contract)!.stateHash;
  const bobBefore = net.w1.core.clusterBalance(net.cluster, bob.accountId);
  const poor = command(bob.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, bobBefore / GAS_PRICE + 1n, "poor");
  const tampered = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, GAS, "tampered");
  const bytes = tampered.payload.slice();
  bytes[bytes.length - 1] ^= 1;
  const forged = { ...tampered, payload: bytes, commandId: commandIdOf(alice.accountId, bytes), message: commandMessage(alice.accountId, d.contract, bytes, GAS) };
  send(net, [poor, forged]);
  for (const n of [net.w1, net.w2]) {
    const r = resultOf(n, d, poor);
    assert.equal(r.ok, false);
    assert.equal(r.error?.kind, "insufficient-balance");
    assert.equal(r.fee, 0n);
    assert.equal(r.gas_used, 0n);
    const t = resultOf(n, d, forged);
    assert.equal(t.ok, false);
    assert.equal(t.error?.kind, "decrypt");
    assert.deepEqual(n.core.contractInfo(d.contract)!.stateHash, hash, "nothing ran");
  }
  assert.equal(net.w1.core.clusterBalance(net.cluster, bob.accountId), bobBefore);
  // A storage deposit the sender cannot pay: gas is charged, nothing is stored. Alice's run
  // of the same command measures its gas; Bob then holds enough for gas, not for the deposit.
  const text = "x".repeat(2_000);
  const probe = command(alice.accountId, d.contractEcdh, d.contract, { op: "note", text }, GAS, "probe");
  send(net, [probe]);
  const probed = resultOf(net.w1, d, probe);
  assert.equal(probed.ok, true);
  assert.ok(probed.fee >= 2_000n * DEPOSIT_PER_BYTE + DEPOSIT_PER_ITEM + probed.gas_used * GAS_PRICE, "the deposit covers the bytes and the item added");
  const gas = 2n * probed.gas_used;
  const hashAfterProbe = net.w1.core.contractInfo(d.contract)!.stateHash;
  net.sim.block([], { raw: [clusterEvent({ tag: "Deposit", value: { cluster: net.cluster, account: bob.accountId, amount: gas * GAS_PRICE } })] });
  const bobFunded = net.w1.core.clusterBalance(net.cluster, bob.accountId);
  const big = command(bob.accountId, d.contractEcdh, d.contract, { op: "note", text }, gas, "big");
  send(net, [big]);
  const r = resultOf(net.w1, d, big);
  assert.equal(r.ok, false);
  assert.equal(r.error?.kind, "insufficient-balance");
  assert.equal(r.fee, r.gas_used * GAS_PRICE);
  assert.equal(net.w1.core.clusterBalance(net.cluster, bob.accountId), bobFunded - r.fee);
  assert.deepEqual(net.w1.core.contractInfo(d.contract)!.stateHash, hashAfterProbe);
  // Freeing storage refunds no deposit (documented in contracts.ts): only gas is charged.
  const erase = command(alice.accountId, d.contractEcdh, d.contract, { op: "erase" }, GAS, "erase");
  send(net, [erase]);
  const e = resultOf(net.w2, d, erase);
  assert.equal(e.ok, true);
  assert.equal(e.fee, e.gas_used * GAS_PRICE);
  assertSameState(net, d);
});

test("a command from a sender key nothing can be agreed with runs nowhere, keeps no result and charges nothing", () => {
  const net = network();
  const d = deploy(net, "ledger");
  const hash = net.w1.core.contractInfo(d.contract)!.stateHash;
  const aliceBefore = net.w1.core.clusterBalance(net.cluster, alice.accountId);
  const commandsBefore = net.w1.core.contractInfo(d.contract)!.commands;
  // The all-zero x25519 key has small order: no shared secret, so no key to open or answer with.
  const payload = EncryptedPayload.codec.enc({ sender_pubkey: new Uint8Array(32), iv: new Uint8Array(12), ciphertext: new Uint8Array(40).fill(7) });
  const weak: SentCommand = { message: commandMessage(alice.accountId, d.contract, payload, GAS), payload, commandId: commandIdOf(alice.accountId, payload), key: new Uint8Array(32) };
  const after = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, GAS, "after-weak");
  send(net, [weak, after]);
  for (const n of [net.w1, net.w2]) {
    assert.equal(n.core.commandResult(d.contract, weak.commandId), undefined, "no result is kept");
    assert.equal(n.core.contractInfo(d.contract)!.commands, commandsBefore + 2n, "it still takes its place in the order");
    assert.equal(resultOf(n, d, after).ok, true, "the next command runs");
  }
  assert.notDeepEqual(net.w1.core.contractInfo(d.contract)!.stateHash, hash);
  assert.equal(net.w1.core.clusterBalance(net.cluster, alice.accountId), aliceBefore - resultOf(net.w1, d, after).fee, "only the good command is charged");
  assertSameState(net, d);
});

test("queries: answered and signed; expired, replayed, forged, misencrypted and misdirected ones are refused", () => {
  const net = network();
  const d = deploy(net, "ledger");
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "note", text: "alice's note" }, GAS, "n1")]);
  const w1 = net.w1;
  w1.now.ms = 1_000_000;
  const expiresAtMs = 1_060_000n;
  const ecdh = w1.core.keys.ecdhPublicKey;

  const good = query(alice, ecdh, d.contract, { op: "note" }, "q1", { expiresAtMs });
  const answer = openQueryResponse(w1.core.query(good.request), good, pk(w1));
  assert.deepEqual(answer.nonce, good.nonce, "the nonce is echoed");
  assert.equal(answer.outcome.ok, true);
  assert.equal(JSON.parse(answer.outcome.output), "alice's note");
  // Bob sees only his own (empty) note through the same contract.
  const bobs = query(bob, ecdh, d.contract, { op: "note" }, "q2", { expiresAtMs });
  assert.equal(JSON.parse(openQueryResponse(w1.core.query(bobs.request), bobs, pk(w1)).outcome.output), null);
  // An ed25519 account works the same way.
  const eds = query(charlie, ecdh, d.contract, { op: "count" }, "q3", { expiresAtMs });
  assert.equal(openQueryResponse(w1.core.query(eds.request), eds, pk(w1)).outcome.ok, true);

  assert.throws(() => w1.core.query(good.request), refusedWith("NONCE_REPLAYED"));
  const sameNonce = query(alice, ecdh, d.contract, { op: "count" }, "q4", { expiresAtMs, nonce: good.nonce });
  assert.throws(() => w1.core.query(sameNonce.request), refusedWith("NONCE_REPLAYED"), "a nonce is refused whatever else changes");
  const expired = query(alice, ecdh, d.contract, { op: "note" }, "q5", { expiresAtMs: 1_000_000n });
  assert.throws(() => w1.core.query(expired.request), refusedWith("CERT_EXPIRED"));
  // A certificate valid for a year would pin its nonces for a year: refused; one of exactly the longest lifetime is taken.
  const yearLong = query(alice, ecdh, d.contract, { op: "note" }, "q5y", { expiresAtMs: 1_000_000n + 365n * 86_400_000n });
  assert.throws(() => w1.core.query(yearLong.request), refusedWith("CERT_LIFETIME_TOO_LONG"));
  const longest = query(alice, ecdh, d.contract, { op: "count" }, "q5l", { expiresAtMs: 1_000_000n + BigInt(QUERY_CERT_LIFETIME_MAX_MS) });
  assert.equal(openQueryResponse(w1.core.query(longest.request), longest, pk(w1)).outcome.ok, true);
  const forged = query(alice, ecdh, d.contract, { op: "note" }, "q6", { expiresAtMs, signer: bob });
  assert.throws(() => w1.core.query(forged.request), refusedWith("BAD_SIGNATURE"));
  const swapped = query(alice, ecdh, d.contract, { op: "note" }, "q7", { expiresAtMs, encryptFrom: blake2b256(utf8("another key")) });
  assert.throws(() => w1.core.query(swapped.request), refusedWith("EPHEMERAL_KEY_MISMATCH"));
  const toOther = query(alice, net.w2.core.keys.ecdhPublicKey, d.contract, { op: "note" }, "q8", { expiresAtMs });
  assert.throws(() => w1.core.query(toOther.request), refusedWith("DECRYPT_FAILED"));
  net.outsider.now.ms = w1.now.ms;
  const elsewhere = query(alice, net.outsider.core.keys.ecdhPublicKey, d.contract, { op: "note" }, "q9", { expiresAtMs });
  assert.throws(() => net.outsider.core.query(elsewhere.request), refusedWith("NOT_IN_CLUSTER"));
  const unknown = query(alice, ecdh, blake2b256(utf8("no such contract")), { op: "note" }, "q10", { expiresAtMs });
  assert.throws(() => w1.core.query(unknown.request), refusedWith("CONTRACT_NOT_FOUND"));
  assert.throws(() => w1.core.query(new Uint8Array([1, 2, 3])), refusedWith("BAD_REQUEST"));
  // A refused query used no nonce: the same certificate and a fresh nonce still work.
  const retry = query(alice, ecdh, d.contract, { op: "note" }, "q11", { expiresAtMs });
  assert.equal(openQueryResponse(w1.core.query(retry.request), retry, pk(w1)).outcome.ok, true);

  // Queries are read-only: a write fails inside the answer and changes nothing.
  const hash = w1.core.contractInfo(d.contract)!.stateHash;
  const write = query(alice, ecdh, d.contract, { op: "write" }, "q12", { expiresAtMs });
  const w = openQueryResponse(w1.core.query(write.request), write, pk(w1));
  assert.equal(w.outcome.ok, false);
  assert.deepEqual(w1.core.contractInfo(d.contract)!.stateHash, hash);
});

test("a member restarted from its checkpoint continues in step with the other", () => {
  const net = network();
  const d = deploy(net, "ledger");
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, GAS, "r1")]);
  net.w1.core.checkpoint();
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 2 }, GAS, "r2")]);
  // w1 crashes after the last checkpoint: it resumes there and replays the later blocks.
  const idx = net.sim.nodes.indexOf(net.w1.core);
  const restarted = open(3, net.w1.sealer);
  assert.ok(restarted.core.status().syncedHeight < net.sim.chain.height);
  restarted.core.sync(net.sim.chain.batch(restarted.core.status().syncedHeight + 1, net.sim.chain.height));
  net.sim.nodes[idx] = restarted.core;
  net.w1 = restarted;
  assertSameState(net, d);
  const c = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 3 }, GAS, "r3");
  send(net, [c]);
  assert.deepEqual(net.w1.core.commandResult(d.contract, c.commandId), net.w2.core.commandResult(d.contract, c.commandId));
  assert.deepEqual(JSON.parse(resultOf(net.w1, d, c).output), { count: 6 });
  assertSameState(net, d);
  assert.deepEqual(net.sim.refused, []);
});

test("runaway contracts stop at their gas or memory limit with the same gas on both members; the sender pays; others keep running", () => {
  const net = network();
  const ledger = deploy(net, "ledger");
  const runaway = utf8(`var __contract = { default: {
    handle(cmd) {
      if (cmd.op === "loop") { for (;;) {} }
      if (cmd.op === "alloc") { const a = []; for (;;) a.push(new ArrayBuffer(65536)); }
      if (cmd.op === "regex") { return /^(a+)+$/.test("a".repeat(40) + "b"); }
      if (cmd.op === "recurse") { const f = (n) => f(n + 1) + 1; return f(0); }
      return null;
    },
  } };`);
  const runawayHash = blake2b256(runaway);
  net.sim.block([], { raw: [clusterEvent({ tag: "CodeUploaded", value: { cluster: net.cluster, code_hash: runawayHash, uploader: alice.accountId, code: runaway } })] });
  const bad = deploy(net, "runaway", {}, runawayHash);
  const gas = COMMAND_GAS_MAX;
  const sent = ["loop", "alloc", "regex", "recurse"].map((op) => command(alice.accountId, bad.contractEcdh, bad.contract, { op }, gas, `runaway ${op}`));
  const before = net.w1.core.clusterBalance(net.cluster, alice.accountId);
  send(net, sent);
  let charged = 0n;
  for (const [i, kind] of (["gas", "memory", "gas", "stack"] as const).entries()) {
    const a = resultOf(net.w1, bad, sent[i]);
    const b = resultOf(net.w2, bad, sent[i]);
    assert.equal(a.ok, false);
    assert.equal(a.error?.kind, kind, `${sent[i].commandId}: ${a.error?.message}`);
    assert.equal(a.gas_used, b.gas_used, "the same gas on both members");
    assert.ok(a.gas_used > 0n);
    assert.equal(a.fee, a.gas_used * GAS_PRICE, "the sender pays the gas used");
    if (kind === "gas") assert.equal(a.gas_used, gas);
    charged += a.fee;
  }
  assert.equal(net.w1.core.clusterBalance(net.cluster, alice.accountId), before - charged);
  // The ledger still serves commands on both members.
  const ok = command(alice.accountId, ledger.contractEcdh, ledger.contract, { op: "add", n: 1 }, GAS, "after runaway");
  send(net, [ok]);
  assert.deepEqual(JSON.parse(resultOf(net.w2, ledger, ok).output), { count: 1 });
  assertSameState(net, ledger);
  assertSameState(net, bad);
});

test("a checkpoint after one small command writes the same bytes whether the contract holds 0 or 4 MiB", () => {
  const filler = utf8(`var __contract = { default: {
    init() { return null; },
    handle(cmd) {
      if (cmd.op === "fill") { const v = "x".repeat(65536); for (let i = 0; i < 16; i++) __phala_host.storageSet("big " + cmd.n + " " + i, v); }
      if (cmd.op === "bump") __phala_host.storageSet("counter", String(cmd.n));
      return null;
    },
  } };`);
  const fillerHash = blake2b256(filler);
  const measure = (fills: number) => {
    const net = network();
    net.sim.block([], { raw: [clusterEvent({ tag: "CodeUploaded", value: { cluster: net.cluster, code_hash: fillerHash, uploader: alice.accountId, code: filler } })] });
    const d = deploy(net, "filler", null, fillerHash);
    for (let n = 0; n < fills; n++) {
      const c = command(alice.accountId, d.contractEcdh, d.contract, { op: "fill", n }, 10n * GAS, `fill ${n}`);
      send(net, [c]);
      assert.equal(resultOf(net.w1, d, c).error?.message, undefined);
    }
    net.w1.core.checkpoint();
    const held = net.w1.core.contractInfo(d.contract)!.storageBytes;
    const appended = () => [...net.w1.sealer.storeFiles.values()].reduce((n, f) => n + f.bytesAppended, 0);
    const before = appended();
    send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "bump", n: 7 }, GAS, "bump")]);
    net.w1.core.checkpoint();
    // The restarted worker reads the state back from the sealed store.
    const restarted = open(3, net.w1.sealer);
    assert.deepEqual(restarted.core.contractInfo(d.contract)!.stateHash, net.w1.core.contractInfo(d.contract)!.stateHash);
    return { held, store: appended() - before, header: net.w1.sealer.files.get("checkpoint")!.length };
  };
  const empty = measure(0);
  const full = measure(4);
  assert.ok(full.held >= 4 * 1024 * 1024, `the contract holds ${full.held} bytes`);
  assert.equal(full.store, empty.store, "the store record holds the one changed key and the result only");
  assert.ok(full.store < 1024, `${full.store} bytes written to the store`);
  assert.equal(full.header, empty.header, "the sealed checkpoint does not grow with storage");
});

test("a restart refuses a contract store rolled back to an older checkpoint's, and loads the matching one", () => {
  const net = network();
  const d = deploy(net, "ledger");
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, GAS, "r1")]);
  net.w1.core.checkpoint();
  const older = new Map([...net.w1.sealer.storeFiles].map(([name, f]) => [name, f.bytes.slice()]));
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 2 }, GAS, "r2")]);
  net.w1.core.checkpoint();
  const newer = new Map([...net.w1.sealer.storeFiles].map(([name, f]) => [name, f.bytes.slice()]));
  // The operator puts back the store of the first checkpoint beside the newer sealed checkpoint.
  for (const [name, bytes] of older) net.w1.sealer.storeFiles.get(name)!.bytes = bytes;
  assert.throws(() => open(3, net.w1.sealer), refusedWith("STORE_ROLLED_BACK"));
  for (const [name, bytes] of newer) net.w1.sealer.storeFiles.get(name)!.bytes = bytes;
  const again = open(3, net.w1.sealer);
  assert.deepEqual(again.core.contractInfo(d.contract)!.stateHash, net.w1.core.contractInfo(d.contract)!.stateHash);
});

test("a format-2 checkpoint (storage and results inline) loads, and its state moves to the sealed store at the next checkpoint", () => {
  const net = network();
  const d = deploy(net, "ledger");
  const c = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 5 }, GAS, "r1");
  send(net, [c]);
  net.w1.core.checkpoint();
  const sealer = net.w1.sealer;
  // Rewrite what pRuntime sealed as the format-2 checkpoint an older pRuntime would have.
  const saved = loadCheckpoint(sealer)!;
  const chain = saved.chain!;
  const state = new LoadedContractState();
  SealedStore.open(sealer, chain.store!, state.add);
  const v2 = {
    ...saved,
    version: 2,
    chain: {
      ...chain,
      contracts: {
        clusters: chain.contracts.clusters,
        contracts: chain.contracts.contracts.map((x) => ({ ...x, storage: (state.storage.get(toHex(x.id).slice(2)) ?? []).sort((a, b) => (a.key < b.key ? -1 : 1)) })),
        results: state.results.sort((a, b) => (a.seq < b.seq ? -1 : 1)).map((r) => ({ contract: r.contract, command_id: r.commandId, result: r.result })),
      },
    },
  };
  sealer.files.set(CHECKPOINT_SEALED_NAME, CheckpointV2.codec.enc(v2));
  sealer.storeFiles.clear();
  const migrated = open(3, sealer);
  const hash = net.w1.core.contractInfo(d.contract)!.stateHash;
  assert.deepEqual(migrated.core.contractInfo(d.contract)!.stateHash, hash);
  assert.deepEqual(migrated.core.commandResult(d.contract, c.commandId), net.w1.core.commandResult(d.contract, c.commandId));
  migrated.core.checkpoint();
  assert.equal(loadCheckpoint(sealer)!.version, 3);
  const reopened = open(3, sealer);
  assert.deepEqual(reopened.core.contractInfo(d.contract)!.stateHash, hash);
  assert.deepEqual(reopened.core.commandResult(d.contract, c.commandId), net.w1.core.commandResult(d.contract, c.commandId));
});

test("a crash after the store record but before the checkpoint header: the restart resumes from the previous checkpoint in step with the other member", () => {
  class CrashingSealer extends MemorySealer {
    crash = false;
    override seal(name: string, plaintext: Uint8Array): void {
      if (this.crash && name === CHECKPOINT_SEALED_NAME) throw new PruntimeError("SEAL_IO", "the disk went away (test)");
      super.seal(name, plaintext);
    }
  }
  const sealer = new CrashingSealer();
  const net = network();
  // Swap w1 for a member on the crashing sealer, synced from the same chain.
  const idx = net.sim.nodes.indexOf(net.w1.core);
  const w1 = open(3, sealer);
  w1.core.init(net.sim.chain.genesisHeader);
  w1.core.sync(net.sim.chain.batch(1, net.sim.chain.height));
  net.sim.nodes[idx] = w1.core;
  net.w1 = w1;
  const d = deploy(net, "ledger");
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 1 }, GAS, "r1")]);
  net.w1.core.checkpoint();
  const committed = [...sealer.storeFiles.values()].map((f) => f.bytes.length);
  send(net, [command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 2 }, GAS, "r2")]);
  sealer.crash = true;
  assert.throws(() => net.w1.core.checkpoint(), refusedWith("CHECKPOINT_FAILED"));
  assert.ok([...sealer.storeFiles.values()].some((f, i) => f.bytes.length > committed[i]), "the store record was written before the header failed");
  sealer.crash = false;
  const restarted = open(3, sealer);
  assert.ok(restarted.core.status().syncedHeight < net.sim.chain.height);
  restarted.core.sync(net.sim.chain.batch(restarted.core.status().syncedHeight + 1, net.sim.chain.height));
  net.sim.nodes[idx] = restarted.core;
  net.w1 = restarted;
  assertSameState(net, d);
  const c = command(alice.accountId, d.contractEcdh, d.contract, { op: "add", n: 3 }, GAS, "r3");
  send(net, [c]);
  assert.deepEqual(JSON.parse(resultOf(net.w1, d, c).output), { count: 6 });
  assertSameState(net, d);
  // The next checkpoint continues the store where the last complete one ended.
  net.w1.core.checkpoint();
  assert.deepEqual(open(3, sealer).core.contractInfo(d.contract)!.stateHash, net.w2.core.contractInfo(d.contract)!.stateHash);
});
