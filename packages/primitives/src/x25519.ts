/**
 * x25519 key agreement through node:crypto (OpenSSL), for encrypting to a worker's or a
 * contract's key (ARCHITECTURE §6). Keys are raw 32-byte strings as RFC 7748 defines them.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { concatBytes, fromHex } from "./bytes.ts";
import { PrimitivesError } from "./errors.ts";

export const X25519_KEY_LENGTH = 32;

// DER headers that wrap a raw 32-byte key into PKCS#8 (private) and SPKI (public) for OpenSSL.
const PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");
const SPKI_PREFIX = fromHex("302a300506032b656e032100");

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

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  checkLength("private", privateKey);
  return createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, privateKey)), format: "der", type: "pkcs8" });
}

/** The public key of a raw private key (any 32 bytes; clamping happens inside, as RFC 7748 says). */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(privateKey)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
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
  const priv = privateKeyObject(privateKey);
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: Buffer.from(concatBytes(SPKI_PREFIX, publicKey)), format: "der", type: "spki" });
  } catch {
    throw new X25519Error("INVALID_KEY", "the peer's x25519 public key is not a valid key; ask the sender for its correct key");
  }
  try {
    return new Uint8Array(diffieHellman({ privateKey: priv, publicKey: pub }));
  } catch {
    throw new X25519Error("WEAK_PUBLIC_KEY", "the peer's x25519 public key has small order; no secret can be agreed with it");
  }
}
