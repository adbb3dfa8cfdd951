/**
 * The byte layout of a DCAP quote's unsigned tail (auth data), walked strictly.
 * dcap-qvl reads what it needs and ignores the rest: slack inside the auth
 * data, the certification data type, and any part of the PCK chain it does not
 * match with its PEM regex (a damaged root copy is silently dropped, because
 * the root is pinned anyway). Evidence is stored on chain, so here every byte
 * must be accounted for: exact sizes, known types, and a chain that is nothing
 * but the three PEM certificates Intel issues (PCK, PCK CA, Root) plus the NUL
 * terminator the quoting library appends.
 */
import { bytesEqual } from "@phala-ts/primitives";
import { strictPemCertificates } from "../der.ts";
import { AttestationError } from "../errors.ts";

const HEADER_LEN = 48;
const ENCLAVE_REPORT_LEN = 384;
const TD_REPORT10_LEN = 584;
const TD_REPORT15_LEN = 648;
const BODY_HEADER_LEN = 6;
const SIG_LEN = 64;
const KEY_LEN = 64;
const CERT_TYPE_ENCRYPTED_PPID_2048 = 2;
const CERT_TYPE_ENCRYPTED_PPID_3072 = 3;
const CERT_TYPE_PCK_CHAIN = 5;
const CERT_TYPE_QE_REPORT = 6;
/** PCK leaf, PCK Processor/Platform CA, Intel SGX Root CA. */
export const PCK_CHAIN_CERTS = 3;

function malformed(reason: string): AttestationError {
  return new AttestationError("MALFORMED", `DCAP quote auth data: ${reason}`);
}

class Cursor {
  private dv: DataView;
  constructor(private readonly b: Uint8Array, public pos: number, private readonly limit: number) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number, what: string): void {
    if (n > this.limit - this.pos) throw malformed(`${what} runs past its container`);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  done(what: string): void {
    if (this.pos !== this.limit) throw malformed(`${this.limit - this.pos} unused bytes at the end of ${what}`);
  }
}

export interface QuoteLayout {
  /** Header and report body: what the attestation key signs. */
  readonly signed: Uint8Array;
  /** ECDSA P-256 signature over `signed`, r || s. */
  readonly signature: Uint8Array;
  /** The attestation public key, x || y. */
  readonly attestationKey: Uint8Array;
  /** The PCK chain carried in the quote (cert type 5), or null for encrypted-PPID quotes. */
  readonly pckChain: string | null;
}

/** QE report, its signature, QE auth data, then the PCK certification data. */
function qeReportCertificationData(c: Cursor): string | null {
  c.skip(ENCLAVE_REPORT_LEN + SIG_LEN, "QE report");
  c.skip(c.u16("QE auth data size"), "QE auth data");
  const type = c.u16("PCK certification data type");
  const size = c.u32("PCK certification data size");
  const body = c.take(size, "PCK certification data");
  if (type === CERT_TYPE_PCK_CHAIN) return new TextDecoder().decode(body);
  if (type === CERT_TYPE_ENCRYPTED_PPID_2048 || type === CERT_TYPE_ENCRYPTED_PPID_3072) return null;
  throw malformed(`PCK certification data type ${type} is not supported (2, 3 or 5)`);
}

export function walkQuoteLayout(q: Uint8Array): QuoteLayout {
  const dv = new DataView(q.buffer, q.byteOffset, q.byteLength);
  if (q.length < HEADER_LEN + 2) throw malformed("quote shorter than its header");
  const version = dv.getUint16(0, true);
  let bodyLen: number;
  if (version === 3 || version === 4) bodyLen = dv.getUint32(4, true) === 0 ? ENCLAVE_REPORT_LEN : TD_REPORT10_LEN;
  else if (version === 5) {
    if (q.length < HEADER_LEN + BODY_HEADER_LEN) throw malformed("quote shorter than its body header");
    const bodyType = dv.getUint16(HEADER_LEN, true);
    const inner = bodyType === 1 ? ENCLAVE_REPORT_LEN : bodyType === 2 ? TD_REPORT10_LEN : bodyType === 3 ? TD_REPORT15_LEN : -1;
    if (inner < 0) throw malformed(`body type ${bodyType}`);
    if (dv.getUint32(HEADER_LEN + 2, true) !== inner) throw malformed("body size does not match its type");
    bodyLen = BODY_HEADER_LEN + inner;
  } else throw malformed(`quote version ${version}`);
  const signedEnd = HEADER_LEN + bodyLen;
  const outer = new Cursor(q, signedEnd, q.length);
  const authSize = outer.u32("auth data size");
  outer.need(authSize, "auth data");
  const authEnd = outer.pos + authSize;
  // TDX quote buffers come zero-padded (the fixtures carry 70 zero bytes); padding
  // is allowed but must be zero, so it cannot carry anything.
  for (let i = authEnd; i < q.length; i++) if (q[i] !== 0) throw malformed(`non-zero byte after the auth data (offset ${i})`);
  const c = new Cursor(q, outer.pos, authEnd);
  const signature = c.take(SIG_LEN, "quote signature");
  const attestationKey = c.take(KEY_LEN, "attestation key");
  let pckChain: string | null;
  if (version === 3) pckChain = qeReportCertificationData(c);
  else {
    const type = c.u16("certification data type");
    if (type !== CERT_TYPE_QE_REPORT) throw malformed(`certification data type ${type} is not QE report certification data (6)`);
    const size = c.u32("certification data size");
    c.need(size, "certification data");
    const inner = new Cursor(q, c.pos, c.pos + size);
    pckChain = qeReportCertificationData(inner);
    inner.done("the QE report certification data");
    c.pos += size;
  }
  c.done("the auth data");
  return { signed: q.subarray(0, signedEnd), signature, attestationKey, pckChain };
}

/**
 * The PCK chain as DER: exactly three PEM certificates separated by line breaks,
 * optionally NUL-terminated, the last one Intel's root itself.
 */
export function strictPckChain(chain: string, rootDer: Uint8Array): Uint8Array[] {
  const ders = strictPemCertificates(chain, "PCK certificate chain", true);
  if (ders.length !== PCK_CHAIN_CERTS) throw malformed(`the PCK certificate chain holds ${ders.length} certificates, not ${PCK_CHAIN_CERTS}`);
  if (!bytesEqual(ders[PCK_CHAIN_CERTS - 1], rootDer)) throw new AttestationError("CERT_CHAIN", "the PCK certificate chain does not end with the Intel SGX Root CA");
  return ders;
}
