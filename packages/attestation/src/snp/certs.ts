/**
 * The AMD chain ARK -> ASK -> VCEK, the VCEK's TCB and chip-id extensions, and
 * the certificate table a host attaches to an extended report.
 */
import type { KeyObject } from "node:crypto";
import { bytesEqual } from "@phala-ts/primitives";
import { expectTag, formatUnix, parseDer, parseNode, pemBlocks, smallUint, strictPemCertificates, TAG } from "../der.ts";
import { AttestationError } from "../errors.ts";
import { certificateSignedBy, OID, parseCertificate, publicKeyOf, type ParsedCertificate } from "../x509.ts";
import { PINNED_ARK_PEMS, type SnpProduct } from "./roots.ts";

/** SNP TCB components; `fmc` exists only on Turin and later. */
export interface SnpTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc: number;
}

/** Byte positions inside the 8-byte TCB_VERSION (SEV-SNP ABI "TCB_VERSION" tables). */
export function decodeTcb(raw: Uint8Array, product: SnpProduct): SnpTcb {
  if (product === "Turin") return { fmc: raw[0], bootloader: raw[1], tee: raw[2], snp: raw[3], microcode: raw[7] };
  return { bootloader: raw[0], tee: raw[1], snp: raw[6], microcode: raw[7], fmc: 0 };
}

const VCEK_OID = {
  productName: "1.3.6.1.4.1.3704.1.2",
  blSpl: "1.3.6.1.4.1.3704.1.3.1",
  teeSpl: "1.3.6.1.4.1.3704.1.3.2",
  snpSpl: "1.3.6.1.4.1.3704.1.3.3",
  ucodeSpl: "1.3.6.1.4.1.3704.1.3.8",
  fmcSpl: "1.3.6.1.4.1.3704.1.3.9",
  hwId: "1.3.6.1.4.1.3704.1.4",
} as const;

/** Turin VCEKs carry the first 8 bytes of the chip id (AMD KDS names them by that prefix). */
const TURIN_HWID_LENGTH = 8;
const CHIP_ID_LENGTH = 64;
const SNP_CHAIN_CERTS = 2;

interface PinnedArk {
  readonly product: SnpProduct;
  readonly cert: ParsedCertificate;
}

let pinnedArks: PinnedArk[] | undefined;
function pinned(): PinnedArk[] {
  pinnedArks ??= (Object.entries(PINNED_ARK_PEMS) as [SnpProduct, string][]).map(([product, pem]) => ({
    product,
    cert: parseCertificate(pemBlocks(pem, "CERTIFICATE", `pinned ${product} ARK`)[0], `pinned ${product} ARK`),
  }));
  return pinnedArks;
}

function checkValidity(cert: ParsedCertificate, now: number, what: string): void {
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new AttestationError("CERT_CHAIN", `${what} is valid from ${formatUnix(cert.notBefore)} to ${formatUnix(cert.notAfter)}, not at ${formatUnix(now)}; fetch a current certificate from AMD KDS`);
  }
}

function checkSigned(cert: ParsedCertificate, issuer: ParsedCertificate, what: string, issuerName: string): void {
  if (cert.signatureAlgorithm !== OID.RSASSA_PSS) throw new AttestationError("CERT_CHAIN", `${what} is not signed with RSA-PSS as AMD certificates are`);
  if (!bytesEqual(cert.issuer, issuer.subject) || !certificateSignedBy(cert, issuer)) {
    throw new AttestationError("CERT_CHAIN", `${what} is not signed by the ${issuerName}; the certificate was altered or belongs to another chain`);
  }
}

export interface VerifiedVcek {
  readonly product: SnpProduct;
  readonly publicKey: KeyObject;
  readonly tcb: SnpTcb;
  readonly hwId: Uint8Array;
}

function extensionValue(cert: ParsedCertificate, oid: string): Uint8Array | undefined {
  const matches = cert.extensions.filter((e) => e.oid === oid);
  if (matches.length > 1) throw new AttestationError("MALFORMED", `VCEK has extension ${oid} twice`);
  return matches[0]?.value;
}

function splExtension(cert: ParsedCertificate, oid: string, name: string): number {
  const v = extensionValue(cert, oid);
  if (v === undefined) throw new AttestationError("MALFORMED", `VCEK lacks the ${name} extension (${oid})`);
  const n = smallUint(parseDer(v, `VCEK ${name}`), `VCEK ${name}`);
  if (n > 255) throw new AttestationError("MALFORMED", `VCEK ${name} ${n} does not fit a TCB byte`);
  return n;
}

/**
 * Checks VCEK <- ASK <- ARK with ARK pinned, validity at `now`, and returns the
 * VCEK key with the TCB and hardware id it certifies.
 */
