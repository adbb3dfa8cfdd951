/**
 * What both entries of @phala-ts/attestation export: errors, the evidence and policy codecs,
 * the dev payload and confidence levels. None of it needs Node, so browser bundles get it too.
 */
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
