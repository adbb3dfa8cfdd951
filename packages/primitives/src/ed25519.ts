/**
 * ed25519 (OpenSSL in Node, @noble in browsers), with Substrate's hard derivation.
 *
 * Verification follows RFC 8032 as OpenSSL implements it. Substrate verifies with
 * ed25519-zebra (ZIP-215 rules), which additionally accepts some signatures built
 * from small-order or non-canonical points; honest signers never produce those.
 */
import { backend } from "#crypto-backend";
import { str } from "scale-ts";
import { concatBytes } from "./bytes.ts";
import { blake2b256 } from "./hashing.ts";

export const ED25519_SEED_LENGTH = 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

export { ED25519_KEY_CACHE_SIZE_MAX } from "./crypto-backend/types.ts";
/** SCALE("Ed25519HDKD"), the domain tag of `sp_core::ed25519` hard derivation. */
const HDKD_TAG = str.enc("Ed25519HDKD");

function assertLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
}

/** A signing function for a raw 32-byte seed, with the key prepared once for repeated use. */
export function ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  assertLength("ed25519 seed", seed, ED25519_SEED_LENGTH);
  return backend.ed25519Signer(seed);
}

export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  assertLength("ed25519 seed", seed, ED25519_SEED_LENGTH);
  return backend.ed25519PublicKey(seed);
}

/** Deterministic RFC 8032 signature (64 bytes). */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519Signer(seed)(message);
}

/** `sp_core::ed25519` hard derivation: blake2b-256(SCALE("Ed25519HDKD") ++ seed ++ chainCode). */
export function ed25519DeriveHard(seed: Uint8Array, chainCode: Uint8Array): Uint8Array {
  assertLength("ed25519 seed", seed, ED25519_SEED_LENGTH);
  assertLength("chain code", chainCode, 32);
  return blake2b256(concatBytes(HDKD_TAG, seed, chainCode));
}

/**
 * Verifies an ed25519 signature (used for finality certificates as well as
 * MultiSignature). Malformed keys or signatures give `false`, never an exception.
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  return backend.ed25519Verify(publicKey, message, signature);
}
