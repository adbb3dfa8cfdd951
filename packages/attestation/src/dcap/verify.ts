/**
 * Intel DCAP (SGX and TDX quotes) through @phala/dcap-qvl, synchronous and with
 * an explicit time. Around the library this adds what it leaves out: the TEE
 * type the evidence claims, a byte-exact quote layout (quote-layout.ts),
 * authenticated CRLs (crl.ts), strict collateral types (collateral.ts), and
 * stable error codes (qvl-errors.ts).
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from "node:crypto";
import { constants, Quote, verify as qvlVerify, type EnclaveReport, type TDReport10, type TDReport15, type VerifiedReport } from "@phala/dcap-qvl";
import { AttestationError } from "../errors.ts";
import { parseCertificate } from "../x509.ts";
import { parseDcapCollateral, toQvlCollateral, type DcapCollateral } from "./collateral.ts";
import { checkDcapCrls } from "./crl.ts";
import { mapQvlError } from "./qvl-errors.ts";
import { strictPckChain, walkQuoteLayout, type QuoteLayout } from "./quote-layout.ts";

export interface SgxMeasurement {
  readonly tee: "sgx";
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  /** 16 bytes; bit 1 of byte 0 is DEBUG. */
  readonly attributes: Uint8Array;
  readonly miscSelect: number;
  readonly cpuSvn: Uint8Array;
}

export interface TdxMeasurement {
  readonly tee: "tdx";
  readonly mrTd: Uint8Array;
  readonly rtmr0: Uint8Array;
  readonly rtmr1: Uint8Array;
  readonly rtmr2: Uint8Array;
  readonly rtmr3: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  /** 8 bytes; bit 0 of byte 0 is TUD.DEBUG. */
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly teeTcbSvn: Uint8Array;
}

export interface DcapReport {
  readonly tee: "sgx" | "tdx";
  readonly tcbStatus: string;
  readonly advisoryIds: readonly string[];
  readonly reportData: Uint8Array;
  readonly debug: boolean;
  readonly measurement: SgxMeasurement | TdxMeasurement;
}

const TEE_TYPE_SGX = 0x00000000;
const TEE_TYPE_TDX = 0x00000081;
const copy = (b: Uint8Array) => Uint8Array.from(b);

function parseQuote(tee: "sgx" | "tdx", bytes: Uint8Array): QuoteLayout {
  let quote: Quote;
  try {
    quote = Quote.parse(bytes);
  } catch (cause) {
    throw new AttestationError("MALFORMED", `the ${tee.toUpperCase()} quote does not parse as a DCAP quote`, { cause });
  }
  const expectedType = tee === "sgx" ? TEE_TYPE_SGX : TEE_TYPE_TDX;
  if (quote.header.teeType !== expectedType) {
    throw new AttestationError("MALFORMED", `evidence is tagged ${tee} but the quote's TEE type is 0x${quote.header.teeType.toString(16)}`);
  }
  return walkQuoteLayout(bytes);
}

/** DER SubjectPublicKeyInfo header of an uncompressed P-256 point. */
const P256_SPKI_PREFIX = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex");

/**
 * The quote's own signature, checked before anything else. dcap-qvl checks it
 * too, but last, after every chain and collateral signature; doing it first
 * costs one P-256 verification and turns away altered quotes ~50x cheaper,
 * which matters when the chain pays for verification inside a block.
 */
function quoteSignatureValid(layout: QuoteLayout): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, Uint8Array.of(4), layout.attestationKey]), format: "der", type: "spki" });
  } catch {
    // Not a point on P-256: it signed nothing.
    return false;
  }
  try {
    return nodeVerify("sha256", layout.signed, { key, dsaEncoding: "ieee-p1363" }, layout.signature);
  } catch {
    return false;
  }
}

