import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesEqual, toHex, utf8, verifyEd25519 } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import { MasterKeyDistribution, RandomBeacon, Topics, egressSigningPayload, type SignedMessageValue } from "@phala-ts/runtime/phala";
import { loadCheckpoint } from "../src/checkpoint.ts";
import { PruntimeCore } from "../src/pruntime.ts";
import { masterSigningKey, rotateMasterSecret } from "../src/master-key.ts";
import { ChainSim } from "./chain-sim.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { recordingLogger, type LogEntry } from "./test-logger.ts";

const SEED = 0x5eed;
const BEACON_INTERVAL = 5;

const sealers = new Map<PruntimeCore, MemorySealer>();

function node(i: number, log: LogEntry[] = []): PruntimeCore {
  const sealer = new MemorySealer();
  const core = PruntimeCore.open(
    { checkpointIntervalBlocks: 100, beaconIntervalBlocks: BEACON_INTERVAL, logger: recordingLogger(log) },
    { sealer, random: seededRandom(SEED + i) },
  );
  sealers.set(core, sealer);
  return core;
}

/** The master secrets a node has sealed, read back from its checkpoint. */
function sealedMasterSecrets(n: PruntimeCore): Uint8Array[] {
  const cp = loadCheckpoint(sealers.get(n)!);
  return cp?.chain?.gatekeeper.held.map((r) => r.secret) ?? [];
}

const pk = (n: PruntimeCore) => n.keys.identityPublicKey;
const ecdh = (n: PruntimeCore) => n.keys.ecdhPublicKey;
const gkPending = (n: PruntimeCore) => n.pendingEgress().filter((m) => m.message.sender.tag === "Gatekeeper");
const topicOf = (m: SignedMessageValue) => Buffer.from(m.message.destination).toString("utf8");

function assertSameGatekeeperEgress(sim: ChainSim, a: PruntimeCore, b: PruntimeCore): number {
  const bySeq = new Map(gkPending(b).map((m) => [m.sequence, m]));
  let compared = 0;
  for (const m of gkPending(a)) {
    const other = bySeq.get(m.sequence);
    if (other === undefined) continue;
    assert.ok(sim.sameBytes(m, other), `gatekeeper message ${m.sequence} (${topicOf(m)}) differs between gatekeepers`);
    compared++;
  }
  return compared;
}

test("key distribution, beacons and rotation: gatekeepers emit identical bytes the chain accepts", () => {
  const log: LogEntry[] = [];
  const sim = new ChainSim();
  const [a, b, c, w] = [1, 2, 3, 4].map((i) => sim.add(node(i, log)));
  sim.block(sim.nodes.map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: pk(n), ecdh_pubkey: ecdh(n), confidence_level: 128 } })));
  for (const n of sim.nodes) assert.equal(n.status().registered, true);

  // A becomes gatekeeper with no master key on chain: it makes one and announces it.
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(a), ecdh_pubkey: ecdh(a) } }]);
  assert.equal(a.status().role, "gatekeeper");
  assert.equal(a.status().holdsMasterKey, false);
  assert.deepEqual(a.pendingEgress().map(topicOf), [Topics.masterPubkey]);

  sim.block(); // the chain accepts the announcement: the master key is established everywhere
  assert.ok(sim.masterPubkey);
  for (const n of sim.nodes) assert.deepEqual(n.status().masterPubkey, sim.masterPubkey);
  assert.equal(a.status().holdsMasterKey, true);
  assert.equal(a.pendingEgress().length, 0, "the accepted announcement is purged");

  // B registers: A shares the key with it; B receives it without restarting.
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(b), ecdh_pubkey: ecdh(b) } }]);
  const share = gkPending(a);
  assert.deepEqual(share.map(topicOf), [Topics.keyDistribution]);
  assert.equal(share[0].sequence, 0n);
  assert.deepEqual(decodeExact(MasterKeyDistribution, share[0].message.payload).dest, pk(b));
  sim.runTo(BEACON_INTERVAL); // block 5: the share lands, then both gatekeepers make beacon 5
  assert.equal(b.status().holdsMasterKey, true);
  assert.equal(c.status().holdsMasterKey, false);
  assert.ok(assertSameGatekeeperEgress(sim, a, b) >= 1, "both gatekeepers emitted the beacon");

  // C registers and a rotation is requested in the same block: both holders share the key
  // with C (history before the rotation), then rotate; C projects the rotation itself.
  sim.block([
    { tag: "GatekeeperRegistered", value: { pubkey: pk(c), ecdh_pubkey: ecdh(c) } },
    { tag: "MasterKeyRotationRequested", value: { rotation_id: 1 } },
  ]);
  assert.deepEqual(gkPending(a).map(topicOf), [Topics.keyDistribution, Topics.masterRotation]);
  assert.equal(assertSameGatekeeperEgress(sim, a, b), 2);
  const oldMaster = sim.masterPubkey;
  sim.block();
  assert.equal(sim.masterRotation, 1);
  assert.notDeepEqual(sim.masterPubkey, oldMaster);
  for (const n of sim.nodes) {
    assert.equal(n.status().rotationId, 1);
    assert.deepEqual(n.status().masterPubkey, sim.masterPubkey);
  }
  assert.equal(c.status().holdsMasterKey, true);

  // From here on all three emit identical messages signed by the new key.
  for (let i = 0; i < 3 * BEACON_INTERVAL; i++) {
    sim.block([]);
    assertSameGatekeeperEgress(sim, a, b);
    assertSameGatekeeperEgress(sim, a, c);
  }
  sim.block();
  const beacons = sim.accepted.filter((m) => topicOf(m) === Topics.randomBeacon);
  assert.ok(beacons.length >= 4);
  const last = beacons[beacons.length - 1];
  assert.ok(verifyEd25519(sim.masterPubkey!, egressSigningPayload(sim.chain.genesisHash, last.message, last.sequence), last.signature));
  assert.deepEqual(sim.refused, [], "the chain refused nothing");
  for (const n of sim.nodes) {
    assert.equal(n.status().beaconMismatches, 0);
    assert.equal(n.status().gatekeeperSequence, a.status().gatekeeperSequence, "every pRuntime counts the same gatekeeper sequence");
  }
  assert.equal(w.status().role, "worker");
  assert.equal(w.status().holdsMasterKey, false);
  assert.equal(w.pendingEgress().length, 0);
  assert.deepEqual(log.filter((e) => e.level === "error"), []);
  // The secrets were sealed (the checkpoint holds both keys of the history) and never logged.
  const secrets = sealedMasterSecrets(c);
  assert.equal(secrets.length, 2);
  assert.deepEqual(masterSigningKey(secrets[1]).publicKey, sim.masterPubkey);
  const logged = JSON.stringify(log, (_k, v) => (v instanceof Uint8Array ? toHex(v) : typeof v === "bigint" ? String(v) : v));
  for (const s of secrets) assert.ok(!logged.includes(toHex(s).slice(2)), "a master secret appears in the log");
});

