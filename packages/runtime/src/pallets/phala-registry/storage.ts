import { T } from "../../types/index.ts";
import { H256 } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { PublicKeys } from "../phala-phat-contracts/types.ts";
import { SignedMessage } from "../phala-mq/types.ts";
import { KeyOwner, RandomBeacon, WorkerEndpointPayload, WorkerInfo, WorkerPublicKey } from "./types.ts";

const s = palletStorage("PhalaRegistry");

export const PhalaRegistryStorage = {
  Workers: s.map("Workers", "Blake2_128Concat", WorkerPublicKey, WorkerInfo, { docs: ["Registered workers by identity key."] }),
  Endpoints: s.map("Endpoints", "Blake2_128Concat", WorkerPublicKey, WorkerEndpointPayload, { docs: ["Each worker's latest signed endpoint."] }),
  Gatekeepers: s.value("Gatekeepers", T.vec(WorkerPublicKey), { default: [], docs: ["Workers chosen by governance to hold the master key."] }),
  GatekeeperMasterPubkey: s.value("GatekeeperMasterPubkey", T.fixedBytes(32), { docs: ["The ed25519 public key of the current master key."] }),
  /** Rotation id of the current master key (0 for the first one). */
  MasterKeyRotationId: s.value("MasterKeyRotationId", T.u32, { default: 0, docs: ["Rotation id of the current master key."] }),
  /** Highest rotation requested by governance; gatekeepers catch up to it. */
  RequestedRotationId: s.value("RequestedRotationId", T.u32, { default: 0, docs: ["The last master key rotation governance requested."] }),
  MasterPubkeyHistory: s.map("MasterPubkeyHistory", "Twox64Concat", T.u32, T.fixedBytes(32), { docs: ["Every master public key by rotation id."] }),
  LastRandomBeacon: s.value("LastRandomBeacon", RandomBeacon, { docs: ["The gatekeepers' latest random beacon."] }),
  /** SCALE of the attestation package's policy; registrations are verified under it. */
  AttestationPolicy: s.value("AttestationPolicy", T.bytes, { docs: ["The attestation policy workers are verified under."] }),
  ClusterKeys: s.map("ClusterKeys", "Blake2_128Concat", H256, PublicKeys, { docs: ["Public keys of clusters, published by gatekeepers."] }),
  ContractKeys: s.map("ContractKeys", "Blake2_128Concat", H256, PublicKeys, { docs: ["Public keys of contracts, published by their clusters."] }),
  /**
   * The signed message that published each master, cluster and contract key, kept as it was
   * signed, so a client that trusts only proofs can check every link of a key's provenance
   * itself instead of trusting that the chain checked it.
   */
  KeyPublications: s.map("KeyPublications", "Blake2_128Concat", KeyOwner, SignedMessage, {
    docs: ["The signed message that published each master, cluster and contract key."],
  }),
};
