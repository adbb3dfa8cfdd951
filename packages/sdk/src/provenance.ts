/**
 * Where a contract's or a cluster's key comes from, checked link by link from proven chain
 * state (`PhalaRegistry.KeyPublications` keeps each publication as it was signed):
 *
 *   contract key ← signed by its cluster's key ← signed by the gatekeepers' master key
 *   (← each rotation signed by the key before) ← announced by a gatekeeper worker that
 *   registered with attestation evidence (its TEE and confidence level).
 *
 * The SDK checks this before it encrypts anything to a key, and returns it to the caller.
 */
import { bytesEqual, utf8, verifyEd25519 } from "@phala-ts/primitives";
import {
  ClusterKeyPublished,
  ContractKeyPublished,
  ContractTopics,
  MasterKeyRotated,
  MasterPubkeyAnnouncement,
  PhalaRegistryStorage as R,
  PhatContractsStorage as P,
  Topics,
  egressSigningPayload,
  rotationSigningPayload,
  type PublicKeysValue,
  type SignedMessageValue,
  type WorkerInfoValue,
} from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { unverified, type CertifiedBlock, type ChainReader } from "./chain-reader.ts";
import { hex, type Hex } from "./ids.ts";

/** Master key rotations followed at most: each one is a signature check. */
const MASTER_ROTATIONS_MAX = 1024;

export interface PublishedKeys {
  pubkey: Hex;
  ecdhPubkey: Hex;
  /** The sequence number of the signed message that published them. */
  sequence: bigint;
}

export interface KeyProvenance {
  /** The block whose certified state every link was read from. */
  block: { number: number; hash: Hex };
  /** Present for a contract key: published by its cluster, signed with the cluster key. */
  contract?: { id: Hex } & PublishedKeys;
  /** The cluster's keys, published by the gatekeepers and signed with master key `masterRotation`. */
  cluster: { id: Hex; masterRotation: number } & PublishedKeys;
  /** Master public keys from the first one to the one that signed the cluster key; each later one signed by the one before. */
  masterKeys: Array<{ rotation: number; pubkey: Hex }>;
  /** The gatekeeper worker that generated and announced the first master key. */
  gatekeeper: {
    worker: Hex;
    tee: WorkerInfoValue["tee"]["tag"];
    /** 1 (best) .. 5, 128 for dev evidence. */
    confidenceLevel: number;
    measurement: Hex;
    registeredAt: number;
    /** Whether it is still one of the chain's gatekeepers. */
    isGatekeeper: boolean;
  };
}

type Read = (keys: Uint8Array[]) => Promise<Array<Uint8Array | undefined>>;

function dec<V>(type: { codec: { dec(b: Uint8Array): V } }, bytes: Uint8Array | undefined, what: string): V | undefined {
  if (bytes === undefined) return undefined;
  try {
    return decodeExact(type as never, bytes) as V;
  } catch (e) {
    throw unverified("provenance", `${what} is stored in a form this SDK cannot decode; is the SDK as new as the chain?`, {}, e);
  }
}

function need<V>(v: V | undefined, message: string, details: Record<string, unknown> = {}): V {
  if (v === undefined) throw unverified("provenance", message, details);
  return v;
}

function topicIs(m: SignedMessageValue, name: string): boolean {
  return bytesEqual(m.message.destination, utf8(name));
}

function signedBy(genesisHash: Uint8Array, m: SignedMessageValue, key: Uint8Array): boolean {
  return verifyEd25519(key, egressSigningPayload(genesisHash, m.message, m.sequence), m.signature);
}

function sameKeys(a: PublicKeysValue, b: PublicKeysValue): boolean {
  return bytesEqual(a.pubkey, b.pubkey) && bytesEqual(a.ecdh_pubkey, b.ecdh_pubkey);
}

