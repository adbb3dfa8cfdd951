/**
 * Query certificates (ARCHITECTURE §6): an account signs, with its sr25519, ed25519 or ecdsa
 * key, that a fresh ephemeral x25519 key speaks for it until `expires_at`. Queries are
 * encrypted from that ephemeral key, so a worker knows who asks without an on-chain step.
 */
import { EnvelopeKeyCache, toHex, x25519GenerateKeyPair, x25519PublicKey, type KeyPair, type KeyType } from "@phala-ts/primitives";
import { queryCertificatePayload, type QueryCertificateValue } from "@phala-ts/runtime/phala";
import { PhalaSdkError } from "./errors.ts";
import { QUERY_CERT_CACHE_MAX, QUERY_CERT_RENEW_FRACTION, QUERY_CERT_TTL_MAX_MS, QUERY_ENVELOPE_KEYS_MAX } from "./limits.ts";

export interface CertifiedKey {
  certificate: QueryCertificateValue;
  /** The private half of `certificate.body.ephemeral_pubkey`; never leaves the SDK. */
  ephemeralPrivateKey: Uint8Array;
  /** Unix ms after which workers refuse the certificate. */
  expiresAtMs: number;
}

const SIGNATURE_TAG: Record<KeyType, "Sr25519" | "Ed25519" | "Ecdsa"> = { sr25519: "Sr25519", ed25519: "Ed25519", ecdsa: "Ecdsa" };

/** Signs a certificate for a new ephemeral key, valid for `ttlMs` from `nowMs`. */
export function createQueryCertificate(signer: KeyPair, ttlMs: number, nowMs: number, ephemeralPrivateKey: Uint8Array = x25519GenerateKeyPair().privateKey): CertifiedKey {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > QUERY_CERT_TTL_MAX_MS) {
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `a query certificate's ttlMs must be an integer from 1 to ${QUERY_CERT_TTL_MAX_MS} (10 minutes; workers refuse longer ones), got ${ttlMs}`);
  }
  const expiresAtMs = nowMs + ttlMs;
  const body = { account: signer.accountId, ephemeral_pubkey: x25519PublicKey(ephemeralPrivateKey), expires_at: BigInt(expiresAtMs) };
  const signature = signer.sign(queryCertificatePayload(body));
  const certificate: QueryCertificateValue = { body, signature: { tag: SIGNATURE_TAG[signer.type], value: signature } as QueryCertificateValue["signature"] };
  return { certificate, ephemeralPrivateKey, expiresAtMs };
}

/**
 * One certificate per signer and lifetime, reused until less than QUERY_CERT_RENEW_FRACTION
 * of its lifetime is left, so a burst of queries costs one signature. Bounded; oldest out first.
 */
export class QueryCertificateCache {
  readonly #now: () => number;
  readonly #entries = new Map<string, CertifiedKey>();
  /** Keys between the certificates' ephemeral keys and workers: one x25519 agreement per pair, not two per query. */
  readonly envelopeKeys = new EnvelopeKeyCache(QUERY_ENVELOPE_KEYS_MAX);

  constructor(now: () => number) {
    this.#now = now;
  }

  get(signer: KeyPair, ttlMs: number): CertifiedKey {
    const key = `${signer.type}:${toHex(signer.accountId)}:${ttlMs}`;
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (cached && cached.expiresAtMs - now > ttlMs * QUERY_CERT_RENEW_FRACTION) return cached;
    // A replaced certificate's envelope keys go at once. Its ephemeral private key is not wiped:
    // a query still in flight under it needs it to open the answer.
    if (cached) this.#retire(cached);
    this.#entries.delete(key);
    const fresh = createQueryCertificate(signer, ttlMs, now);
    if (this.#entries.size >= QUERY_CERT_CACHE_MAX) {
      const [oldest, old] = this.#entries.entries().next().value ?? [];
      if (oldest !== undefined) this.#entries.delete(oldest);
      if (old) this.#retire(old);
    }
    this.#entries.set(key, fresh);
    return fresh;
  }

  #retire(c: CertifiedKey): void {
    this.envelopeKeys.forget(c.certificate.body.ephemeral_pubkey);
  }

  /** Forgets every certificate and wipes the ephemeral secrets and the keys derived from them. */
  clear(): void {
    this.envelopeKeys.clear();
    for (const e of this.#entries.values()) e.ephemeralPrivateKey.fill(0);
    this.#entries.clear();
  }
}
