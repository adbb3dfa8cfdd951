/**
 * x25519 key agreement (OpenSSL in Node, @noble in browsers), for encrypting to a worker's or a
 * contract's key (ARCHITECTURE §6). Keys are raw 32-byte strings as RFC 7748 defines them.
 */
import { backend } from "#crypto-backend";
import { concatBytes, toHex } from "./bytes.ts";
import { blake2b128 } from "./hashing.ts";
import { PrimitivesError } from "./errors.ts";

export const X25519_KEY_LENGTH = 32;

export type X25519ErrorCode = "INVALID_KEY" | "WEAK_PUBLIC_KEY";

export class X25519Error extends PrimitivesError<X25519ErrorCode> {
  constructor(code: X25519ErrorCode, message: string) {
    super(code, message);
    this.name = "X25519Error";
  }
}

export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

function checkLength(what: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_LENGTH) {
    throw new X25519Error("INVALID_KEY", `an x25519 ${what} key is ${X25519_KEY_LENGTH} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
  }
}

/**
 * Names a private key for the backend's cache of prepared keys without revealing it: a keyed
 * hash, so the cache never holds the key bytes themselves.
 */
function cacheId(privateKey: Uint8Array): string {
  return toHex(blake2b128(concatBytes(CACHE_DOMAIN, privateKey)));
}
const CACHE_DOMAIN = new TextEncoder().encode("phala/x25519-key-cache");

/** The public key of a raw private key (any 32 bytes; clamping happens inside, as RFC 7748 says). */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  checkLength("private", privateKey);
  return backend.x25519PublicKey(privateKey, cacheId(privateKey));
}

/** A fresh random key pair (in Node generated inside OpenSSL and kept ready for the agreement that follows). */
export function x25519GenerateKeyPair(): X25519KeyPair {
  const { privateKey, publicKey } = backend.x25519Generate(cacheId);
  return Object.freeze({ privateKey, publicKey });
}

export function x25519KeyPair(privateKey: Uint8Array): X25519KeyPair {
  return Object.freeze({ privateKey: privateKey.slice(), publicKey: x25519PublicKey(privateKey) });
}

/**
 * The shared secret of `privateKey` and a peer's `publicKey`. A peer key of small order would
 * make the secret all zeros (known to anyone); OpenSSL refuses it and so do we, with WEAK_PUBLIC_KEY.
 */
export function x25519SharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkLength("private", privateKey);
  checkLength("public", publicKey);
  const secret = backend.x25519SharedSecret(privateKey, cacheId(privateKey), publicKey);
  if (secret === "INVALID_KEY") throw new X25519Error("INVALID_KEY", "the peer's x25519 public key is not a valid key; ask the sender for its correct key");
  if (secret === "WEAK_PUBLIC_KEY") throw new X25519Error("WEAK_PUBLIC_KEY", "the peer's x25519 public key has small order; no secret can be agreed with it");
  return secret;
}
