/**
 * ed25519 through node:crypto (OpenSSL), with Substrate's hard derivation.
 *
 * Verification follows RFC 8032 as OpenSSL implements it. Substrate verifies with
 * ed25519-zebra (ZIP-215 rules), which additionally accepts some signatures built
 * from small-order or non-canonical points; honest signers never produce those.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { str } from "scale-ts";
import { concatBytes, fromHex, toHex } from "./bytes.ts";
import { blake2b256 } from "./hashing.ts";

export const ED25519_SEED_LENGTH = 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

// DER headers that wrap a raw 32-byte key into PKCS#8 (private) and SPKI (public) for OpenSSL.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
const SPKI_PREFIX = fromHex("302a300506032b6570032100");
/**
 * Parsed public keys kept for reuse: building an OpenSSL key costs about as much as
 * a verification, and finality certificates are signed by the same few validators
 * block after block. 1024 keys cover any realistic validator set; the oldest entry
 * is evicted first.
 */
export const ED25519_KEY_CACHE_SIZE_MAX = 1024;
const publicKeyCache = new Map<string, KeyObject>();
/** SCALE("Ed25519HDKD"), the domain tag of `sp_core::ed25519` hard derivation. */
const HDKD_TAG = str.enc("Ed25519HDKD");

function assertLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
}

/** The OpenSSL private key for a raw 32-byte seed. */
export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  assertLength("ed25519 seed", seed, ED25519_SEED_LENGTH);
  return createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)), format: "der", type: "pkcs8" });
}

export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/** Deterministic RFC 8032 signature (64 bytes). */
export function ed25519Sign(privateKey: KeyObject | Uint8Array, message: Uint8Array): Uint8Array {
  const key = privateKey instanceof Uint8Array ? ed25519PrivateKeyObject(privateKey) : privateKey;
  return new Uint8Array(nodeSign(null, message, key));
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
  const cacheKey = toHex(publicKey);
  let key = publicKeyCache.get(cacheKey);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(concatBytes(SPKI_PREFIX, publicKey)), format: "der", type: "spki" });
    } catch {
      // OpenSSL refuses some 32-byte strings as keys; such a key verifies nothing.
      return false;
    }
    if (publicKeyCache.size >= ED25519_KEY_CACHE_SIZE_MAX) {
      const oldest = publicKeyCache.keys().next().value;
      if (oldest !== undefined) publicKeyCache.delete(oldest);
    }
    publicKeyCache.set(cacheKey, key);
  }
  return nodeVerify(null, message, key, signature);
}