/** The issuer name of the PCK leaf certificate, to match the PCK CRL against. */
function pckLeafIssuer(layout: QuoteLayout, collateral: DcapCollateral, rootDer: Uint8Array): Uint8Array {
  const chain = collateral.pckCertificateChain ?? layout.pckChain;
  if (chain === null) {
    throw new AttestationError("MALFORMED", "the quote carries an encrypted PPID instead of its PCK certificate chain; include pck_certificate_chain in the collateral");
  }
  // The quote's own chain is checked even when the collateral supplies one, so no byte of it rides along unchecked.
  if (layout.pckChain !== null && layout.pckChain !== chain) strictPckChain(layout.pckChain, rootDer);
  return parseCertificate(strictPckChain(chain, rootDer)[0], "PCK certificate").issuer;
}

function sgxMeasurement(r: EnclaveReport): SgxMeasurement {
  return {
    tee: "sgx",
    mrEnclave: copy(r.mrEnclave),
    mrSigner: copy(r.mrSigner),
    isvProdId: r.isvProdId,
    isvSvn: r.isvSvn,
    attributes: copy(r.attributes),
    miscSelect: r.miscSelect,
    cpuSvn: copy(r.cpuSvn),
  };
}

function tdxMeasurement(r: TDReport10): TdxMeasurement {
  return {
    tee: "tdx",
    mrTd: copy(r.mrTd),
    rtmr0: copy(r.rtMr0),
    rtmr1: copy(r.rtMr1),
    rtmr2: copy(r.rtMr2),
    rtmr3: copy(r.rtMr3),
    mrConfigId: copy(r.mrConfigId),
    mrOwner: copy(r.mrOwner),
    mrOwnerConfig: copy(r.mrOwnerConfig),
    mrSeam: copy(r.mrSeam),
    mrSignerSeam: copy(r.mrSignerSeam),
    tdAttributes: copy(r.tdAttributes),
    xfam: copy(r.xfam),
    teeTcbSvn: copy(r.teeTcbSvn),
  };
}

function extract(tee: "sgx" | "tdx", v: VerifiedReport): DcapReport {
  const report = v.report;
  if (tee === "sgx") {
    if (report.type !== "sgx") throw new AttestationError("MALFORMED", "an SGX quote verified with a TD report body");
    const m = sgxMeasurement(report.data as EnclaveReport);
    return { tee, tcbStatus: v.status, advisoryIds: [...v.advisory_ids], reportData: copy((report.data as EnclaveReport).reportData), debug: (m.attributes[0] & 0x02) !== 0, measurement: m };
  }
  const td = report.type === "td15" ? (report.data as TDReport15).base : report.type === "td10" ? (report.data as TDReport10) : undefined;
  if (td === undefined) throw new AttestationError("MALFORMED", "a TDX quote verified with an SGX report body");
  const m = tdxMeasurement(td);
  return { tee, tcbStatus: v.status, advisoryIds: [...v.advisory_ids], reportData: copy(td.reportData), debug: (m.tdAttributes[0] & 0x01) !== 0, measurement: m };
}

/**
 * Verifies a quote and its collateral at `now` (unix seconds). Debug enclaves
 * and TDs are always refused here: dcap-qvl rejects them and offers no switch.
 */
export function verifyDcapQuote(tee: "sgx" | "tdx", quoteBytes: Uint8Array, collateralBytes: Uint8Array, now: number): DcapReport {
  const layout = parseQuote(tee, quoteBytes);
  if (!quoteSignatureValid(layout)) {
    throw new AttestationError("SIGNATURE", "the quote signature does not verify over the report body with the quote's attestation key; the quote was altered");
  }
  const collateral = parseDcapCollateral(collateralBytes);
  const rootDer = new Uint8Array(constants.TRUSTED_ROOT_CA_DER);
  const leafIssuer = pckLeafIssuer(layout, collateral, rootDer);
  // Before dcap-qvl: its revocation check is only meaningful on authenticated CRLs, and this fails faster.
  checkDcapCrls(collateral, leafIssuer, rootDer, now);
  const qvlCollateral = toQvlCollateral(collateral);
  let verified: VerifiedReport;
  try {
    verified = qvlVerify(Buffer.from(quoteBytes), qvlCollateral, now);
  } catch (e) {
    throw mapQvlError(e);
  }
  return extract(tee, verified);
}
