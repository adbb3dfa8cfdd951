/**
 * Intel collateral travels as UTF-8 JSON with dcap-qvl's field names. Parsing
 * here is strict so that dcap-qvl only ever sees well-typed values: its own hex
 * decoding stops silently at the first bad character, which would let a
 * corrupted signature or CRL shrink instead of fail.
 */
import { fromHex, toHex } from "@phala-ts/primitives";
import { strictPemCertificates } from "../der.ts";
import { AttestationError } from "../errors.ts";

export interface DcapCollateral {
  readonly pckCrlIssuerChain: string;
  readonly rootCaCrl: Uint8Array;
  readonly pckCrl: Uint8Array;
  readonly tcbInfoIssuerChain: string;
  /** The exact signed JSON text. */
  readonly tcbInfo: string;
  readonly tcbInfoSignature: Uint8Array;
  readonly qeIdentityIssuerChain: string;
  readonly qeIdentity: string;
  readonly qeIdentitySignature: Uint8Array;
  /** PCK chain for quotes that carry only an encrypted PPID (cert type 2/3); null otherwise. */
  readonly pckCertificateChain: string | null;
}

/** dcap-qvl's `Collateral` with every binary field as lowercase hex. */
export interface QvlCollateral {
  pck_crl_issuer_chain: string;
  root_ca_crl: string;
  pck_crl: string;
  tcb_info_issuer_chain: string;
  tcb_info: string;
  tcb_info_signature: string;
  qe_identity_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
  pck_certificate_chain?: string;
}

const STRING_FIELDS = ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "tcb_info", "qe_identity_issuer_chain", "qe_identity"] as const;

function malformed(reason: string, cause?: unknown): AttestationError {
  return new AttestationError("MALFORMED", `DCAP collateral ${reason}; pass the JSON that dcap-qvl's getCollateral (or your PCCS) returned, unmodified`, { cause });
}

function bytesField(obj: Record<string, unknown>, name: string): Uint8Array {
  const v = obj[name];
  if (typeof v === "string") {
    if (!/^([0-9a-fA-F]{2})*$/.test(v)) throw malformed(`field ${name} is not hex`);
    return fromHex(v);
  }
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) return Uint8Array.from(v as number[]);
  throw malformed(`field ${name} must be a hex string or a byte array`);
}

export function parseDcapCollateral(bytes: Uint8Array): DcapCollateral {
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw malformed("is not UTF-8 JSON", cause);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw malformed("is not a JSON object");
  const o = obj as Record<string, unknown>;
  for (const f of STRING_FIELDS) if (typeof o[f] !== "string") throw malformed(`lacks the string field ${f}`);
  const chain = o.pck_certificate_chain;
  // dcap-qvl's chain parser skips text it cannot match; ours refuses it, so no byte of a chain is slack.
  for (const f of ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain"] as const) strictPemCertificates(o[f] as string, `collateral ${f}`);
  if (chain !== undefined && chain !== null && typeof chain !== "string") throw malformed("field pck_certificate_chain must be a string or null");
  return {
    pckCrlIssuerChain: o.pck_crl_issuer_chain as string,
    rootCaCrl: bytesField(o, "root_ca_crl"),
    pckCrl: bytesField(o, "pck_crl"),
    tcbInfoIssuerChain: o.tcb_info_issuer_chain as string,
    tcbInfo: o.tcb_info as string,
    tcbInfoSignature: bytesField(o, "tcb_info_signature"),
    qeIdentityIssuerChain: o.qe_identity_issuer_chain as string,
    qeIdentity: o.qe_identity as string,
    qeIdentitySignature: bytesField(o, "qe_identity_signature"),
    pckCertificateChain: (chain as string | null | undefined) ?? null,
  };
}

const hex = (b: Uint8Array) => toHex(b).slice(2);

export function toQvlCollateral(c: DcapCollateral): QvlCollateral {
  const out: QvlCollateral = {
    pck_crl_issuer_chain: c.pckCrlIssuerChain,
    root_ca_crl: hex(c.rootCaCrl),
    pck_crl: hex(c.pckCrl),
    tcb_info_issuer_chain: c.tcbInfoIssuerChain,
    tcb_info: c.tcbInfo,
    tcb_info_signature: hex(c.tcbInfoSignature),
    qe_identity_issuer_chain: c.qeIdentityIssuerChain,
    qe_identity: c.qeIdentity,
    qe_identity_signature: hex(c.qeIdentitySignature),
  };
  if (c.pckCertificateChain !== null) out.pck_certificate_chain = c.pckCertificateChain;
  return out;
}

/**
 * Serializes collateral as evidence carries it: a JSON object with dcap-qvl's
 * field names, binary fields as lowercase hex, fields in a fixed order. Accepts
 * what dcap-qvl's `getCollateral` returns (byte arrays or hex strings).
 */
export function encodeDcapCollateral(collateral: Record<string, unknown>): Uint8Array {
  const parsed = parseDcapCollateral(new TextEncoder().encode(JSON.stringify(collateral)));
  return new TextEncoder().encode(JSON.stringify(toQvlCollateral(parsed)));
}
