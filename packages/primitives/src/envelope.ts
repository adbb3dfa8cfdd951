/**
 * The envelope for encrypted inputs, answers and key shares (ARCHITECTURE §6): the sender's
 * x25519 key (ephemeral, or derived when every sender must emit the same bytes), a key
 * HKDF-SHA256(shared secret, label ++ sender public ++ recipient public), and AES-256-GCM with
 * a 96-bit nonce and caller-chosen associated data (the contract id or query id).
 * Binding both public keys into the key stops an attacker from swapping the sender key.
 */
import { backend } from "#crypto-backend";
import { concatBytes, toHex } from "./bytes.ts";
import { PrimitivesError } from "./errors.ts";
import { hkdfSha256 } from "./kdf.ts";
import { x25519GenerateKeyPair, x25519KeyPair, x25519SharedSecret, X25519_KEY_LENGTH } from "./x25519.ts";

export const AES_GCM_KEY_LENGTH = 32;
export const AES_GCM_NONCE_LENGTH = 12;
export const AES_GCM_TAG_LENGTH = 16;

export type EnvelopeErrorCode = "DECRYPT_FAILED" | "INVALID_ARGUMENT";

export class EnvelopeError extends PrimitivesError<EnvelopeErrorCode> {
  constructor(code: EnvelopeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "EnvelopeError";
  }
}

