/**
 * The one entry point the chain calls: evidence + policy + time -> verdict.
 * Synchronous and deterministic (no clock, no I/O, no randomness); every
 * rejection is an AttestationError with a stable code.
 */
import { timingSafeEqual } from "node:crypto";
import { bytesEqual } from "@phala-ts/primitives";
import { confidenceLevel } from "./confidence.ts";
import { verifyDcapQuote, type SgxMeasurement, type TdxMeasurement } from "./dcap/verify.ts";
import { REPORT_DATA_LENGTH, verifyDevEvidence } from "./dev.ts";
import { AttestationError } from "./errors.ts";
import { assertEvidenceShape, type Evidence, type TeeType } from "./evidence.ts";
import { assertValidPolicy, type AttestationPolicy, type SgxMeasurementRule, type TdxMeasurementRule } from "./policy.ts";
import type { SnpTcb } from "./snp/certs.ts";
import { verifySnpReport, type SnpMeasurement } from "./snp/verify.ts";

export interface DevMeasurement {
  readonly tee: "dev";
  readonly measurement: Uint8Array;
  readonly signer: Uint8Array;
}

export type Measurement = DevMeasurement | SgxMeasurement | TdxMeasurement | SnpMeasurement;

export interface Verdict {
  readonly tee: TeeType;
  readonly reportData: Uint8Array;
  readonly measurement: Measurement;
  /**
   * Intel's TCB status for SGX/TDX; "MinimumTcbMet" for SEV-SNP (AMD publishes no
   * status); "Unverified" for dev evidence.
   */
  readonly tcbStatus: string;
  readonly advisoryIds: readonly string[];
  readonly debug: boolean;
  /** 1 (best) .. 5, 128 for dev; see confidence.ts. */
  readonly confidenceLevel: number;
}

export interface VerifyOptions {
  readonly policy: AttestationPolicy;
  /** Unix seconds; the chain passes its block timestamp. */
  readonly now: number;
  /** The 64 bytes the evidence must bind (e.g. the hash of the registration info). */
  readonly expectedReportData?: Uint8Array;
}

