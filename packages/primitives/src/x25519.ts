/**
 * x25519 key agreement through node:crypto (OpenSSL), for encrypting to a worker's or a
 * contract's key (ARCHITECTURE §6). Keys are raw 32-byte strings as RFC 7748 defines them.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { concatBytes, fromHex } from "./bytes.ts";
import { blake2b128 } from "./hashing.ts";
import { PrimitivesError } from "./errors.ts";

export const X25519_KEY_LENGTH = 32;

// The DER header that wraps a raw 32-byte private key into PKCS#8 for OpenSSL.
const PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");

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
 * OpenSSL key objects of recently used private keys. Importing a key costs far more than the
 * agreement itself, and workers use the same few keys (their own, their contracts') for every
 * envelope. Entries are found by a hash of the key, so the map never holds the key bytes.
 */
const PRIVATE_KEY_CACHE_MAX = 1024;
const privateKeyCache = new Map<string, { key: KeyObject; publicKey: Uint8Array }>();

function cacheId(privateKey: Uint8Array): string {
  return Buffer.from(blake2b128(concatBytes(CACHE_DOMAIN, privateKey))).toString("hex");
}
const CACHE_DOMAIN = new TextEncoder().encode("phala/x25519-key-cache");

function privateKeyEntry(privateKey: Uint8Array): { key: KeyObject; publicKey: Uint8Array } {
  checkLength("private", privateKey);
  const id = cacheId(privateKey);
  const hit = privateKeyCache.get(id);
  if (hit) {
    // Most recently used last, so the oldest entry is the first one the map yields.
    privateKeyCache.delete(id);
    privateKeyCache.set(id, hit);
    return hit;
  }
  const key = createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, privateKey)), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(key).export({ format: "jwk" }) as { x: string };
  const entry = { key, publicKey: new Uint8Array(Buffer.from(jwk.x, "base64url")) };
  remember(id, entry);
  return entry;
}

function remember(id: string, entry: { key: KeyObject; publicKey: Uint8Array }): void {
  if (privateKeyCache.size >= PRIVATE_KEY_CACHE_MAX) privateKeyCache.delete(privateKeyCache.keys().next().value!);
  privateKeyCache.set(id, entry);
}

/** A peer's public key; JWK import is an order of magnitude cheaper than DER in OpenSSL 3. */
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
  } catch {
    throw new X25519Error("INVALID_KEY", "the peer's x25519 public key is not a valid key; ask the sender for its correct key");
  }
}

/** The public key of a raw private key (any 32 bytes; clamping happens inside, as RFC 7748 says). */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return privateKeyEntry(privateKey).publicKey.slice();
}

/** A fresh random key pair, generated inside OpenSSL (and kept ready for the agreement that follows). */
export function x25519GenerateKeyPair(): X25519KeyPair {
  const { privateKey: key } = generateKeyPairSync("x25519");
  const jwk = key.export({ format: "jwk" }) as { d: string; x: string };
  const privateKey = new Uint8Array(Buffer.from(jwk.d, "base64url"));
  const publicKey = new Uint8Array(Buffer.from(jwk.x, "base64url"));
  remember(cacheId(privateKey), { key, publicKey });
  return Object.freeze({ privateKey, publicKey: publicKey.slice() });
}

export function x25519KeyPair(privateKey: Uint8Array): X25519KeyPair {
  return Object.freeze({ privateKey: privateKey.slice(), publicKey: x25519PublicKey(privateKey) });
}

/**
 * The shared secret of `privateKey` and a peer's `publicKey`. A peer key of small order would
 * make the secret all zeros (known to anyone); OpenSSL refuses it and so do we, with WEAK_PUBLIC_KEY.
 */
export function x25519SharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkLength("public", publicKey);
  const priv = privateKeyEntry(privateKey).key;
  const pub = publicKeyObject(publicKey);
  try {
    return new Uint8Array(diffieHellman({ privateKey: priv, publicKey: pub }));
  } catch {
    throw new X25519Error("WEAK_PUBLIC_KEY", "the peer's x25519 public key has small order; no secret can be agreed with it");
  }
}