export function verifySnpChain(vcekDer: Uint8Array, certChainPem: Uint8Array, now: number): VerifiedVcek {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(certChainPem);
  } catch (cause) {
    throw new AttestationError("MALFORMED", "the SEV-SNP certificate chain is not PEM text", { cause });
  }
  const ders = strictPemCertificates(text, "SEV-SNP certificate chain");
  if (ders.length !== SNP_CHAIN_CERTS) {
    throw new AttestationError("MALFORMED", `the SEV-SNP certificate chain must hold the ASK and the ARK (2 PEM certificates), got ${ders.length}`);
  }
  const certs = ders.map((d, i) => parseCertificate(d, `SEV-SNP chain certificate ${i}`));
  let ark: PinnedArk | undefined;
  let ask: ParsedCertificate | undefined;
  for (const c of certs) {
    const match = pinned().find((p) => bytesEqual(p.cert.der, c.der));
    if (match !== undefined && ark === undefined) ark = match;
    else ask = c;
  }
  if (ark === undefined || ask === undefined) {
    throw new AttestationError("CERT_CHAIN", "the SEV-SNP chain's ARK is not one of the pinned AMD roots (Milan, Genoa, Turin); fetch the chain from https://kdsintf.amd.com/vcek/v1/<product>/cert_chain");
  }
  // The pinned ARK is trusted by identity; its self-signature is still checked so a corrupted constant cannot pass.
  if (!certificateSignedBy(ark.cert, ark.cert)) throw new AttestationError("CERT_CHAIN", `the pinned ${ark.product} ARK is not self-signed`);
  checkValidity(ark.cert, now, `AMD ${ark.product} ARK`);
  checkSigned(ask, ark.cert, "the ASK", `${ark.product} ARK`);
  checkValidity(ask, now, "the ASK");

  const vcek = parseCertificate(vcekDer, "VCEK certificate");
  checkSigned(vcek, ask, "the VCEK", `${ark.product} ASK`);
  checkValidity(vcek, now, "the VCEK");
  const key = publicKeyOf(vcek, "VCEK certificate");
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new AttestationError("CERT_CHAIN", "the VCEK key is not an ECDSA P-384 key");
  }
  // AMD stores the chip id directly as the extension's OCTET STRING contents, not as nested DER.
  const hwIdRaw = extensionValue(vcek, VCEK_OID.hwId);
  if (hwIdRaw === undefined) {
    throw new AttestationError("CERT_CHAIN", "the certificate has no hardware id extension: it is not a VCEK (VLEK-signed reports are not supported)");
  }
  const tcb: SnpTcb = {
    bootloader: splExtension(vcek, VCEK_OID.blSpl, "blSPL"),
    tee: splExtension(vcek, VCEK_OID.teeSpl, "teeSPL"),
    snp: splExtension(vcek, VCEK_OID.snpSpl, "snpSPL"),
    microcode: splExtension(vcek, VCEK_OID.ucodeSpl, "ucodeSPL"),
    fmc: ark.product === "Turin" ? splExtension(vcek, VCEK_OID.fmcSpl, "fmcSPL") : 0,
  };
  return { product: ark.product, publicKey: key, tcb, hwId: Uint8Array.from(hwIdRaw) };
}

/** The VCEK's hardware id must name the chip that produced the report. */
export function hwIdMatchesChip(hwId: Uint8Array, chipId: Uint8Array, product: SnpProduct): boolean {
  if (product === "Turin" && hwId.length === TURIN_HWID_LENGTH) return bytesEqual(hwId, chipId.subarray(0, TURIN_HWID_LENGTH));
  return hwId.length === CHIP_ID_LENGTH && bytesEqual(hwId, chipId);
}

// ---- extended-report certificate table ----

/** GUIDs of the GHCB spec (56421, "MSG_REPORT_REQ" cert table). */
const CERT_TABLE_GUIDS = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
} as const;
type CertTableName = keyof typeof CERT_TABLE_GUIDS;

/** Entries a table may hold before we call it garbage. */
const CERT_TABLE_ENTRIES_MAX = 64;

function guidBytes(guid: string, mixedEndian: boolean): Uint8Array {
  const b = Uint8Array.from(Buffer.from(guid.replace(/-/g, ""), "hex"));
  if (mixedEndian) {
    b.subarray(0, 4).reverse();
    b.subarray(4, 6).reverse();
    b.subarray(6, 8).reverse();
  }
  return b;
}

export type SnpCertTable = Partial<Record<CertTableName, Uint8Array>>;

/**
 * Splits the certificate table (`auxblob` of configfs-tsm for sev_guest):
 * entries of { guid[16], offset u32, length u32 } ending with an all-zero
 * entry; offsets are from the start of the table. Hosts write the GUIDs either
 * in RFC 4122 byte order or in the mixed-endian (EFI) order; both are read.
 */
export function parseSnpCertTable(table: Uint8Array): SnpCertTable {
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: SnpCertTable = {};
  for (let i = 0; ; i++) {
    const o = i * 24;
    if (i >= CERT_TABLE_ENTRIES_MAX || o + 24 > table.length) throw new AttestationError("MALFORMED", "SEV-SNP certificate table has no terminating entry");
    const guid = table.subarray(o, o + 16);
    const offset = dv.getUint32(o + 16, true);
    const length = dv.getUint32(o + 20, true);
    if (guid.every((b) => b === 0)) break;
    if (offset > table.length || length > table.length - offset) throw new AttestationError("MALFORMED", "SEV-SNP certificate table entry points outside the table");
    for (const [name, g] of Object.entries(CERT_TABLE_GUIDS) as [CertTableName, string][]) {
      if (bytesEqual(guid, guidBytes(g, false)) || bytesEqual(guid, guidBytes(g, true))) out[name] = table.slice(offset, offset + length);
    }
  }
  return out;
}

/** A certificate as DER, whether the host stored DER or PEM. */
export function certificateDer(bytes: Uint8Array, what: string): Uint8Array {
  const text = new TextDecoder().decode(bytes.subarray(0, 11));
  if (text === "-----BEGIN ") {
    const [der] = pemBlocks(new TextDecoder().decode(bytes), "CERTIFICATE", what);
    if (der === undefined) throw new AttestationError("MALFORMED", `${what} is PEM without a certificate`);
    return der;
  }
  // Hosts may pad DER blobs with zeros; cut at the DER's own length.
  const node = expectTag(parseNode(bytes, 0, bytes.length, what), TAG.SEQUENCE, what);
  if (bytes.subarray(node.end).some((b) => b !== 0)) throw new AttestationError("MALFORMED", `${what} has non-zero bytes after the certificate`);
  return bytes.slice(0, node.end);
}