/** What crypto verification established, before the policy looks at it. */
export interface Verified {
  readonly tee: TeeType;
  readonly reportData: Uint8Array;
  readonly measurement: Measurement;
  readonly tcbStatus: string;
  readonly advisoryIds: readonly string[];
  readonly debug: boolean;
  readonly snp?: { readonly vmpl: number; readonly reportedTcb: SnpTcb };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const anyEqual = (list: readonly Uint8Array[], x: Uint8Array) => list.some((m) => bytesEqual(m, x));
const optEqual = (want: Uint8Array | null, got: Uint8Array) => want === null || bytesEqual(want, got);

function gate(evidence: Evidence, policy: AttestationPolicy): void {
  if (evidence.tee === "dev") {
    if (!policy.allowDev) {
      throw new AttestationError("DEV_NOT_ALLOWED", "dev (software) evidence proves no hardware isolation and this chain's policy does not accept it; run pRuntime on SGX, TDX or SEV-SNP");
    }
  } else if (!policy.allowedTees.includes(evidence.tee)) {
    throw new AttestationError("TEE_NOT_ALLOWED", `${evidence.tee} evidence is not accepted by this chain's policy (allowed: ${policy.allowedTees.join(", ") || "none"})`);
  }
}

function verifyCrypto(evidence: Evidence, now: number): Verified {
  switch (evidence.tee) {
    case "dev": {
      const r = verifyDevEvidence(evidence.payload, evidence.signature);
      return {
        tee: "dev",
        reportData: r.reportData,
        measurement: { tee: "dev", measurement: r.measurement, signer: r.signer },
        tcbStatus: "Unverified",
        advisoryIds: [],
        debug: false,
      };
    }
    case "sgx":
    case "tdx": {
      const r = verifyDcapQuote(evidence.tee, evidence.quote, evidence.collateral, now);
      return { tee: r.tee, reportData: r.reportData, measurement: r.measurement, tcbStatus: r.tcbStatus, advisoryIds: r.advisoryIds, debug: r.debug };
    }
    case "sev-snp": {
      const r = verifySnpReport(evidence.report, evidence.vcek, evidence.certChain, now);
      return {
        tee: "sev-snp",
        reportData: r.report.reportData,
        measurement: r.measurement,
        tcbStatus: "MinimumTcbMet",
        advisoryIds: [],
        debug: r.report.debug,
        snp: { vmpl: r.report.vmpl, reportedTcb: r.reportedTcb },
      };
    }
  }
}

export function checkTcb(v: Verified, policy: AttestationPolicy): void {
  if (v.tee === "sgx" || v.tee === "tdx") {
    if (!(policy.acceptedTcbStatuses as readonly string[]).includes(v.tcbStatus)) {
      throw new AttestationError(
        "TCB_REJECTED",
        `the platform's TCB status is ${v.tcbStatus}${v.advisoryIds.length ? ` (advisories ${v.advisoryIds.join(", ")})` : ""}; the policy accepts ${policy.acceptedTcbStatuses.join(", ")}. Update BIOS/microcode and the platform's SGX/TDX software, or change the policy through governance`,
        { details: { tcbStatus: v.tcbStatus, advisoryIds: v.advisoryIds } },
      );
    }
    if (policy.acceptedAdvisoryIds !== null) {
      const refused = v.advisoryIds.filter((a) => !policy.acceptedAdvisoryIds!.includes(a));
      if (refused.length > 0) {
        throw new AttestationError("TCB_REJECTED", `the platform is affected by ${refused.join(", ")}, which the policy does not accept; apply the mitigations Intel lists for them`, {
          details: { advisoryIds: refused },
        });
      }
    }
  }
  if (v.snp !== undefined) {
    const { vmpl, reportedTcb: t } = v.snp;
    if (vmpl > policy.sevSnp.maxVmpl) {
      throw new AttestationError("ATTRIBUTES_REJECTED", `the SEV-SNP report was requested at VMPL ${vmpl}; the policy accepts at most VMPL ${policy.sevSnp.maxVmpl}`);
    }
    const m = policy.sevSnp.minTcb;
    if (t.bootloader < m.bootloader || t.tee < m.tee || t.snp < m.snp || t.microcode < m.microcode || t.fmc < m.fmc) {
      throw new AttestationError(
        "TCB_REJECTED",
        `the SEV-SNP platform TCB (bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode} fmc=${t.fmc}) is below the policy minimum (bl=${m.bootloader} tee=${m.tee} snp=${m.snp} ucode=${m.microcode} fmc=${m.fmc}); update the host firmware`,
      );
    }
  }
}

function sgxRuleMatches(r: SgxMeasurementRule, m: SgxMeasurement): boolean {
  return (
    optEqual(r.mrEnclave, m.mrEnclave) &&
    optEqual(r.mrSigner, m.mrSigner) &&
    (r.isvProdId === null || r.isvProdId === m.isvProdId) &&
    (r.minIsvSvn === null || m.isvSvn >= r.minIsvSvn)
  );
}

function tdxRuleMatches(r: TdxMeasurementRule, m: TdxMeasurement): boolean {
  return bytesEqual(r.mrTd, m.mrTd) && optEqual(r.rtmr0, m.rtmr0) && optEqual(r.rtmr1, m.rtmr1) && optEqual(r.rtmr2, m.rtmr2) && optEqual(r.rtmr3, m.rtmr3);
}

function checkMeasurement(m: Measurement, policy: AttestationPolicy): void {
  let allowed: boolean;
  let shown: string;
  switch (m.tee) {
    case "dev":
      allowed =
        (policy.dev.measurements.length === 0 || anyEqual(policy.dev.measurements, m.measurement)) &&
        (policy.dev.signers.length === 0 || anyEqual(policy.dev.signers, m.signer));
      shown = `measurement ${hex(m.measurement)} signer ${hex(m.signer)}`;
      break;
    case "sgx":
      allowed = policy.sgx.length === 0 || policy.sgx.some((r) => sgxRuleMatches(r, m));
      shown = `MRENCLAVE ${hex(m.mrEnclave)} MRSIGNER ${hex(m.mrSigner)} ISVPRODID ${m.isvProdId} ISVSVN ${m.isvSvn}`;
      break;
    case "tdx":
      allowed = policy.tdx.length === 0 || policy.tdx.some((r) => tdxRuleMatches(r, m));
      shown = `MRTD ${hex(m.mrTd)}`;
      break;
    case "sev-snp":
      allowed = policy.sevSnp.measurements.length === 0 || anyEqual(policy.sevSnp.measurements, m.measurement);
      shown = `measurement ${hex(m.measurement)}`;
      break;
  }
  if (!allowed) {
    throw new AttestationError("MEASUREMENT_NOT_ALLOWED", `the ${m.tee} code (${shown}) is not on the policy's allow-list; run a released pRuntime build or add this measurement through governance`);
  }
}

export function verifyEvidence(evidence: Evidence, opts: VerifyOptions): Verdict {
  const { policy, now, expectedReportData } = opts;
  if (!Number.isSafeInteger(now) || now < 0) throw new AttestationError("MALFORMED", `now must be unix seconds as a non-negative integer, got ${String(now)}`);
  if (expectedReportData !== undefined && (!(expectedReportData instanceof Uint8Array) || expectedReportData.length !== REPORT_DATA_LENGTH)) {
    throw new AttestationError("MALFORMED", `expectedReportData must be ${REPORT_DATA_LENGTH} bytes`);
  }
  assertValidPolicy(policy);
  assertEvidenceShape(evidence);
  gate(evidence, policy);

  const v = verifyCrypto(evidence, now);
  // What the platform is (debug, TCB, code) is judged before what it binds: those refusals
  // hold for any registration, so they are the ones an operator must hear about.
  if (v.debug && !policy.allowDebug) {
    throw new AttestationError("DEBUG_ENCLAVE", `the ${v.tee} guest runs in debug mode, whose memory the host can read; launch it in production mode`);
  }
  checkTcb(v, policy);
  checkMeasurement(v.measurement, policy);
  if (expectedReportData !== undefined && !timingSafeEqual(v.reportData, expectedReportData)) {
    throw new AttestationError("REPORT_DATA_MISMATCH", "the evidence binds other report data than expected: it was made for another key or registration, or replayed; request fresh evidence for this registration");
  }
  return {
    tee: v.tee,
    reportData: v.reportData,
    measurement: v.measurement,
    tcbStatus: v.tcbStatus,
    advisoryIds: v.advisoryIds,
    debug: v.debug,
    confidenceLevel: confidenceLevel(v.tee, v.tcbStatus, v.advisoryIds, policy.confidenceAdvisoryAllowList),
  };
}
