import { blake2b512, concatBytes, u32le, utf8 } from "@phala-ts/primitives";
import { T, type Infer } from "../../types/index.ts";
import { AccountId32, H256 } from "../../types/std.ts";

export const WorkerPublicKey = T.fixedBytes(32);

/**
 * What a worker registers, bound into its attestation:
 * `report_data = blake2b-512(SCALE(WorkerRegistrationInfo))` (ARCHITECTURE §5).
 */
export const WorkerRegistrationInfo = T.struct(["phala_pallets", "registry", "WorkerRegistrationInfo"], {
  version: T.u32,
  genesis_hash: H256,
  /** ed25519 identity key: signs egress, endpoints and query answers. */
  pubkey: WorkerPublicKey,
  /** x25519 key that secrets for this worker are encrypted to. */
  ecdh_pubkey: T.fixedBytes(32),
  /** pRuntime's version; registrations from pRuntimes the chain no longer accepts are refused. */
  runtime_version: T.u32,
  operator: T.option(AccountId32),
});
export type WorkerRegistrationInfoValue = Infer<typeof WorkerRegistrationInfo>;

export const REGISTRATION_INFO_VERSION = 1;

export function registrationReportData(info: WorkerRegistrationInfoValue): Uint8Array {
  return blake2b512(WorkerRegistrationInfo.codec.enc(info));
}

/** Domain of a worker's endpoint signature: ed25519 over this ++ SCALE(WorkerEndpointPayload). */
export const ENDPOINT_DOMAIN = new TextEncoder().encode("phala/endpoint/v1");

/** Longest endpoint URL the chain stores, in UTF-8 bytes (longer ones fail with EndpointTooLong). */
export const ENDPOINT_BYTES_MAX = 512;

/** A worker's public endpoint, signed by its identity key at a block height (freshness is checked against it). */
export const WorkerEndpointPayload = T.struct(["phala_pallets", "registry", "WorkerEndpointPayload"], {
  pubkey: WorkerPublicKey,
  endpoint: T.str,
  signed_at: T.u32,
});
export type WorkerEndpointPayloadValue = Infer<typeof WorkerEndpointPayload>;

export const TeeKind = T.enumeration(["phala_pallets", "registry", "TeeKind"], {
  Dev: { index: 0 },
  Sgx: { index: 1 },
  Tdx: { index: 2 },
  SevSnp: { index: 3 },
});

export const WorkerInfo = T.struct(["phala_pallets", "registry", "WorkerInfo"], {
  pubkey: WorkerPublicKey,
  ecdh_pubkey: T.fixedBytes(32),
  runtime_version: T.u32,
  operator: T.option(AccountId32),
  tee: TeeKind,
  /** 1 (best) .. 5; 128 for dev evidence. */
  confidence_level: T.u8,
  /** The attested measurement (MRENCLAVE, MRTD, SNP measurement or dev build hash). */
  measurement: T.bytes,
  registered_at: T.u32,
});
export type WorkerInfoValue = Infer<typeof WorkerInfo>;

/** PhalaRegistry → pRuntimes, on topic `phala/registry/event`. */
export const RegistryEvent = T.enumeration(["phala_pallets", "registry", "RegistryEvent"], {
  WorkerRegistered: { index: 0, fields: { pubkey: WorkerPublicKey, ecdh_pubkey: T.fixedBytes(32), confidence_level: T.u8 } },
  GatekeeperRegistered: { index: 1, fields: { pubkey: WorkerPublicKey, ecdh_pubkey: T.fixedBytes(32) } },
  GatekeeperUnregistered: { index: 2, fields: { pubkey: WorkerPublicKey } },
  MasterKeyRotationRequested: { index: 3, fields: { rotation_id: T.u32 } },
});
export type RegistryEventValue = Infer<typeof RegistryEvent>;

/** A gatekeeper worker announces the master public key it generated (the first one wins). */
export const MasterPubkeyAnnouncement = T.struct(["phala_pallets", "registry", "MasterPubkeyAnnouncement"], {
  master_pubkey: T.fixedBytes(32),
});

/**
 * The master key and its rotation history, encrypted to a new gatekeeper's x25519 key with
 * a sender key and nonce derived from the master key, so every gatekeeper emits these bytes.
 */
export const MasterKeyDistribution = T.struct(["phala_pallets", "registry", "MasterKeyDistribution"], {
  dest: WorkerPublicKey,
  sender_ecdh_pubkey: T.fixedBytes(32),
  nonce: T.fixedBytes(12),
  ciphertext: T.bytes,
});

/** Plaintext of MasterKeyDistribution: every master secret so far, oldest first. */
export const MasterKeyHistory = T.vec(T.struct(["phala_pallets", "registry", "MasterKeyRecord"], { rotation_id: T.u32, secret: T.fixedBytes(32) }));

export const RandomBeacon = T.struct(["phala_pallets", "registry", "RandomBeacon"], {
  block_number: T.u32,
  random: T.fixedBytes(32),
});

export const MasterKeyRotated = T.struct(["phala_pallets", "registry", "MasterKeyRotated"], {
  rotation_id: T.u32,
  new_pubkey: T.fixedBytes(32),
  /** By the old master key over `"phala/master-rotation/v1" ++ rotation_id (u32 le) ++ new_pubkey`. */
  signature: T.fixedBytes(64),
});

/**
 * Whose key a stored publication announces: the master key of a rotation (0 is the first,
 * announced by a gatekeeper worker), a cluster's keys or a contract's keys.
 */
export const KeyOwner = T.enumeration(["phala_pallets", "registry", "KeyOwner"], {
  Master: { index: 0, fields: [T.u32], typeNames: ["u32"] },
  Cluster: { index: 1, fields: [H256], typeNames: ["H256"] },
  Contract: { index: 2, fields: [H256], typeNames: ["H256"] },
});
export type KeyOwnerValue = Infer<typeof KeyOwner>;

/** Domain of the old master key's signature over a rotation. */
export const ROTATION_DOMAIN = utf8("phala/master-rotation/v1");

/** Bytes the old master key signs to hand over to the new one: domain, rotation id, new public key. */
export function rotationSigningPayload(rotationId: number, newPubkey: Uint8Array): Uint8Array {
  return concatBytes(ROTATION_DOMAIN, u32le(rotationId), newPubkey);
}
