/**
 * The one error type this package throws for bad evidence, bad input or an
 * unusable TEE device. Verifiers run inside block execution, so every failure a
 * caller can provoke with bytes must surface as an AttestationError with a
 * stable `code`, never as a crash.
 */
export const ATTESTATION_ERROR_CODES = [
  /** Bytes that do not parse: evidence, quote, report, collateral, certificate, policy. */
  "MALFORMED",
  /** A signature over the evidence or its collateral does not verify. */
  "SIGNATURE",
  /** A certificate chain does not lead to the pinned vendor root, or a certificate is outside its validity. */
  "CERT_CHAIN",
  /** TCB info, QE identity or a CRL is outside its validity window at `now`. */
  "COLLATERAL_EXPIRED",
  /** The collateral verifies but belongs to another platform (FMSPC, TEE type, CRL issuer). */
  "COLLATERAL_MISMATCH",
  /** The platform's TCB level is missing, revoked, or not accepted by the policy (status or advisories). */
  "TCB_REJECTED",
  /** The enclave, TD or guest runs in debug mode and the policy refuses debug. */
  "DEBUG_ENCLAVE",
  /** TD attributes or SEV-SNP guest settings (VMPL) the policy does not accept. */
  "ATTRIBUTES_REJECTED",
  /** The measured code is not on the policy's allow-list. */
  "MEASUREMENT_NOT_ALLOWED",
  /** The evidence binds other report data than the verifier expected. */
  "REPORT_DATA_MISMATCH",
  /** Dev (software) evidence on a chain whose policy does not allow it. */
  "DEV_NOT_ALLOWED",
  /** A TEE type the policy does not list. */
  "TEE_NOT_ALLOWED",
  /** The policy itself is inconsistent (e.g. production policy without measurements). */
  "INVALID_POLICY",
  /** The machine has no such TEE device or interface. */
  "PROVIDER_UNAVAILABLE",
  /** The TEE device exists but did not produce usable evidence. */
  "PROVIDER_FAILED",
] as const;

export type AttestationErrorCode = (typeof ATTESTATION_ERROR_CODES)[number];

export class AttestationError extends Error {
  readonly code: AttestationErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: AttestationErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AttestationError";
    this.code = code;
    this.details = options.details;
  }
}

export function isAttestationError(e: unknown, code?: AttestationErrorCode): e is AttestationError {
  return e instanceof AttestationError && (code === undefined || e.code === code);
}