function published(keys: PublicKeysValue, m: SignedMessageValue): PublishedKeys {
  return { pubkey: hex(keys.pubkey), ecdhPubkey: hex(keys.ecdh_pubkey), sequence: m.sequence };
}

/**
 * Checks the provenance of a cluster's key, and of a contract's key when `contract` is given,
 * in `block`'s proven state.
 */
export async function verifyKeyProvenance(reader: ChainReader, block: CertifiedBlock, target: { contract: Uint8Array } | { cluster: Uint8Array }): Promise<KeyProvenance> {
  const read: Read = (keys) => reader.read(block, keys);
  const g = reader.genesisHash;
  let contract: KeyProvenance["contract"];
  let clusterId: Uint8Array;
  if ("contract" in target) {
    const c = target.contract;
    const [infoRaw, keysRaw, pubRaw] = await read([P.Contracts.key(c), R.ContractKeys.key(c), R.KeyPublications.key({ tag: "Contract", value: c })]);
    const info = need(dec(P.Contracts.type, infoRaw, "the contract record"), `contract ${hex(c)} does not exist in the certified state`, { contract: hex(c) });
    const keys = need(dec(R.ContractKeys.type, keysRaw, "the contract key"), `contract ${hex(c)} has no published key in the certified state`, { contract: hex(c) });
    const pub = need(dec(R.KeyPublications.type, pubRaw, "the contract key's publication"), `the publication of contract ${hex(c)}'s key is not on chain, so its signature cannot be checked`, { contract: hex(c) });
    clusterId = info.cluster;
    const body = topicIs(pub, ContractTopics.contractKey) ? dec(ContractKeyPublished, pub.message.payload, "the contract key's publication") : undefined;
    const fromCluster = pub.message.sender.tag === "Cluster" && bytesEqual(pub.message.sender.value as Uint8Array, clusterId);
    if (!body || !fromCluster || !bytesEqual(body.contract, c) || !sameKeys(body.keys, keys)) {
      throw unverified("provenance", `the stored publication of contract ${hex(c)}'s key is not its cluster's publication of this key`, { contract: hex(c) });
    }
    contract = { id: hex(c), ...published(keys, pub) };
    const clusterKeysRaw = (await read([R.ClusterKeys.key(clusterId)]))[0];
    const clusterKeys = need(dec(R.ClusterKeys.type, clusterKeysRaw, "the cluster key"), `cluster ${hex(clusterId)} has no key on chain`, { cluster: hex(clusterId) });
    if (!signedBy(g, pub, clusterKeys.pubkey)) {
      throw unverified("provenance", `contract ${hex(c)}'s key is not signed by the key of its cluster ${hex(clusterId)}`, { contract: hex(c), cluster: hex(clusterId) });
    }
  } else {
    clusterId = target.cluster;
  }
  const [clusterKeysRaw, clusterPubRaw, rotationRaw, gatekeepersRaw] = await read([
    R.ClusterKeys.key(clusterId),
    R.KeyPublications.key({ tag: "Cluster", value: clusterId }),
    R.MasterKeyRotationId.key(),
    R.Gatekeepers.key(),
  ]);
  const clusterKeys = need(dec(R.ClusterKeys.type, clusterKeysRaw, "the cluster key"), `cluster ${hex(clusterId)} has no key on chain`, { cluster: hex(clusterId) });
  const clusterPub = need(dec(R.KeyPublications.type, clusterPubRaw, "the cluster key's publication"), `the publication of cluster ${hex(clusterId)}'s key is not on chain`, { cluster: hex(clusterId) });
  const clusterBody = topicIs(clusterPub, ContractTopics.clusterKey) ? dec(ClusterKeyPublished, clusterPub.message.payload, "the cluster key's publication") : undefined;
  if (clusterPub.message.sender.tag !== "Gatekeeper" || !clusterBody || !bytesEqual(clusterBody.cluster, clusterId) || !sameKeys(clusterBody.keys, clusterKeys)) {
    throw unverified("provenance", `the stored publication of cluster ${hex(clusterId)}'s key is not the gatekeepers' publication of this key`, { cluster: hex(clusterId) });
  }
  const rotation = rotationRaw === undefined ? 0 : need(dec(R.MasterKeyRotationId.type, rotationRaw, "the master key rotation id"), "no rotation id");
  if (rotation > MASTER_ROTATIONS_MAX) throw unverified("provenance", `the master key was rotated ${rotation} times; this SDK follows at most ${MASTER_ROTATIONS_MAX}`);
  const ids = Array.from({ length: rotation + 1 }, (_, i) => i);
  const history = await read(ids.flatMap((i) => [R.MasterPubkeyHistory.key(i), R.KeyPublications.key({ tag: "Master", value: i })]));
  const masters = ids.map((i) => need(dec(R.MasterPubkeyHistory.type, history[2 * i], "a master public key"), `master key ${i} is not on chain`, { rotation: i }));
  const pubs = ids.map((i) => need(dec(R.KeyPublications.type, history[2 * i + 1], "a master key publication"), `the publication of master key ${i} is not on chain`, { rotation: i }));
  const signer = masters.findIndex((m) => signedBy(g, clusterPub, m));
  if (signer < 0) throw unverified("provenance", `cluster ${hex(clusterId)}'s key is not signed by any master key of this chain`, { cluster: hex(clusterId) });
  for (let i = signer; i >= 1; i--) {
    const r = topicIs(pubs[i], Topics.masterRotation) ? dec(MasterKeyRotated, pubs[i].message.payload, "a master key rotation") : undefined;
    const ok =
      r !== undefined &&
      pubs[i].message.sender.tag === "Gatekeeper" &&
      r.rotation_id === i &&
      bytesEqual(r.new_pubkey, masters[i]) &&
      verifyEd25519(masters[i - 1], rotationSigningPayload(i, r.new_pubkey), r.signature) &&
      signedBy(g, pubs[i], masters[i - 1]);
    if (!ok) throw unverified("provenance", `master key ${i} is not handed over from master key ${i - 1} by a signed rotation`, { rotation: i });
  }
  const first = pubs[0];
  const announcement = topicIs(first, Topics.masterPubkey) ? dec(MasterPubkeyAnnouncement, first.message.payload, "the master key announcement") : undefined;
  if (first.message.sender.tag !== "Worker" || !announcement || !bytesEqual(announcement.master_pubkey, masters[0])) {
    throw unverified("provenance", "the first master key was not announced by a gatekeeper worker", { rotation: 0 });
  }
  const announcer = first.message.sender.value as Uint8Array;
  if (!signedBy(g, first, announcer)) throw unverified("provenance", `the master key announcement is not signed by worker ${hex(announcer)}`, { worker: hex(announcer) });
  const worker = need(dec(R.Workers.type, (await read([R.Workers.key(announcer)]))[0], "the gatekeeper's registration"), `gatekeeper worker ${hex(announcer)} that announced the master key is not registered with attestation`, {
    worker: hex(announcer),
  });
  const gatekeepers = gatekeepersRaw === undefined ? [] : (dec(R.Gatekeepers.type, gatekeepersRaw, "the gatekeeper list") ?? []);
  return {
    block: { number: block.number, hash: hex(block.hash) },
    ...(contract ? { contract } : {}),
    cluster: { id: hex(clusterId), masterRotation: signer, ...published(clusterKeys, clusterPub) },
    masterKeys: masters.slice(0, signer + 1).map((m, i) => ({ rotation: i, pubkey: hex(m) })),
    gatekeeper: {
      worker: hex(announcer),
      tee: worker.tee.tag,
      confidenceLevel: worker.confidence_level,
      measurement: hex(worker.measurement),
      registeredAt: worker.registered_at,
      isGatekeeper: gatekeepers.some((k) => bytesEqual(k, announcer)),
    },
  };
}
