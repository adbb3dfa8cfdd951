/**
 * Certificates and CRLs cut into the pieces the verifiers check. Signature
 * verification itself is node:crypto's (OpenSSL); this file only finds the
 * bytes and fields, with the exact-length DER rules of der.ts.
 */
import { X509Certificate, type KeyObject } from "node:crypto";
import { bitStringBytes, children, expectTag, oidToString, parseDer, raw, TAG, timeToUnix, value, type DerNode } from "./der.ts";
import { AttestationError } from "./errors.ts";

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** Contents of extnValue (the inner DER). */
  readonly value: Uint8Array;
}

export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: readonly Extension[];
  /** OpenSSL's view of the same bytes, for signature checks and the public key. */
  readonly x509: X509Certificate;
}

export const OID = {
  ECDSA_SHA256: "1.2.840.10045.4.3.2",
  ECDSA_SHA384: "1.2.840.10045.4.3.3",
  RSASSA_PSS: "1.2.840.113549.1.1.10",
} as const;

function algorithmOid(node: DerNode | undefined, what: string): string {
  const seq = expectTag(node, TAG.SEQUENCE, what);
  return oidToString(expectTag(children(seq, what)[0], TAG.OID, what), what);
}

function parseExtensions(node: DerNode, what: string): Extension[] {
  // [3] EXPLICIT SEQUENCE OF Extension
  const seq = expectTag(children(node, what)[0], TAG.SEQUENCE, what);
  if (children(node, what).length !== 1) throw new AttestationError("MALFORMED", `${what}: extensions wrapper holds more than one element`);
  return children(seq, what).map((ext) => {
    const parts = children(expectTag(ext, TAG.SEQUENCE, what), what);
    const oid = oidToString(parts[0], what);
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === TAG.BOOLEAN) {
      critical = value(parts[i])[0] !== 0;
      i++;
    }
    const v = expectTag(parts[i], TAG.OCTET_STRING, what);
    if (parts.length !== i + 1) throw new AttestationError("MALFORMED", `${what}: extension ${oid} has extra fields`);
    return { oid, critical, value: value(v) };
  });
}

/**
 * Parsed certificates kept for reuse. Building OpenSSL's X509 object dominates
 * verification cost, and the same roots, CAs, ASKs and VCEKs come back block
 * after block. Keyed by the full DER, so a hit is the identical certificate.
 * 64 covers Intel's and AMD's CAs plus the VCEKs of a busy registration period.
 */
export const CERTIFICATE_CACHE_ENTRIES_MAX = 64;
const certificateCache = new Map<string, ParsedCertificate>();

export function parseCertificate(der: Uint8Array, what: string): ParsedCertificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("latin1");
  const hit = certificateCache.get(key);
  if (hit !== undefined) return hit;
  const parsed = parseCertificateUncached(Uint8Array.from(der), what);
  if (certificateCache.size >= CERTIFICATE_CACHE_ENTRIES_MAX) certificateCache.delete(certificateCache.keys().next().value!);
  certificateCache.set(key, parsed);
  return parsed;
}

