/**
 * The registry view and the gatekeeper role, as one replicated deterministic state machine
 * (ARCHITECTURE §4, §6). Every pRuntime runs it on the same chain messages in the same order:
 * it follows workers, gatekeepers and the on-chain master key, and counts every message the
 * gatekeepers collectively emit (`gkEmitted`), whether or not it holds the master key. A
 * pRuntime holding the key emits those messages itself, with exactly the bytes every other
 * holder emits, so the chain's sequence check keeps one copy. A gatekeeper that receives the
 * key later therefore already knows which sequence numbers come next.
 *
 * Signing key of Gatekeeper-origin message number k: the master key after every rotation the
 * machine emitted before k (the rotation message itself is signed by the key it retires). The
 * chain checks messages in sequence order and switches keys when it accepts a rotation, so
 * this is the key the chain will check message k with, even before the rotation is seen here.
 */
import assert from "node:assert/strict";
import { bytesEqual, utf8, type KeyPair } from "@phala-ts/primitives";
import { T, decodeExact, type Infer, type Type } from "@phala-ts/runtime/types";
import {
  ClusterKeyPublished,
  ContractTopics,
  MasterKeyDistribution,
  MasterKeyHistory,
  MasterKeyRotated,
  MasterPubkeyAnnouncement,
  RandomBeacon,
  RegistryEvent,
  Topics,
  topic,
  type MessageOriginValue,
  type MessageValue,
  type RegistryEventValue,
} from "@phala-ts/runtime/phala";
import type { Dispatcher } from "./dispatcher.ts";
import type { EgressQueue } from "./egress.ts";
import type { WorkerKeys } from "./keys.ts";
import { clusterSecretOf, encryptClusterKeyShare, publicKeysOf } from "./key-shares.ts";
import { BEACON_RECORDS_MAX, GATEKEEPERS_MAX, MASTER_HISTORY_MAX, WORKERS_MAX } from "./limits.ts";
import type { Logger } from "./logger.ts";
import {
  beaconRandom,
  decryptMasterKeyHistory,
  encryptMasterKeyHistory,
  isUsableEcdhKey,
  masterSigningKey,
  rotateMasterSecret,
  rotationSigningPayload,
  secretsEqual,
  verifyRotationSignature,
  type MasterKeyRecord,
} from "./master-key.ts";

const Key32 = T.fixedBytes(32);

/** Everything this state machine keeps, as sealed into a checkpoint. */
export const GatekeeperSnapshot = T.struct(["phala_pruntime", "GatekeeperSnapshot"], {
  workers: T.vec(T.struct(["phala_pruntime", "KnownWorker"], { pubkey: Key32, ecdh_pubkey: Key32, confidence_level: T.u8 })),
  /** In registration order: key shares at master establishment go out in this order. */
  gatekeepers: T.vec(T.struct(["phala_pruntime", "KnownGatekeeper"], { pubkey: Key32, ecdh_pubkey: Key32 })),
  registered: T.bool,
  master: T.option(
    T.struct(["phala_pruntime", "OnChainMaster"], {
      announcer: Key32,
      /** Master public keys the chain has accepted, oldest first (rotation 0 is the first key). */
      keys: T.vec(T.struct(["phala_pruntime", "OnChainMasterKey"], { rotation_id: T.u32, pubkey: Key32 })),
    }),
  ),
  /** Rotation ids the machine has emitted MasterKeyRotated for, in order. Public. */
  rotations: T.vec(T.u32),
  gk_emitted: T.u64,
  last_beacon_random: Key32,
  beacon_mismatches: T.u32,
  beacon_records: T.vec(T.struct(["phala_pruntime", "BeaconRecord"], { block_number: T.u32, random: Key32 })),
  /** Master secrets held: the first key and one per emitted rotation. Empty when not holding. */
  held: MasterKeyHistory,
  /** A master secret this gatekeeper generated and announced, before the chain settled on one. */
  candidate: T.option(Key32),
});
export type GatekeeperSnapshotValue = Infer<typeof GatekeeperSnapshot>;

