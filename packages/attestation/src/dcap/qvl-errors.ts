/**
 * dcap-qvl (0.3.9, src/verify.js and src/utils.js) throws plain Errors whose
 * message is the only signal. This table turns each into a stable code and a
 * message that says what to do. Unknown messages (asn1 or JSON parse failures
 * deep inside the library) become MALFORMED with the original as `cause`.
 */
import { AttestationError, type AttestationErrorCode } from "../errors.ts";

const FRESH = "fetch fresh collateral from PCCS (dcap-qvl getCollateral) and retry";

const TABLE: readonly (readonly [RegExp, AttestationErrorCode, string])[] = [
  [/^TCBInfo expired$/, "COLLATERAL_EXPIRED", `TCB info in the collateral has expired; ${FRESH}`],
  [/^QE Identity expired$/, "COLLATERAL_EXPIRED", `QE identity in the collateral has expired; ${FRESH}`],
  [/issue date is in the future$/, "COLLATERAL_EXPIRED", "the collateral was issued after `now`; check the verifier's time or use collateral issued before it"],
  [/^Certificate is expired or not yet valid$/, "CERT_CHAIN", `a certificate of the PCK or collateral chain is not valid at \`now\`; ${FRESH}`],
  [/^Failed to verify certificate chain/, "CERT_CHAIN", "a certificate chain in the quote or collateral does not lead to the Intel SGX Root CA"],
  [/^CaUsedAsEndEntity$/, "CERT_CHAIN", "a CA certificate was used as the signing (leaf) certificate"],
  [/^Certificate is revoked$/, "CERT_CHAIN", "a certificate in the chain is revoked by Intel; this platform cannot be trusted"],
  [/^(Intel extension|OID .* is missing|CpuSvn length|PceSvn length|Fmspc length)/, "CERT_CHAIN", "the PCK certificate lacks valid Intel SGX extensions"],
  [/^Signature is invalid for tcb_info$/, "SIGNATURE", "TCB info signature does not verify; the collateral was altered"],
  [/^Signature is invalid for qe_identity$/, "SIGNATURE", "QE identity signature does not verify; the collateral was altered"],
  [/^Signature is invalid for qe_report in quote$/, "SIGNATURE", "the quoting enclave's report is not signed by the PCK key; the quote was altered"],
  [/^QE report hash mismatch$/, "SIGNATURE", "the attestation key is not the one the quoting enclave certified; the quote was altered"],
  [/^ISV enclave report signature is invalid$/, "SIGNATURE", "the quote signature does not verify over the report body; the quote was altered"],
  [/^QE (MRSIGNER|ISVPRODID|MISCSELECT|ATTRIBUTES) mismatch/, "SIGNATURE", "the quote was not produced by Intel's quoting enclave (QE identity mismatch)"],
  [/^QE ISVSVN .* below minimum/, "TCB_REJECTED", "the quoting enclave is older than any TCB level Intel lists; update the platform's DCAP software"],
  [/^Fmspc mismatch$/, "COLLATERAL_MISMATCH", "the TCB info is for another platform (FMSPC); fetch the collateral for this quote"],
  [/with non-(TDX|SGX) TCB info in the collateral$/, "COLLATERAL_MISMATCH", "the collateral is for the other TEE type (SGX vs TDX); fetch the collateral for this quote"],
  [/^Unsupported QE Identity id\/version/, "COLLATERAL_MISMATCH", "the QE identity is for the other TEE type (SGX vs TDX); fetch the collateral for this quote"],
  [/^No matching TCB level found$/, "TCB_REJECTED", "no TCB level in Intel's TCB info matches this platform: its firmware or microcode is older than every listed level; update BIOS/microcode"],
  [/^TCB status is invalid/, "TCB_REJECTED", "Intel reports this platform's TCB as revoked or unknown"],
  [/^No (SGX|TDX) components in the TCB info$/, "TCB_REJECTED", "the TCB info lists no components for this platform"],
  [/^Debug mode is enabled$/, "DEBUG_ENCLAVE", "the enclave or TD runs in debug mode, whose memory the host can read; rebuild/launch it in production mode"],
  [/^(Reserved bits in TD attributes are set|SEPT_VE_DISABLE is not enabled|Invalid mr service td)$/, "ATTRIBUTES_REJECTED", "the TD's attributes are not acceptable"],
];

export function mapQvlError(e: unknown): AttestationError {
  const message = e instanceof Error ? e.message : String(e);
  for (const [re, code, text] of TABLE) {
    if (re.test(message)) return new AttestationError(code, `${text} (dcap-qvl: ${message})`, { cause: e });
  }
  return new AttestationError("MALFORMED", `DCAP quote or collateral could not be processed (dcap-qvl: ${message})`, { cause: e });
}
