/**
 * The SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP Firmware ABI, "Attestation
 * Report" table): 1184 bytes, little-endian, signed over 0x000..0x29F with
 * ECDSA P-384/SHA-384; the signature at 0x2A0 holds R and S as 72-byte
 * little-endian integers of which the low 48 bytes are used.
 */
import { AttestationError } from "../errors.ts";

export const SNP_REPORT_LENGTH = 0x4a0;
export const SNP_SIGNED_LENGTH = 0x2a0;
/** ECDSA P-384 with SHA-384, the only algorithm the firmware defines. */
export const SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;
/** Versions 2..5 share the layout of every field read here (later ones only fill reserved space). */
export const SNP_REPORT_VERSION_MIN = 2;
export const SNP_REPORT_VERSION_MAX = 5;

/** Guest policy bits (ABI "Guest Policy" table). */
export const SNP_POLICY_DEBUG_BIT = 19n;

/** The raw 8-byte TCB_VERSION; its byte layout depends on the CPU generation. */
export type RawTcb = Uint8Array;

export interface SnpReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: RawTcb;
  readonly platformInfo: bigint;
  /** AUTHOR_KEY_EN (bit 0), MASK_CHIP_KEY (bit 1), SIGNING_KEY (bits 4:2; 0 = VCEK). */
  readonly keyInfo: number;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: RawTcb;
  readonly chipId: Uint8Array;
  readonly committedTcb: RawTcb;
  readonly launchTcb: RawTcb;
  /** The signed bytes 0x000..0x29F. */
  readonly signed: Uint8Array;
  /** Big-endian R || S, 96 bytes, as node:crypto's ieee-p1363 encoding expects. */
  readonly signatureP1363: Uint8Array;
  readonly debug: boolean;
}

function leToBe48(le72: Uint8Array, what: string): Uint8Array {
  // The upper 24 bytes are padding; insisting on zeros keeps every signature byte meaningful.
  for (let i = 48; i < 72; i++) if (le72[i] !== 0) throw new AttestationError("SIGNATURE", `SEV-SNP signature ${what} does not fit in 48 bytes; the report was altered`);
  const out = new Uint8Array(48);
  for (let i = 0; i < 48; i++) out[i] = le72[47 - i];
  return out;
}

export function parseSnpReport(bytes: Uint8Array): SnpReport {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SNP_REPORT_LENGTH) {
    throw new AttestationError("MALFORMED", `a SEV-SNP report is ${SNP_REPORT_LENGTH} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = (o: number, n: number) => bytes.slice(o, o + n);
  const version = dv.getUint32(0x00, true);
  if (version < SNP_REPORT_VERSION_MIN || version > SNP_REPORT_VERSION_MAX) {
    throw new AttestationError("MALFORMED", `SEV-SNP report version ${version} is not supported (${SNP_REPORT_VERSION_MIN}..${SNP_REPORT_VERSION_MAX})`);
  }
  const signatureAlgo = dv.getUint32(0x34, true);
  if (signatureAlgo !== SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw new AttestationError("MALFORMED", `SEV-SNP report signature algorithm ${signatureAlgo} is not ECDSA P-384/SHA-384`);
  }
  // Bytes after R and S are reserved; zero is the only value the firmware writes.
  for (let i = SNP_SIGNED_LENGTH + 144; i < SNP_REPORT_LENGTH; i++) {
    if (bytes[i] !== 0) throw new AttestationError("SIGNATURE", "SEV-SNP report has non-zero bytes in the reserved part of its signature; the report was altered");
  }
  const policy = dv.getBigUint64(0x08, true);
  return {
    version,
    guestSvn: dv.getUint32(0x04, true),
    policy,
    familyId: at(0x10, 16),
    imageId: at(0x20, 16),
    vmpl: dv.getUint32(0x30, true),
    signatureAlgo,
    currentTcb: at(0x38, 8),
    platformInfo: dv.getBigUint64(0x40, true),
    keyInfo: dv.getUint32(0x48, true),
    reportData: at(0x50, 64),
    measurement: at(0x90, 48),
    hostData: at(0xc0, 32),
    idKeyDigest: at(0xe0, 48),
    authorKeyDigest: at(0x110, 48),
    reportId: at(0x140, 32),
    reportIdMa: at(0x160, 32),
    reportedTcb: at(0x180, 8),
    chipId: at(0x1a0, 64),
    committedTcb: at(0x1e0, 8),
    launchTcb: at(0x1f0, 8),
    signed: at(0, SNP_SIGNED_LENGTH),
    signatureP1363: new Uint8Array([...leToBe48(at(SNP_SIGNED_LENGTH, 72), "R"), ...leToBe48(at(SNP_SIGNED_LENGTH + 72, 72), "S")]),
    debug: ((policy >> SNP_POLICY_DEBUG_BIT) & 1n) === 1n,
  };
}
