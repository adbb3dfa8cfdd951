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

export * from "./common.ts";
export type { Verdict, VerifyOptions, Measurement, DevMeasurement } from "./verify.ts";

/** Refuses: evidence is verified on chain and by Node tools, not in a browser. */
export function verifyEvidence(_evidence: Evidence, _opts: VerifyOptions): Verdict {
  throw new AttestationError(
    "PROVIDER_UNAVAILABLE",
    "verifying TEE evidence needs Node (node:crypto X.509 and DCAP); in a browser, rely on the chain's PhalaRegistry, which verified the worker when it registered",
  );
}
