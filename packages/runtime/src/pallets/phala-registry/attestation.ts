import { AttestationError, decodeEvidence, decodePolicy, verifyEvidence, type Measurement } from "@phala-ts/attestation";

/** The part of a verdict the registry stores. */
export interface RegistrationVerdict {
  tee: "Dev" | "Sgx" | "Tdx" | "SevSnp";
  confidenceLevel: number;
  measurement: Uint8Array;
  /** For dev evidence, the key that signed it; it must be the worker's identity key. */
  devSigner?: Uint8Array;
}

export type AttestationFailure = { code: string; message: string };

const TEE_KIND = { dev: "Dev", sgx: "Sgx", tdx: "Tdx", "sev-snp": "SevSnp" } as const;

/** The one measurement that names the code: MRENCLAVE, MRTD, the SNP launch digest or the dev build hash. */
function primaryMeasurement(m: Measurement): Uint8Array {
  switch (m.tee) {
    case "dev":
      return m.measurement;
    case "sgx":
      return m.mrEnclave;
    case "tdx":
      return m.mrTd;
    case "sev-snp":
      return m.measurement;
  }
}

/** Verifies registration evidence under the chain's policy; never throws for bad bytes. */
export function verifyRegistrationEvidence(
  evidenceBytes: Uint8Array,
  policyBytes: Uint8Array,
  nowSecs: number,
  reportData: Uint8Array,
): RegistrationVerdict | AttestationFailure {
  try {
    const policy = decodePolicy(policyBytes);
    const evidence = decodeEvidence(evidenceBytes);
    const v = verifyEvidence(evidence, { policy, now: nowSecs, expectedReportData: reportData });
    return {
      tee: TEE_KIND[v.tee],
      confidenceLevel: v.confidenceLevel,
      measurement: primaryMeasurement(v.measurement),
      devSigner: v.measurement.tee === "dev" ? v.measurement.signer : undefined,
    };
  } catch (e) {
    if (e instanceof AttestationError) return { code: e.code, message: e.message };
    throw e;
  }
}
