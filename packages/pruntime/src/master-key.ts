/**
 * The gatekeeper's key arithmetic (ARCHITECTURE §6), all deterministic so that every
 * gatekeeper holding the master key produces the same bytes:
 *  - rotation: new secret = deriveSecret(old, "master_key_rotation", [rotation_id u32 le]);
 *  - random beacon: deriveSecret(master, "random_beacon", [block_number u32 le, previous random]);
 *    (deriveSecret frames the label and each field with its length, see primitives kdf.ts);
 *  - key distribution: the master key history encrypted to a gatekeeper's x25519 key, with a
 *    sender key and nonce derived from the master key, so no randomness enters the bytes.
 */
import { timingSafeEqual } from "node:crypto";
import {
  AES_GCM_NONCE_LENGTH,
  concatBytes,
  deriveSecret,
  encryptionKeyFromSecret,
  openEnvelope,
  sealEnvelope,
  signingKeyFromSecret,
  u32le,
  utf8,
  verifyEd25519,
  x25519SharedSecret,
  type KeyPair,
} from "@phala-ts/primitives";
import { decodeExact, type Infer } from "@phala-ts/runtime/types";
import { MasterKeyDistribution, MasterKeyHistory } from "@phala-ts/runtime/phala";
import { MASTER_HISTORY_MAX } from "./limits.ts";

export type MasterKeyRecord = Infer<typeof MasterKeyHistory>[number];
export type MasterKeyDistributionValue = Infer<typeof MasterKeyDistribution>;

const ROTATION_LABEL = "master_key_rotation";
const BEACON_LABEL = "random_beacon";
const DISTRIBUTION_SENDER_LABEL = "key_distribution";
const DISTRIBUTION_NONCE_LABEL = "key_distribution_nonce";
/** Envelope label of key shares; the recipient's pubkey is the associated data. */
export const KEY_DISTRIBUTION_ENVELOPE_LABEL = utf8("phala/key-distribution/v1");
export const MASTER_ROTATION_DOMAIN = utf8("phala/master-rotation/v1");
/** A fixed private key used only to ask "does this public key agree to a non-zero secret?". */
const PROBE_PRIVATE_KEY = new Uint8Array(32).fill(0x42);


export function rotateMasterSecret(old: Uint8Array, rotationId: number): Uint8Array {
  return deriveSecret(old, ROTATION_LABEL, [u32le(rotationId)]);
}

export function masterSigningKey(secret: Uint8Array): KeyPair {
  return signingKeyFromSecret(secret);
}

export function rotationSigningPayload(rotationId: number, newPubkey: Uint8Array): Uint8Array {
  return concatBytes(MASTER_ROTATION_DOMAIN, u32le(rotationId), newPubkey);
}

export function verifyRotationSignature(oldPubkey: Uint8Array, rotationId: number, newPubkey: Uint8Array, signature: Uint8Array): boolean {
  return verifyEd25519(oldPubkey, rotationSigningPayload(rotationId, newPubkey), signature);
}

export function beaconRandom(master: Uint8Array, blockNumber: number, previous: Uint8Array): Uint8Array {
  return deriveSecret(master, BEACON_LABEL, [u32le(blockNumber), previous]);
}

/**
 * Whether a key share can be encrypted to `ecdhPublicKey`. Small-order keys agree to the zero
 * secret with every private key, so probing with a fixed key decides it for everyone alike,
 * which keeps the replicated gatekeeper state machine deterministic.
 */
export function isUsableEcdhKey(ecdhPublicKey: Uint8Array): boolean {
  try {
    x25519SharedSecret(PROBE_PRIVATE_KEY, ecdhPublicKey);
    return true;
  } catch {
    return false;
  }
}

/** Encrypts the master key history to `dest`, under keys derived from the current master secret. */
export function encryptMasterKeyHistory(
  current: Uint8Array,
  currentRotationId: number,
  dest: Uint8Array,
  destEcdhPublicKey: Uint8Array,
  history: readonly MasterKeyRecord[],
): MasterKeyDistributionValue {
  const sender = encryptionKeyFromSecret(deriveSecret(current, DISTRIBUTION_SENDER_LABEL, [dest]));
  const nonce = deriveSecret(current, DISTRIBUTION_NONCE_LABEL, [dest, u32le(currentRotationId)]).slice(0, AES_GCM_NONCE_LENGTH);
  const plaintext = MasterKeyHistory.codec.enc([...history]);
  const env = sealEnvelope({
    recipientPublicKey: destEcdhPublicKey,
    label: KEY_DISTRIBUTION_ENVELOPE_LABEL,
    associatedData: dest,
    plaintext,
    senderPrivateKey: sender.privateKey,
    nonce,
  });
  plaintext.fill(0);
  return { dest, sender_ecdh_pubkey: env.senderPublicKey, nonce: env.nonce, ciphertext: env.ciphertext };
}

/** Decrypts a key share addressed to this worker; throws EnvelopeError or ScaleDecodeError if it is not one. */
export function decryptMasterKeyHistory(ecdhPrivateKey: Uint8Array, distribution: MasterKeyDistributionValue): MasterKeyRecord[] {
  const plaintext = openEnvelope({
    recipientPrivateKey: ecdhPrivateKey,
    label: KEY_DISTRIBUTION_ENVELOPE_LABEL,
    associatedData: distribution.dest,
    envelope: { senderPublicKey: distribution.sender_ecdh_pubkey, nonce: distribution.nonce, ciphertext: distribution.ciphertext },
  });
  try {
    const history = decodeExact(MasterKeyHistory, plaintext);
    if (history.length === 0 || history.length > MASTER_HISTORY_MAX) throw new RangeError(`a master key history has 1..${MASTER_HISTORY_MAX} entries`);
    return history;
  } finally {
    plaintext.fill(0);
  }
}

export function secretsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
