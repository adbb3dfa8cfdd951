/**
 * Key derivation (ARCHITECTURE §6): master key → cluster key → contract key, each step
 * HKDF-SHA256 with a label, and from every 32-byte secret an ed25519 signing key and an
 * x25519 encryption key. The salt is empty (RFC 5869 then uses a block of zeros): the parent
 * secret is already uniformly random, so the HKDF info alone separates the children.
 *
 * The info is length-framed: u32le(len(label)) ++ label, then u32le(len(field)) ++ field for each
 * field. Labels such as "cluster_key" and "cluster_key_share" are prefixes of each other, and a
 * plain concatenation of label and fields would let one (label, fields) pair spell another's
 * info (it only held while every id had a fixed length); framed, the pairs map to distinct bytes.
 */
import { backend } from "#crypto-backend";
import { concatBytes, utf8 } from "./bytes.ts";
import { PrimitivesError } from "./errors.ts";
import { keyPairFromSeed, type KeyPair } from "./keys.ts";
import { x25519KeyPair, type X25519KeyPair } from "./x25519.ts";

export const DERIVED_SECRET_LENGTH = 32;
/** RFC 5869 caps HKDF-SHA256 output at 255 blocks of 32 bytes. */
export const HKDF_SHA256_OUTPUT_MAX = 255 * 32;

const EMPTY = new Uint8Array(0);
const X25519_LABEL = "x25519";
/**
 * Largest HKDF info: node's hkdfSync refuses more than 1024 bytes, and the portable backend must
 * derive the same keys, so both refuse past it. The largest info in use (a cluster key share
 * nonce: label and three 32-byte fields, framed) is about 150 bytes.
 */
export const KDF_INFO_BYTES_MAX = 1024;

export type KdfErrorCode = "INVALID_SECRET" | "INVALID_LENGTH" | "INFO_TOO_LONG";

export class KdfError extends PrimitivesError<KdfErrorCode> {
  constructor(code: KdfErrorCode, message: string) {
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

function frame(part: Uint8Array): Uint8Array {
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, part.length, true);
  return concatBytes(length, part);
}

/** The HKDF info of a derivation: the label and each field, each prefixed by its u32le length. */
export function kdfInfo(label: string, fields: readonly Uint8Array[] = []): Uint8Array {
  const info = concatBytes(frame(utf8(label)), ...fields.map(frame));
  if (info.length > KDF_INFO_BYTES_MAX) {
    throw new KdfError("INFO_TOO_LONG", `the HKDF info of "${label}" is ${info.length} bytes, at most ${KDF_INFO_BYTES_MAX}: derive from shorter fields (hash long ones first)`);
  }
  return info;
}

/** The child secret of `parent` for `label` and `fields` (e.g. "cluster_key", [cluster id]), info framed by kdfInfo. */
export function deriveSecret(parent: Uint8Array, label: string, fields: readonly Uint8Array[] = []): Uint8Array {
  checkSecret(parent);
  return hkdfSha256(parent, kdfInfo(label, fields), DERIVED_SECRET_LENGTH);
}

/** The ed25519 signing key of a secret: the secret is the seed, so its public key is what the chain publishes. */
export function signingKeyFromSecret(secret: Uint8Array): KeyPair {
  checkSecret(secret);
  return keyPairFromSeed(secret, "ed25519");
}

/** The x25519 key of a secret: private key = deriveSecret(secret, "x25519"), so it is unrelated to the ed25519 seed. */
export function encryptionKeyFromSecret(secret: Uint8Array): X25519KeyPair {
  return x25519KeyPair(deriveSecret(secret, X25519_LABEL));
}
