/**
 * ECDSA over secp256k1 as Substrate uses it: the message is hashed with
 * blake2b-256, signatures are 65 bytes `r ++ s ++ recoveryId`, public keys are
 * 33-byte compressed points and the AccountId is blake2b-256 of that key.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { str } from "scale-ts";
import { bytesEqual, concatBytes } from "./bytes.ts";
import { blake2b256 } from "./hashing.ts";

export const ECDSA_SEED_LENGTH = 32;
export const ECDSA_PUBLIC_KEY_LENGTH = 33;
export const ECDSA_SIGNATURE_LENGTH = 65;
/** SCALE("Secp256k1HDKD"), the domain tag of `sp_core::ecdsa` hard derivation. */
const HDKD_TAG = str.enc("Secp256k1HDKD");

function assertLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
}

/** A 32-byte seed is usable as a secret key when it is in 1..n-1 (as `secp256k1::SecretKey::from_slice` requires). */
export function isValidEcdsaSeed(seed: Uint8Array): boolean {
  return seed.length === ECDSA_SEED_LENGTH && secp256k1.utils.isValidSecretKey(seed);
}

/** 33-byte compressed public key. */
export function ecdsaPublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  assertLength("ecdsa seed", seed, ECDSA_SEED_LENGTH);
  return secp256k1.getPublicKey(seed, true);
}

/** `sp_core::ecdsa` hard derivation: blake2b-256(SCALE("Secp256k1HDKD") ++ seed ++ chainCode). */
export function ecdsaDeriveHard(seed: Uint8Array, chainCode: Uint8Array): Uint8Array {
  assertLength("ecdsa seed", seed, ECDSA_SEED_LENGTH);
  assertLength("chain code", chainCode, 32);
  return blake2b256(concatBytes(HDKD_TAG, seed, chainCode));
}

/** Signs blake2b-256(message) deterministically (RFC 6979, low s); returns r ++ s ++ recoveryId. */
export function ecdsaSign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  const recovered = secp256k1.sign(blake2b256(message), seed, { prehash: false, format: "recovered" });
  // noble lays out recoveryId ++ r ++ s; Substrate puts the recovery id last.
  return concatBytes(recovered.subarray(1, ECDSA_SIGNATURE_LENGTH), recovered.subarray(0, 1));
}

/**
 * Recovers the compressed public key that signed `message`, as
 * `sp_io::crypto::secp256k1_ecdsa_recover_compressed` does (recovery ids 0..3,
 * or 27..30 Ethereum-style). Returns `undefined` for any invalid signature.
 */
export function ecdsaRecover(message: Uint8Array, signature: Uint8Array): Uint8Array | undefined {
  if (signature.length !== ECDSA_SIGNATURE_LENGTH) return undefined;
  const v = signature[64];
  const recoveryId = v > 26 ? v - 27 : v;
  if (recoveryId > 3) return undefined;
  const nobleLayout = concatBytes(Uint8Array.of(recoveryId), signature.subarray(0, 64));
  try {
    return secp256k1.recoverPublicKey(nobleLayout, blake2b256(message), { prehash: false });
  } catch {
    // noble throws for r or s out of range or a recovery point off the curve: not a valid signature.
    return undefined;
  }
}

/** Verifies by recovery against a 33-byte compressed key; malformed input gives `false`. */
export function verifyEcdsa(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ECDSA_PUBLIC_KEY_LENGTH) return false;
  const recovered = ecdsaRecover(message, signature);
  return recovered !== undefined && bytesEqual(recovered, publicKey);
}
