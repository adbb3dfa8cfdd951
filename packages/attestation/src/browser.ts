/**
 * @phala-ts/attestation for browser bundles (the `browser` export condition): the evidence
 * and policy codecs and the error type, which the runtime's registry pallet needs to encode
 * and decode calls, but no verifier and no providers. Verifying evidence takes X.509 and DCAP
 * code that runs on node:crypto; a browser does not verify evidence itself but trusts the
 * chain's registry, which verified it when the worker registered.
 */
import { AttestationError } from "./errors.ts";
import type { Evidence } from "./evidence.ts";
import type { Verdict, VerifyOptions } from "./verify.ts";

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
export type { Verdict, VerifyOptions, Measurement, DevMeasurement } from "./verify.ts";

/** Refuses: evidence is verified on chain and by Node tools, not in a browser. */
export function verifyEvidence(_evidence: Evidence, _opts: VerifyOptions): Verdict {
  throw new AttestationError(
    "PROVIDER_UNAVAILABLE",
    "verifying TEE evidence needs Node (node:crypto X.509 and DCAP); in a browser, rely on the chain's PhalaRegistry, which verified the worker when it registered",
  );
}
