/** @phala-ts/attestation: providers produce evidence, verifiers check it under a policy. */
export { AttestationError, ATTESTATION_ERROR_CODES, isAttestationError, type AttestationErrorCode } from "./errors.ts";
export {
  encodeEvidence,
  decodeEvidence,
  EVIDENCE_FIELD_BYTES_MAX,
  EVIDENCE_BYTES_MAX,
  TEE_TYPES,
  HARDWARE_TEES,
  type Evidence,
  type TeeType,
  type HardwareTee,
} from "./evidence.ts";
export { DEV_SIGNING_CONTEXT, REPORT_DATA_LENGTH, DEV_MEASUREMENT_LENGTH, encodeDevPayload, type DevPayload } from "./dev.ts";
export {
  encodePolicy,
  decodePolicy,
  devPolicy,
  productionPolicy,
  assertValidPolicy,
  POLICY_FORMAT_VERSION,
  POLICY_LIST_ENTRIES_MAX,
  ADVISORY_ID_BYTES_MAX,
  TCB_STATUSES,
  PHALA_CONFIDENCE_ADVISORY_ALLOW_LIST,
  type AttestationPolicy,
  type AcceptableTcbStatus,
  type SgxMeasurementRule,
  type TdxMeasurementRule,
  type SnpMinimumTcb,
  type ProductionPolicyOptions,
} from "./policy.ts";
export { confidenceLevel, DEV_CONFIDENCE_LEVEL } from "./confidence.ts";
export { verifyEvidence, type Verdict, type VerifyOptions, type Measurement, type DevMeasurement } from "./verify.ts";
export type { SgxMeasurement, TdxMeasurement } from "./dcap/verify.ts";
export type { SnpMeasurement } from "./snp/verify.ts";
export type { SnpTcb, SnpCertTable } from "./snp/certs.ts";
export { parseSnpCertTable } from "./snp/certs.ts";
export type { SnpProduct } from "./snp/roots.ts";
export { encodeDcapCollateral } from "./dcap/collateral.ts";
export { measurePruntimeBuild, MEASURE_FILES_MAX, MEASURE_FILE_BYTES_MAX } from "./measure.ts";
export type { AttestationProvider } from "./providers/provider.ts";
export { nodeProviderFs, type ProviderFs } from "./providers/fs.ts";
export { DevProvider, type DevProviderOptions } from "./providers/dev.ts";
export { TsmProvider, TSM_REPORT_ROOT, TSM_ATTEMPTS_MAX, type TsmProviderOptions } from "./providers/tsm.ts";
export { GramineSgxProvider, GRAMINE_ATTESTATION_ROOT, type GramineSgxProviderOptions } from "./providers/gramine.ts";