function check(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new EnvelopeError("INVALID_ARGUMENT", `${what} must be ${length} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
}

/** AES-256-GCM encryption; returns ciphertext ++ 16-byte tag. */
export function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Uint8Array {
  check("an AES-256-GCM key", key, AES_GCM_KEY_LENGTH);
  check("an AES-GCM nonce", nonce, AES_GCM_NONCE_LENGTH);
  return backend.aesGcmEncrypt(key, nonce, associatedData, plaintext);
}

/** AES-256-GCM decryption of ciphertext ++ tag; throws DECRYPT_FAILED when anything was altered. */
export function aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Uint8Array {
  check("an AES-256-GCM key", key, AES_GCM_KEY_LENGTH);
  check("an AES-GCM nonce", nonce, AES_GCM_NONCE_LENGTH);
  if (sealed.length < AES_GCM_TAG_LENGTH) {
    throw new EnvelopeError("DECRYPT_FAILED", "ciphertext is shorter than its authentication tag; it was truncated");
  }
  const plaintext = backend.aesGcmDecrypt(key, nonce, associatedData, sealed);
  if (plaintext === undefined) {
    throw new EnvelopeError("DECRYPT_FAILED", "ciphertext does not authenticate: wrong key, nonce or associated data, or it was altered");
  }
  return plaintext;
}

/** The AES key of an envelope between `senderPublicKey` and `recipientPublicKey`. */
export function envelopeKey(sharedSecret: Uint8Array, label: Uint8Array, senderPublicKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  check("a sender public key", senderPublicKey, X25519_KEY_LENGTH);
  check("a recipient public key", recipientPublicKey, X25519_KEY_LENGTH);
  return hkdfSha256(sharedSecret, concatBytes(label, senderPublicKey, recipientPublicKey), AES_GCM_KEY_LENGTH);
}

export interface Envelope {
  readonly senderPublicKey: Uint8Array;
  readonly nonce: Uint8Array;
  /** Ciphertext ++ GCM tag. */
  readonly ciphertext: Uint8Array;
}

export interface SealEnvelopeParams {
  recipientPublicKey: Uint8Array;
  /** Domain of this use, e.g. `"phala/query/v1"`; sender and recipient must agree on it. */
  label: Uint8Array;
  associatedData: Uint8Array;
  plaintext: Uint8Array;
  /** The sender's x25519 private key; a fresh ephemeral key when absent. */
  senderPrivateKey?: Uint8Array;
  /** 12 bytes; random when absent. Never reuse a nonce with the same key pair for different plaintexts. */
  nonce?: Uint8Array;
}

/** Seals with a key from `envelopeKey` (or an EnvelopeKeyCache) that the caller keeps for many envelopes. */
export function sealWithKey(key: Uint8Array, senderPublicKey: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array, nonce: Uint8Array = backend.randomBytes(AES_GCM_NONCE_LENGTH)): Envelope {
  return { senderPublicKey: senderPublicKey.slice(), nonce: nonce.slice(), ciphertext: aesGcmEncrypt(key, nonce, associatedData, plaintext) };
}

/** Opens with a key the caller keeps; throws EnvelopeError DECRYPT_FAILED if the envelope is not authentic. */
export function openWithKey(key: Uint8Array, associatedData: Uint8Array, envelope: Envelope): Uint8Array {
  return aesGcmDecrypt(key, envelope.nonce, associatedData, envelope.ciphertext);
}

/**
 * Envelope keys between pairs of x25519 keys, kept for reuse. An envelope's key depends only on
 * the two public keys, the direction and the label, so a conversation of many envelopes (the
 * queries sent under one certificate, and their answers) needs one agreement, not one per
 * envelope. Holding the derived keys exposes nothing the private key held alongside them does
 * not. Bounded, least recently used out first; evicted and cleared keys are wiped.
 */
export class EnvelopeKeyCache {
  readonly #max: number;
  readonly #keys = new Map<string, Uint8Array>();

  constructor(max: number) {
    // Two: a conversation uses a key each way, and fetching the second must not evict the first.
    if (!Number.isSafeInteger(max) || max < 2) throw new EnvelopeError("INVALID_ARGUMENT", `an envelope key cache holds at least two keys, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#keys.size;
  }

  /**
   * The key of envelopes `direction` `peerPublicKey` under `label`, as the owner of
   * `ownPrivateKey` (whose public key is `ownPublicKey`) derives it. Throws the x25519 errors
   * for a peer key that is not a valid point. The array is the cache's own: do not change it.
   */
  key(own: { privateKey: Uint8Array; publicKey: Uint8Array }, peerPublicKey: Uint8Array, label: Uint8Array, direction: "to" | "from"): Uint8Array {
    check("a peer public key", peerPublicKey, X25519_KEY_LENGTH);
    const id = `${direction}:${toHex(label)}:${toHex(own.publicKey)}:${toHex(peerPublicKey)}`;
    const hit = this.#keys.get(id);
    if (hit !== undefined) {
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit;
    }
    const shared = x25519SharedSecret(own.privateKey, peerPublicKey);
    const key = direction === "to" ? envelopeKey(shared, label, own.publicKey, peerPublicKey) : envelopeKey(shared, label, peerPublicKey, own.publicKey);
    shared.fill(0);
    if (this.#keys.size >= this.#max) {
      const [oldest, old] = this.#keys.entries().next().value!;
      this.#keys.delete(oldest);
      old.fill(0);
    }
    this.#keys.set(id, key);
    return key;
  }

  /** Forgets and wipes the keys of `ownPublicKey` (a certificate's ephemeral key that was replaced). */
  forget(ownPublicKey: Uint8Array): void {
    const own = `:${toHex(ownPublicKey)}:`;
    for (const [id, key] of this.#keys) {
      if (!id.includes(own)) continue;
      key.fill(0);
      this.#keys.delete(id);
    }
  }

  /** Forgets and wipes every key. */
  clear(): void {
    for (const k of this.#keys.values()) k.fill(0);
    this.#keys.clear();
  }
}

export function sealEnvelope(params: SealEnvelopeParams): Envelope {
  const sender = params.senderPrivateKey ? x25519KeyPair(params.senderPrivateKey) : x25519GenerateKeyPair();
  const nonce = params.nonce ?? backend.randomBytes(AES_GCM_NONCE_LENGTH);
  const shared = x25519SharedSecret(sender.privateKey, params.recipientPublicKey);
  const key = envelopeKey(shared, params.label, sender.publicKey, params.recipientPublicKey);
  shared.fill(0);
  try {
    return { senderPublicKey: sender.publicKey, nonce: nonce.slice(), ciphertext: aesGcmEncrypt(key, nonce, params.associatedData, params.plaintext) };
  } finally {
    key.fill(0);
  }
}

export interface OpenEnvelopeParams {
  recipientPrivateKey: Uint8Array;
  label: Uint8Array;
  associatedData: Uint8Array;
  envelope: Envelope;
}

/** Decrypts an envelope addressed to `recipientPrivateKey`; throws EnvelopeError DECRYPT_FAILED if it is not authentic. */
export function openEnvelope(params: OpenEnvelopeParams): Uint8Array {
  const recipient = x25519KeyPair(params.recipientPrivateKey);
  const shared = x25519SharedSecret(recipient.privateKey, params.envelope.senderPublicKey);
  const key = envelopeKey(shared, params.label, params.envelope.senderPublicKey, recipient.publicKey);
  shared.fill(0);
  try {
    return aesGcmDecrypt(key, params.envelope.nonce, params.associatedData, params.envelope.ciphertext);
  } finally {
    key.fill(0);
  }
}
