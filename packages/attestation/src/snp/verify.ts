/**
 * AMD SEV-SNP report verification with node:crypto only: pinned ARK -> ASK ->
 * VCEK (RSA-PSS/SHA-384), the report's ECDSA P-384 signature, and the binding
 * between the VCEK's certified TCB / chip id and what the report claims.
 */
import { verify as nodeVerify } from "node:crypto";
import { AttestationError } from "../errors.ts";
import { decodeTcb, hwIdMatchesChip, verifySnpChain, type SnpTcb } from "./certs.ts";
import { parseSnpReport, type SnpReport } from "./report.ts";
import type { SnpProduct } from "./roots.ts";

const KEY_INFO_MASK_CHIP_KEY = 0x2;
const KEY_INFO_SIGNING_KEY_SHIFT = 2;
const KEY_INFO_SIGNING_KEY_MASK = 0x7;
const SIGNING_KEY_VCEK = 0;

export interface SnpMeasurement {
  readonly tee: "sev-snp";
  /** Launch digest, 48 bytes. */
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly vmpl: number;
  readonly chipId: Uint8Array;
  readonly product: SnpProduct;
  readonly reportedTcb: SnpTcb;
}

export interface SnpVerified {
  readonly report: SnpReport;
  readonly product: SnpProduct;
  readonly reportedTcb: SnpTcb;
  readonly measurement: SnpMeasurement;
}

function sameTcb(a: SnpTcb, b: SnpTcb): boolean {
  return a.bootloader === b.bootloader && a.tee === b.tee && a.snp === b.snp && a.microcode === b.microcode && a.fmc === b.fmc;
}

const fmtTcb = (t: SnpTcb) => `bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode}${t.fmc ? ` fmc=${t.fmc}` : ""}`;

export function verifySnpReport(reportBytes: Uint8Array, vcekDer: Uint8Array, certChainPem: Uint8Array, now: number): SnpVerified {
  const report = parseSnpReport(reportBytes);
  const signingKey = (report.keyInfo >> KEY_INFO_SIGNING_KEY_SHIFT) & KEY_INFO_SIGNING_KEY_MASK;
  if (report.keyInfo & KEY_INFO_MASK_CHIP_KEY || signingKey !== SIGNING_KEY_VCEK) {
    throw new AttestationError("SIGNATURE", `the SEV-SNP report is not signed with the VCEK (key info 0x${report.keyInfo.toString(16)}); only VCEK-signed reports are supported`);
  }
  const vcek = verifySnpChain(vcekDer, certChainPem, now);
  let ok: boolean;
  try {
    ok = nodeVerify("sha384", report.signed, { key: vcek.publicKey, dsaEncoding: "ieee-p1363" }, report.signatureP1363);
  } catch {
    // OpenSSL throws for R or S out of range; such a signature verifies nothing.
    ok = false;
  }
  if (!ok) throw new AttestationError("SIGNATURE", "the SEV-SNP report signature does not verify with the VCEK; the report was altered or the VCEK belongs to another chip");
  // The signature proves the chip's current key signed; the VCEK must be the one certified for this chip and TCB.
  const reportedTcb = decodeTcb(report.reportedTcb, vcek.product);
  if (!sameTcb(reportedTcb, vcek.tcb)) {
    throw new AttestationError(
      "CERT_CHAIN",
      `the VCEK certifies TCB ${fmtTcb(vcek.tcb)} but the report claims ${fmtTcb(reportedTcb)}; fetch the VCEK for the reported TCB from AMD KDS`,
    );
  }
  if (!hwIdMatchesChip(vcek.hwId, report.chipId, vcek.product)) {
    throw new AttestationError("CERT_CHAIN", "the VCEK is for another chip than the one that produced the report");
  }
  return {
    report,
    product: vcek.product,
    reportedTcb,
    measurement: {
      tee: "sev-snp",
      measurement: report.measurement,
      hostData: report.hostData,
      idKeyDigest: report.idKeyDigest,
      authorKeyDigest: report.authorKeyDigest,
      familyId: report.familyId,
      imageId: report.imageId,
      guestSvn: report.guestSvn,
      policy: report.policy,
      vmpl: report.vmpl,
      chipId: report.chipId,
      product: vcek.product,
      reportedTcb,
    },
  };
}