test("two gatekeepers announce at once: the first key wins and the other receives it", () => {
  const log: LogEntry[] = [];
  const sim = new ChainSim();
  const [a, b] = [11, 12].map((i) => sim.add(node(i, log)));
  sim.block(sim.nodes.map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: pk(n), ecdh_pubkey: ecdh(n), confidence_level: 128 } })));
  sim.block([
    { tag: "GatekeeperRegistered", value: { pubkey: pk(a), ecdh_pubkey: ecdh(a) } },
    { tag: "GatekeeperRegistered", value: { pubkey: pk(b), ecdh_pubkey: ecdh(b) } },
  ]);
  const announced = b.pendingEgress()[0];
  assert.equal(topicOf(announced), Topics.masterPubkey);
  sim.block(); // A submits first: its key is established; B's announcement is accepted as a no-op
  assert.equal(a.status().holdsMasterKey, true);
  assert.equal(b.status().holdsMasterKey, false);
  assert.equal(b.pendingEgress().length, 0, "B's losing announcement consumed its sequence and is purged");
  sim.block(); // A's share for B lands
  assert.equal(b.status().holdsMasterKey, true);
  assert.deepEqual(b.status().masterPubkey, a.status().masterPubkey);
  sim.runTo(2 * BEACON_INTERVAL + 1);
  assertSameGatekeeperEgress(sim, a, b);
  assert.deepEqual(sim.refused, []);
  assert.deepEqual(log.filter((e) => e.level === "error"), []);
});

test("a beacon on chain that differs from the gatekeeper's own is counted and logged", () => {
  const log: LogEntry[] = [];
  const sim = new ChainSim();
  const a = sim.add(node(21, log));
  sim.block([{ tag: "WorkerRegistered", value: { pubkey: pk(a), ecdh_pubkey: ecdh(a), confidence_level: 128 } }]);
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: pk(a), ecdh_pubkey: ecdh(a) } }]);
  sim.block();
  sim.runTo(BEACON_INTERVAL, { submitFrom: [] }); // A makes beacon 5 but it is not submitted
  const forged = { sender: { tag: "Gatekeeper" as const }, destination: utf8(Topics.randomBeacon), payload: RandomBeacon.codec.enc({ block_number: BEACON_INTERVAL, random: new Uint8Array(32).fill(1) }) };
  sim.block([], { submitFrom: [], raw: [forged] });
  assert.equal(a.status().beaconMismatches, 1);
  assert.ok(log.some((e) => e.level === "error" && e.msg.includes("BEACON MISMATCH")));
});

test("rotation derivation and the master public key agree", () => {
  const s0 = new Uint8Array(32).fill(5);
  const s1 = rotateMasterSecret(s0, 1);
  assert.ok(!bytesEqual(s0, s1));
  assert.deepEqual(rotateMasterSecret(s0, 1), s1);
  assert.notDeepEqual(rotateMasterSecret(s0, 2), s1);
  assert.equal(masterSigningKey(s1).publicKey.length, 32);
});