function parseCertificateUncached(der: Uint8Array, what: string): ParsedCertificate {
  const root = expectTag(parseDer(der, what), TAG.SEQUENCE, what);
  const [tbsNode, sigAlgNode, sigNode, ...extra] = children(root, what);
  if (extra.length > 0) throw new AttestationError("MALFORMED", `${what}: certificate has extra fields`);
  const tbs = expectTag(tbsNode, TAG.SEQUENCE, what);
  const signatureAlgorithm = algorithmOid(sigAlgNode, what);
  bitStringBytes(sigNode, what);
  const f = children(tbs, what);
  let i = 0;
  if (f[i]?.tag === 0xa0) i++; // [0] version
  expectTag(f[i++], TAG.INTEGER, what); // serial
  const innerAlg = algorithmOid(f[i++], what);
  // OpenSSL also refuses a mismatch; checking here names the problem.
  if (innerAlg !== signatureAlgorithm) throw new AttestationError("MALFORMED", `${what}: signature algorithm differs inside and outside the signed part`);
  const issuer = expectTag(f[i++], TAG.SEQUENCE, what);
  const validity = children(expectTag(f[i++], TAG.SEQUENCE, what), what);
  if (validity.length !== 2) throw new AttestationError("MALFORMED", `${what}: validity must hold two times`);
  const subject = expectTag(f[i++], TAG.SEQUENCE, what);
  expectTag(f[i++], TAG.SEQUENCE, what); // subjectPublicKeyInfo
  let extensions: Extension[] = [];
  for (; i < f.length; i++) {
    if (f[i].tag === 0xa3) extensions = parseExtensions(f[i], what);
    else if (f[i].tag !== 0x81 && f[i].tag !== 0x82) throw new AttestationError("MALFORMED", `${what}: unexpected field in the signed part`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(der));
  } catch (cause) {
    throw new AttestationError("MALFORMED", `${what}: OpenSSL cannot parse the certificate`, { cause });
  }
  return {
    der,
    tbs: raw(tbs),
    signatureAlgorithm,
    issuer: raw(issuer),
    subject: raw(subject),
    notBefore: timeToUnix(validity[0], what),
    notAfter: timeToUnix(validity[1], what),
    extensions,
    x509,
  };
}

/** The subject public key; OpenSSL parses it lazily, so a damaged key surfaces here. */
export function publicKeyOf(cert: ParsedCertificate, what: string): KeyObject {
  try {
    return cert.x509.publicKey;
  } catch (cause) {
    throw new AttestationError("MALFORMED", `${what}: the public key does not parse`, { cause });
  }
}

/** OpenSSL's certificate signature check (handles RSA-PSS parameters); false on any failure. */
export function certificateSignedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  let key: KeyObject;
  try {
    key = issuer.x509.publicKey;
  } catch {
    // An issuer key OpenSSL cannot parse signed nothing.
    return false;
  }
  try {
    return cert.x509.verify(key);
  } catch {
    // OpenSSL throws for keys of the wrong type; such a key signed nothing.
    return false;
  }
}

export interface ParsedCrl {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
}

export function parseCrl(der: Uint8Array, what: string): ParsedCrl {
  const root = expectTag(parseDer(der, what), TAG.SEQUENCE, what);
  const [tbsNode, sigAlgNode, sigNode, ...extra] = children(root, what);
  if (extra.length > 0) throw new AttestationError("MALFORMED", `${what}: CRL has extra fields`);
  const tbs = expectTag(tbsNode, TAG.SEQUENCE, what);
  const signatureAlgorithm = algorithmOid(sigAlgNode, what);
  const signature = bitStringBytes(sigNode, what);
  const f = children(tbs, what);
  let i = 0;
  if (f[i]?.tag === TAG.INTEGER) i++; // version
  if (algorithmOid(f[i++], what) !== signatureAlgorithm) {
    throw new AttestationError("MALFORMED", `${what}: signature algorithm differs inside and outside the signed part`);
  }
  const issuer = expectTag(f[i++], TAG.SEQUENCE, what);
  const thisUpdate = timeToUnix(f[i++] ?? expectTag(undefined, TAG.UTC_TIME, what), what);
  const next = f[i];
  if (next === undefined || (next.tag !== TAG.UTC_TIME && next.tag !== TAG.GENERALIZED_TIME)) {
    // RFC 5280 makes nextUpdate mandatory for conforming CRLs; without it freshness is unknowable.
    throw new AttestationError("MALFORMED", `${what}: CRL has no nextUpdate`);
  }
  return { tbs: raw(tbs), signatureAlgorithm, signature, issuer: raw(issuer), thisUpdate, nextUpdate: timeToUnix(next, what) };
}