export interface GatekeeperStatus {
  role: "worker" | "gatekeeper";
  registered: boolean;
  masterPubkey: Uint8Array | undefined;
  holdsMasterKey: boolean;
  rotationId: number;
  beaconMismatches: number;
  /** Gatekeeper-origin messages the replicated machine has emitted so far. */
  gatekeeperSequence: bigint;
}

export interface GatekeeperOptions {
  keys: WorkerKeys;
  /** Blocks between random beacons. Every pRuntime of a network must use the same value. */
  beaconIntervalBlocks: number;
  logger: Logger;
}

export interface GatekeeperModules {
  egress: EgressQueue;
  /** Randomness for a new master key; injected so simulations replay. */
  random: (n: number) => Uint8Array;
}

const REGISTRY_PALLET = utf8("PhalaRegistry");

/** Map key of a public key; Buffer's native hex is several times faster than a JS loop. */
function keyOf(pubkey: Uint8Array): string {
  return Buffer.from(pubkey.buffer, pubkey.byteOffset, pubkey.byteLength).toString("hex");
}
const GATEKEEPER_ORIGIN: MessageOriginValue = { tag: "Gatekeeper" };
const ZERO32 = new Uint8Array(32);

interface KnownGatekeeper {
  pubkey: Uint8Array;
  ecdh_pubkey: Uint8Array;
}

interface OnChainMaster {
  announcer: Uint8Array;
  keys: { rotation_id: number; pubkey: Uint8Array }[];
}

export function emptyGatekeeperSnapshot(): GatekeeperSnapshotValue {
  return {
    workers: [],
    gatekeepers: [],
    registered: false,
    master: undefined,
    rotations: [],
    gk_emitted: 0n,
    last_beacon_random: ZERO32,
    beacon_mismatches: 0,
    beacon_records: [],
    held: [],
    candidate: undefined,
  };
}

export class GatekeeperMachine {
  readonly #keys: WorkerKeys;
  readonly #me: Uint8Array;
  readonly #workerOrigin: MessageOriginValue;
  readonly #beaconInterval: number;
  readonly #log: Logger;
  readonly #egress: EgressQueue;
  readonly #random: (n: number) => Uint8Array;

  readonly #workers = new Map<string, { pubkey: Uint8Array; ecdh_pubkey: Uint8Array; confidence_level: number }>();
  #gatekeepers: KnownGatekeeper[] = [];
  #registered = false;
  #master: OnChainMaster | undefined;
  readonly #rotations: number[] = [];
  #gkEmitted = 0n;
  #lastBeaconRandom: Uint8Array = ZERO32;
  #beaconMismatches = 0;
  readonly #beaconRecords = new Map<number, Uint8Array>();
  #held: MasterKeyRecord[] = [];
  #candidate: Uint8Array | undefined;
  #signer: KeyPair | undefined;
  #needsCheckpoint = false;

  constructor(options: GatekeeperOptions, modules: GatekeeperModules, saved: GatekeeperSnapshotValue = emptyGatekeeperSnapshot()) {
    assert.ok(Number.isSafeInteger(options.beaconIntervalBlocks) && options.beaconIntervalBlocks > 0, "beaconIntervalBlocks is a positive integer");
    this.#keys = options.keys;
    this.#me = options.keys.identityPublicKey;
    this.#workerOrigin = { tag: "Worker", value: this.#me };
    this.#beaconInterval = options.beaconIntervalBlocks;
    this.#log = options.logger;
    this.#egress = modules.egress;
    this.#random = modules.random;
    for (const w of saved.workers) this.#workers.set(keyOf(w.pubkey), { ...w });
    this.#gatekeepers = saved.gatekeepers.map((g) => ({ ...g }));
    this.#registered = saved.registered;
    this.#master = saved.master === undefined ? undefined : { announcer: saved.master.announcer, keys: saved.master.keys.map((k) => ({ ...k })) };
    this.#rotations.push(...saved.rotations);
    this.#gkEmitted = saved.gk_emitted;
    this.#lastBeaconRandom = saved.last_beacon_random;
    this.#beaconMismatches = saved.beacon_mismatches;
    for (const r of saved.beacon_records) this.#beaconRecords.set(r.block_number, r.random);
    this.#held = saved.held.map((r) => ({ rotation_id: r.rotation_id, secret: r.secret.slice() }));
    this.#candidate = saved.candidate?.slice();
  }

