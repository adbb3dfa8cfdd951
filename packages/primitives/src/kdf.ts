/**
 * Key derivation (ARCHITECTURE §6): master key → cluster key → contract key, each step
 * HKDF-SHA256 with a label, and from every 32-byte secret an ed25519 signing key and an
 * x25519 encryption key. The salt is empty (RFC 5869 then uses a block of zeros): the parent
 * secret is already uniformly random, so the label alone separates the children.
 */
import { backend } from "#crypto-backend";
import { utf8 } from "./bytes.ts";
import { PrimitivesError } from "./errors.ts";
import { keyPairFromSeed, type KeyPair } from "./keys.ts";
import { x25519KeyPair, type X25519KeyPair } from "./x25519.ts";

export const DERIVED_SECRET_LENGTH = 32;
/** RFC 5869 caps HKDF-SHA256 output at 255 blocks of 32 bytes. */
export const HKDF_SHA256_OUTPUT_MAX = 255 * 32;

const EMPTY = new Uint8Array(0);
const X25519_LABEL = utf8("x25519");

export class KdfError extends PrimitivesError<"INVALID_SECRET" | "INVALID_LENGTH"> {
  constructor(code: "INVALID_SECRET" | "INVALID_LENGTH", message: string) {
    super(code, message);
    this.name = "KdfError";
  }
}

/** HKDF-SHA256 (RFC 5869) of `ikm` with `info`, `length` bytes out. */
export function hkdfSha256(ikm: Uint8Array, info: Uint8Array, length: number = DERIVED_SECRET_LENGTH, salt: Uint8Array = EMPTY): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_OUTPUT_MAX) {
    throw new KdfError("INVALID_LENGTH", `HKDF-SHA256 output is 1..${HKDF_SHA256_OUTPUT_MAX} bytes, asked for ${length}`);
  }
  return backend.hkdfSha256(ikm, salt, info, length);
}

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length !== DERIVED_SECRET_LENGTH) {
    throw new KdfError("INVALID_SECRET", `a parent secret is ${DERIVED_SECRET_LENGTH} bytes, got ${secret instanceof Uint8Array ? secret.length : typeof secret}`);
  }
}

/** The child secret of `parent` for `label` (e.g. `"cluster_key" ++ cluster id`). */
export function deriveSecret(parent: Uint8Array, label: Uint8Array): Uint8Array {
  checkSecret(parent);
  return hkdfSha256(parent, label, DERIVED_SECRET_LENGTH);
}

/** The ed25519 signing key of a secret: the secret is the seed, so its public key is what the chain publishes. */
export function signingKeyFromSecret(secret: Uint8Array): KeyPair {
  checkSecret(secret);
  return keyPairFromSeed(secret, "ed25519");
}

/** The x25519 key of a secret: private key = HKDF(secret, "x25519"), so it is unrelated to the ed25519 seed. */
export function encryptionKeyFromSecret(secret: Uint8Array): X25519KeyPair {
  return x25519KeyPair(deriveSecret(secret, X25519_LABEL));
}
