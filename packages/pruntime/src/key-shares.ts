/**
 * Cluster and contract keys (ARCHITECTURE §6), all deterministic so that every holder of the
 * parent secret computes the same bytes:
 *  - cluster secret  = deriveSecret(master secret of the cluster's rotation, "cluster_key", [cluster id]);
 *  - contract secret = deriveSecret(cluster secret, "contract_key", [contract id]);
 *    (deriveSecret frames the label and each field with its length, see primitives kdf.ts);
 *  - from each secret an ed25519 key (published `pubkey`) and an x25519 key (`ecdh_pubkey`);
 *  - a cluster key share: the cluster secret encrypted to a member's x25519 key, with a sender
 *    key and nonce derived from the master secret (as master-key distribution does), so every
 *    gatekeeper emits identical bytes and the chain's sequence check keeps one copy.
 */
import {
  AES_GCM_NONCE_LENGTH,
  blake2b256,
  concatBytes,
  deriveSecret,
  encryptionKeyFromSecret,
  openEnvelope,
  sealEnvelope,
  signingKeyFromSecret,
  utf8,
} from "@phala-ts/primitives";
import type { Infer } from "@phala-ts/runtime/types";
import type { KeyShare, PublicKeysValue } from "@phala-ts/runtime/phala";

export type KeyShareValue = Infer<typeof KeyShare>;

const CLUSTER_KEY_LABEL = "cluster_key";
const CONTRACT_KEY_LABEL = "contract_key";
const SHARE_SENDER_LABEL = "cluster_key_share";
const SHARE_NONCE_LABEL = "cluster_key_share_nonce";
const RESULT_NONCE_LABEL = "command_result_nonce";
/** Envelope label of cluster key shares; AAD = cluster id ++ member pubkey. */
export const CLUSTER_KEY_SHARE_LABEL = utf8("phala/cluster-key-share/v1");
export const CLUSTER_SECRET_LENGTH = 32;

export function clusterSecretOf(masterSecret: Uint8Array, clusterId: Uint8Array): Uint8Array {
  return deriveSecret(masterSecret, CLUSTER_KEY_LABEL, [clusterId]);
}

export function contractSecretOf(clusterSecret: Uint8Array, contractId: Uint8Array): Uint8Array {
  return deriveSecret(clusterSecret, CONTRACT_KEY_LABEL, [contractId]);
}

/** The public keys a secret is published under. */
export function publicKeysOf(secret: Uint8Array): PublicKeysValue {
  return { pubkey: signingKeyFromSecret(secret).publicKey, ecdh_pubkey: encryptionKeyFromSecret(secret).publicKey };
}

function shareAssociatedData(clusterId: Uint8Array, worker: Uint8Array): Uint8Array {
  return concatBytes(clusterId, worker);
}

/**
 * The share of `clusterSecret` for one member. The sender key depends on (cluster, worker) and
 * the nonce also on the worker's x25519 key, so no two different plaintexts ever meet under
 * one key and nonce, even when a worker re-registers with another key.
 */
export function encryptClusterKeyShare(
  masterSecret: Uint8Array,
  clusterId: Uint8Array,
  worker: Uint8Array,
  workerEcdhPublicKey: Uint8Array,
  clusterSecret: Uint8Array,
): KeyShareValue {
  const senderSecret = deriveSecret(masterSecret, SHARE_SENDER_LABEL, [clusterId, worker]);
  const sender = encryptionKeyFromSecret(senderSecret);
  senderSecret.fill(0);
  const nonce = deriveSecret(masterSecret, SHARE_NONCE_LABEL, [clusterId, worker, workerEcdhPublicKey]).slice(0, AES_GCM_NONCE_LENGTH);
  const env = sealEnvelope({
    recipientPublicKey: workerEcdhPublicKey,
    label: CLUSTER_KEY_SHARE_LABEL,
    associatedData: shareAssociatedData(clusterId, worker),
    plaintext: clusterSecret,
    senderPrivateKey: sender.privateKey,
    nonce,
  });
  sender.privateKey.fill(0);
  return { worker, sender_ecdh_pubkey: env.senderPublicKey, nonce: env.nonce, ciphertext: env.ciphertext };
}

/** Opens a share addressed to this worker; throws EnvelopeError if it is not one, RangeError if it is not a secret. */
export function decryptClusterKeyShare(ecdhPrivateKey: Uint8Array, clusterId: Uint8Array, share: KeyShareValue): Uint8Array {
  const secret = openEnvelope({
    recipientPrivateKey: ecdhPrivateKey,
    label: CLUSTER_KEY_SHARE_LABEL,
    associatedData: shareAssociatedData(clusterId, share.worker),
    envelope: { senderPublicKey: share.sender_ecdh_pubkey, nonce: share.nonce, ciphertext: share.ciphertext },
  });
  if (secret.length !== CLUSTER_SECRET_LENGTH) {
    secret.fill(0);
    throw new RangeError(`a cluster secret is ${CLUSTER_SECRET_LENGTH} bytes`);
  }
  return secret;
}

/**
 * The nonce of the envelope that carries a command's result. Results are sealed from the
 * contract's x25519 key (so the sender can check who answered), and every member must emit
 * the same bytes, so the nonce is derived; the command's position makes it unique even when
 * the same ciphertext is pushed twice.
 */
export function commandResultNonce(contractSecret: Uint8Array, commandId: Uint8Array, position: bigint): Uint8Array {
  const pos = new Uint8Array(8);
  new DataView(pos.buffer).setBigUint64(0, position, true);
  return deriveSecret(contractSecret, RESULT_NONCE_LABEL, [commandId, pos]).slice(0, AES_GCM_NONCE_LENGTH);
}

/** The seed of a call's PRNG: blake2b-256(contract secret ++ message id) (contract ABI, "Determinism"). */
export function callSeed(contractSecret: Uint8Array, messageId: Uint8Array): Uint8Array {
  return blake2b256(concatBytes(contractSecret, messageId));
}