  /** Subscribes the machine's handlers to their topics. */
  register(dispatcher: Dispatcher): void {
    dispatcher.on(Topics.registryEvent, (m, b) => this.onRegistryEvent(m, b.number));
    dispatcher.on(Topics.masterPubkey, (m) => this.onMasterPubkey(m));
    dispatcher.on(Topics.keyDistribution, (m) => this.onKeyDistribution(m));
    dispatcher.on(Topics.randomBeacon, (m) => this.onRandomBeacon(m));
    dispatcher.on(Topics.masterRotation, (m) => this.onMasterKeyRotated(m));
  }

  /** Called after the last message of every block, in order. */
  endBlock(blockNumber: number): void {
    if (this.#master === undefined || blockNumber % this.#beaconInterval !== 0) return;
    const previous = this.#lastBeaconRandom;
    this.emitGatekeeper("randomBeacon", (current) => {
      const random = beaconRandom(current.secret, blockNumber, previous);
      this.#beaconRecords.set(blockNumber, random);
      if (this.#beaconRecords.size > BEACON_RECORDS_MAX) {
        const oldest = this.#beaconRecords.keys().next().value;
        if (oldest !== undefined) this.#beaconRecords.delete(oldest);
      }
      return RandomBeacon.codec.enc({ block_number: blockNumber, random });
    });
  }

  /** True once after secrets or egress changed: the caller must checkpoint before serving egress. */
  takeCheckpointRequest(): boolean {
    const r = this.#needsCheckpoint;
    this.#needsCheckpoint = false;
    return r;
  }

  status(): GatekeeperStatus {
    const keys = this.#master?.keys;
    const current = keys?.[keys.length - 1];
    return {
      role: this.isGatekeeper(this.#me) ? "gatekeeper" : "worker",
      registered: this.#registered,
      masterPubkey: current?.pubkey,
      holdsMasterKey: this.#held.length > 0,
      rotationId: current?.rotation_id ?? 0,
      beaconMismatches: this.#beaconMismatches,
      gatekeeperSequence: this.#gkEmitted,
    };
  }

  snapshot(): GatekeeperSnapshotValue {
    return {
      workers: [...this.#workers.values()].map((w) => ({ ...w })),
      gatekeepers: this.#gatekeepers.map((g) => ({ ...g })),
      registered: this.#registered,
      master: this.#master === undefined ? undefined : { announcer: this.#master.announcer, keys: this.#master.keys.map((k) => ({ ...k })) },
      rotations: [...this.#rotations],
      gk_emitted: this.#gkEmitted,
      last_beacon_random: this.#lastBeaconRandom,
      beacon_mismatches: this.#beaconMismatches,
      beacon_records: [...this.#beaconRecords].map(([block_number, random]) => ({ block_number, random })),
      held: this.#held.map((r) => ({ rotation_id: r.rotation_id, secret: r.secret.slice() })),
      candidate: this.#candidate?.slice(),
    };
  }

  // ------------------------------------------------------------------------------- clusters

  /** Whether the chain has settled on a master key: cluster keys can be derived from then on. */
  get masterEstablished(): boolean {
    return this.#master !== undefined;
  }

  /**
   * The rotation whose master secret derives the key of a cluster created now: the latest
   * rotation this machine emitted (the key that also signs the cluster key's publication).
   * Undefined before the master key is established.
   */
  currentRotationId(): number | undefined {
    if (this.#master === undefined) return undefined;
    return this.#rotations.length > 0 ? this.#rotations[this.#rotations.length - 1] : 0;
  }

  /** The x25519 key a registered worker published, if it is registered. */
  workerEcdhKey(pubkey: Uint8Array): Uint8Array | undefined {
    return this.#workers.get(keyOf(pubkey))?.ecdh_pubkey;
  }

  /**
   * One Gatekeeper-origin `ClusterKeyPublished`: the cluster's public keys and one share per
   * worker in `members` whose registered x25519 key can be encrypted to (decided from public
   * data, so every pRuntime counts the same emissions and every holder builds the same bytes).
   */
  publishClusterKey(clusterId: Uint8Array, rotationId: number, members: readonly Uint8Array[]): void {
    assert.ok(this.#master !== undefined, "cluster keys are published only once the master key is established");
    const recipients: { pubkey: Uint8Array; ecdh: Uint8Array }[] = [];
    for (const pubkey of members) {
      const ecdh = this.workerEcdhKey(pubkey);
      if (ecdh === undefined || !isUsableEcdhKey(ecdh)) {
        this.#log.error("a cluster member has no usable registered ecdh key; no cluster key share is sent to it", { worker: pubkey });
        continue;
      }
      recipients.push({ pubkey, ecdh });
    }
    this.emitGatekeeper(utf8(ContractTopics.clusterKey), () => {
      const master = this.#held.find((r) => r.rotation_id === rotationId);
      // Holders keep every rotation (their history is projected on receipt), so this cannot miss.
      assert.ok(master !== undefined, `the master secret of rotation ${rotationId} is held`);
      const secret = clusterSecretOf(master.secret, clusterId);
      try {
        const shares = recipients.map((r) => encryptClusterKeyShare(master.secret, clusterId, r.pubkey, r.ecdh, secret));
        return ClusterKeyPublished.codec.enc({ cluster: clusterId, keys: publicKeysOf(secret), shares });
      } finally {
        secret.fill(0);
      }
    });
  }

  // ------------------------------------------------------------------------------- helpers

  private isGatekeeper(pubkey: Uint8Array): boolean {
    return this.#gatekeepers.some((g) => bytesEqual(g.pubkey, pubkey));
  }

  private decode<X>(type: Type<X>, message: MessageValue): X | undefined {
    try {
      return decodeExact(type, message.payload);
    } catch (e) {
      this.#log.warn("ignoring a message whose payload does not decode", { topic: Buffer.from(message.destination).toString("utf8"), reason: (e as Error).message });
      return undefined;
    }
  }

  private currentSigner(): KeyPair {
    assert.ok(this.#held.length > 0);
    this.#signer ??= masterSigningKey(this.#held[this.#held.length - 1].secret);
    return this.#signer;
  }

  /**
   * One Gatekeeper-origin emission of the replicated machine: counted by everyone, built and
   * signed only by holders of the master key. `build` returns the payload; `after` runs once
   * the message is signed (a rotation switches keys there).
   */
  private emitGatekeeper(topicName: keyof typeof Topics | Uint8Array, build: (current: MasterKeyRecord) => Uint8Array, after?: () => void): void {
    const sequence = this.#gkEmitted;
    this.#gkEmitted++;
    if (this.#held.length === 0) return;
    const current = this.#held[this.#held.length - 1];
    const payload = build(current);
    const signer = this.currentSigner();
    const destination = typeof topicName === "string" ? topic(topicName) : topicName;
    this.#egress.push({ sender: GATEKEEPER_ORIGIN, destination, payload }, sequence, (p) => signer.sign(p));
    after?.();
    this.#needsCheckpoint = true;
  }

  private distributeTo(gatekeeper: KnownGatekeeper): void {
    // Decided from public data alone, so every pRuntime counts the same emissions.
    if (!isUsableEcdhKey(gatekeeper.ecdh_pubkey)) {
      this.#log.error("gatekeeper registered with an unusable ecdh key; no key share is sent to it", { gatekeeper: gatekeeper.pubkey });
      return;
    }
    this.emitGatekeeper("keyDistribution", (current) =>
      MasterKeyDistribution.codec.enc(encryptMasterKeyHistory(current.secret, current.rotation_id, gatekeeper.pubkey, gatekeeper.ecdh_pubkey, this.#held)),
    );
  }

  private dropSecrets(): void {
    for (const r of this.#held) r.secret.fill(0);
    this.#held = [];
    this.#signer = undefined;
    this.#candidate?.fill(0);
    this.#candidate = undefined;
    this.#needsCheckpoint = true;
  }

  // ------------------------------------------------------------------------------- handlers

  private onRegistryEvent(message: MessageValue, blockNumber: number): void {
    if (message.sender.tag !== "Pallet" || !bytesEqual(message.sender.value, REGISTRY_PALLET)) {
      this.#log.warn("ignoring a registry event not sent by PhalaRegistry", { sender: message.sender.tag, block: blockNumber });
      return;
    }
    const event = this.decode(RegistryEvent, message);
    if (event !== undefined) this.applyRegistryEvent(event, blockNumber);
  }

  private applyRegistryEvent(event: RegistryEventValue, blockNumber: number): void {
    switch (event.tag) {
      case "WorkerRegistered": {
        const { pubkey } = event.value;
        const key = keyOf(pubkey);
        if (!this.#workers.has(key) && this.#workers.size >= WORKERS_MAX) {
          this.#log.error("too many workers to follow; registration ignored", { max: WORKERS_MAX });
          return;
        }
        this.#workers.set(key, event.value);
        if (bytesEqual(pubkey, this.#me) && !this.#registered) {
          this.#registered = true;
          this.#log.info("this worker is registered on chain", { block: blockNumber });
        }
        return;
      }
      case "GatekeeperRegistered": {
        const gk = { pubkey: event.value.pubkey, ecdh_pubkey: event.value.ecdh_pubkey };
        if (this.isGatekeeper(gk.pubkey)) return;
        if (this.#gatekeepers.length >= GATEKEEPERS_MAX) {
          this.#log.error("too many gatekeepers to follow; registration ignored", { max: GATEKEEPERS_MAX });
          return;
        }
        this.#gatekeepers.push(gk);
        const mine = bytesEqual(gk.pubkey, this.#me);
        if (mine) this.#log.info("this worker became a gatekeeper", { block: blockNumber });
        if (this.#master !== undefined) {
          this.distributeTo(gk);
        } else if (mine) {
          this.announceNewMasterKey(blockNumber);
        }
        return;
      }
      case "GatekeeperUnregistered": {
        const before = this.#gatekeepers.length;
        this.#gatekeepers = this.#gatekeepers.filter((g) => !bytesEqual(g.pubkey, event.value.pubkey));
        if (this.#gatekeepers.length !== before && bytesEqual(event.value.pubkey, this.#me)) {
          // A retired gatekeeper keeps no master secret: least privilege, and a re-registration sends a fresh share.
          this.dropSecrets();
          this.#log.info("this worker is no longer a gatekeeper; master key discarded", { block: blockNumber });
        }
        return;
      }
      case "MasterKeyRotationRequested": {
        const rotationId = event.value.rotation_id;
        const last = this.#rotations.length > 0 ? this.#rotations[this.#rotations.length - 1] : 0;
        if (this.#master === undefined || rotationId <= last || this.#rotations.length + 1 >= MASTER_HISTORY_MAX) {
          this.#log.warn("ignoring a master key rotation request", { rotationId, lastRotationId: last, masterEstablished: this.#master !== undefined });
          return;
        }
        this.#rotations.push(rotationId);
        let next: MasterKeyRecord | undefined;
        this.emitGatekeeper(
          "masterRotation",
          (current) => {
            next = { rotation_id: rotationId, secret: rotateMasterSecret(current.secret, rotationId) };
            const newPubkey = masterSigningKey(next.secret).publicKey;
            const signature = this.currentSigner().sign(rotationSigningPayload(rotationId, newPubkey));
            return MasterKeyRotated.codec.enc({ rotation_id: rotationId, new_pubkey: newPubkey, signature });
          },
          () => {
            assert.ok(next !== undefined);
            this.#held.push(next);
            this.#signer = undefined;
          },
        );
        return;
      }
    }
  }

  private announceNewMasterKey(blockNumber: number): void {
    if (this.#candidate === undefined) {
      const secret = this.#random(32);
      assert.ok(secret.length === 32);
      this.#candidate = secret;
      this.#log.info("generated a master key candidate; announcing its public key", { block: blockNumber });
    }
    const message: MessageValue = {
      sender: this.#workerOrigin,
      destination: topic("masterPubkey"),
      payload: MasterPubkeyAnnouncement.codec.enc({ master_pubkey: masterSigningKey(this.#candidate).publicKey }),
    };
    this.#egress.push(message, this.#egress.nextSequence(this.#workerOrigin), (p) => this.#keys.sign(p));
    this.#needsCheckpoint = true;
  }

  private onMasterPubkey(message: MessageValue): void {
    if (message.sender.tag !== "Worker" || this.#master !== undefined) return;
    const announcer = message.sender.value;
    if (!this.isGatekeeper(announcer)) return;
    const ann = this.decode(MasterPubkeyAnnouncement, message);
    if (ann === undefined) return;
    this.#master = { announcer, keys: [{ rotation_id: 0, pubkey: ann.master_pubkey }] };
    if (bytesEqual(announcer, this.#me)) {
      const candidate = this.#candidate;
      if (candidate !== undefined && bytesEqual(masterSigningKey(candidate).publicKey, ann.master_pubkey)) {
        this.#held = [{ rotation_id: 0, secret: candidate }];
        this.#signer = undefined;
        this.#candidate = undefined;
        this.#needsCheckpoint = true;
        this.#log.info("the chain accepted this gatekeeper's master key");
      } else {
        this.#log.error("the chain accepted a master key announced by this worker that it does not hold; the master key is lost unless another copy exists");
      }
    } else if (this.#candidate !== undefined) {
      this.#candidate.fill(0);
      this.#candidate = undefined;
      this.#needsCheckpoint = true;
      this.#log.info("another gatekeeper's master key was accepted; discarded this one and waiting for a key share");
    }
    for (const gk of this.#gatekeepers) if (!bytesEqual(gk.pubkey, announcer)) this.distributeTo(gk);
  }

  private onKeyDistribution(message: MessageValue): void {
    if (message.sender.tag !== "Gatekeeper" || this.#master === undefined) return;
    const share = this.decode(MasterKeyDistribution, message);
    if (share === undefined || !bytesEqual(share.dest, this.#me) || this.#held.length > 0 || !this.isGatekeeper(this.#me)) return;
    let history: MasterKeyRecord[];
    const ecdh = this.#keys.ecdhPrivateKey();
    try {
      history = decryptMasterKeyHistory(ecdh, share);
    } catch (e) {
      this.#log.error("a master key share addressed to this worker does not decrypt; waiting for another", { reason: (e as Error).message });
      return;
    } finally {
      ecdh.fill(0);
    }
    const projected = this.projectHistory(history);
    if (projected === undefined) return;
    this.#held = projected;
    this.#signer = undefined;
    this.#candidate?.fill(0);
    this.#candidate = undefined;
    this.#needsCheckpoint = true;
    this.#log.info("received the master key; serving as a gatekeeper", { rotationId: projected[projected.length - 1].rotation_id });
  }

  /**
   * Checks a received history against the chain (first key = the established master key, each
   * later key derived by its rotation) and extends it by rotations emitted since it was sent.
   */
  private projectHistory(history: MasterKeyRecord[]): MasterKeyRecord[] | undefined {
    const master = this.#master;
    assert.ok(master !== undefined);
    const refuse = (why: string) => {
      for (const r of history) r.secret.fill(0);
      this.#log.error("refused a master key share: " + why);
      return undefined;
    };
    if (history[0].rotation_id !== 0 || !bytesEqual(masterSigningKey(history[0].secret).publicKey, master.keys[0].pubkey)) {
      return refuse("its first key is not the master key established on chain");
    }
    if (history.length - 1 > this.#rotations.length) return refuse("it holds rotations this pRuntime has not seen requested");
    const out: MasterKeyRecord[] = [history[0]];
    for (let i = 0; i < this.#rotations.length; i++) {
      const rotationId = this.#rotations[i];
      const derived = rotateMasterSecret(out[i].secret, rotationId);
      const given = history[i + 1];
      if (given !== undefined && (given.rotation_id !== rotationId || !secretsEqual(given.secret, derived))) {
        return refuse("a rotated key does not derive from its predecessor");
      }
      out.push({ rotation_id: rotationId, secret: derived });
    }
    for (const k of master.keys) {
      const mine = out.find((r) => r.rotation_id === k.rotation_id);
      if (mine === undefined || !bytesEqual(masterSigningKey(mine.secret).publicKey, k.pubkey)) {
        return refuse(`its key for rotation ${k.rotation_id} is not the one on chain`);
      }
    }
    return out;
  }

  private onRandomBeacon(message: MessageValue): void {
    if (message.sender.tag !== "Gatekeeper" || this.#master === undefined) return;
    const beacon = this.decode(RandomBeacon, message);
    if (beacon === undefined) return;
    const mine = this.#beaconRecords.get(beacon.block_number);
    if (mine !== undefined && !bytesEqual(mine, beacon.random)) {
      this.#beaconMismatches++;
      this.#log.error("RANDOM BEACON MISMATCH: the chain carries a beacon this gatekeeper computed differently; gatekeeper state has diverged", {
        blockNumber: beacon.block_number,
        mismatches: this.#beaconMismatches,
      });
    }
    this.#beaconRecords.delete(beacon.block_number);
    this.#lastBeaconRandom = beacon.random;
  }

  private onMasterKeyRotated(message: MessageValue): void {
    const master = this.#master;
    if (message.sender.tag !== "Gatekeeper" || master === undefined) return;
    const rotated = this.decode(MasterKeyRotated, message);
    if (rotated === undefined) return;
    const current = master.keys[master.keys.length - 1];
    if (master.keys.length >= MASTER_HISTORY_MAX) {
      this.#log.error("ignoring a MasterKeyRotated: the master key history is full", { max: MASTER_HISTORY_MAX });
      return;
    }
    if (rotated.rotation_id <= current.rotation_id || !verifyRotationSignature(current.pubkey, rotated.rotation_id, rotated.new_pubkey, rotated.signature)) {
      this.#log.error("ignoring a MasterKeyRotated that does not follow the current master key", { rotationId: rotated.rotation_id, current: current.rotation_id });
      return;
    }
    master.keys.push({ rotation_id: rotated.rotation_id, pubkey: rotated.new_pubkey });
    this.#log.info("master key rotated on chain", { rotationId: rotated.rotation_id });
    if (this.#held.length > 0) {
      const mine = this.#held.find((r) => r.rotation_id === rotated.rotation_id);
      if (mine === undefined || !bytesEqual(masterSigningKey(mine.secret).publicKey, rotated.new_pubkey)) {
        this.#log.error("the chain's rotated master key differs from this gatekeeper's; gatekeeper state has diverged", { rotationId: rotated.rotation_id });
      }
    }
  }
}
