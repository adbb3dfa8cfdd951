/** Substrate's `MultiSignature::verify` against an AccountId32 signer. */
import { bytesEqual } from "./bytes.ts";
import { ecdsaRecover } from "./ecdsa.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { blake2b256 } from "./hashing.ts";
import type { KeyType } from "./keys.ts";
import { verifySr25519 } from "./sr25519.ts";

/** Substrate signs an extrinsic payload longer than this many bytes by its blake2b-256 hash. */
export const SIGNING_PAYLOAD_HASH_THRESHOLD = 256;
const ACCOUNT_ID_LENGTH = 32;

export interface MultiSignature {
  type: KeyType;
  signature: Uint8Array;
}

/**
 * The bytes a signer signs for an encoded extrinsic payload: the payload itself
 * when it is at most 256 bytes, else its blake2b-256 (`SignedPayload::using_encoded`).
 * `verifyMultiSignature` and `KeyPair.sign` take the message as given; apply this first.
 */
export function signingPayload(raw: Uint8Array): Uint8Array {
  return raw.length > SIGNING_PAYLOAD_HASH_THRESHOLD ? blake2b256(raw) : raw;
}

/**
 * Verifies `sig` over `message` for the AccountId32 `signer`, as
 * `sp_runtime::MultiSignature::verify`: sr25519/ed25519 use `signer` as the
 * public key; ecdsa recovers the compressed key from the signature and compares
 * blake2b-256 of it with `signer`. Returns `false`, never throws, on any
 * malformed signature, key or signer.
 */
export function verifyMultiSignature(sig: MultiSignature, message: Uint8Array, signer: Uint8Array): boolean {
  if (!(signer instanceof Uint8Array) || signer.length !== ACCOUNT_ID_LENGTH) return false;
  if (!(sig?.signature instanceof Uint8Array) || !(message instanceof Uint8Array)) return false;
  switch (sig.type) {
    case "sr25519":
      return verifySr25519(signer, message, sig.signature);
    case "ed25519":
      return verifyEd25519(signer, message, sig.signature);
    case "ecdsa": {
      const publicKey = ecdsaRecover(message, sig.signature);
      return publicKey !== undefined && bytesEqual(blake2b256(publicKey), signer);
    }
    default:
      return false;
  }
}
