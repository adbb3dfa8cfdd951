/**
 * What an operator should do when the chain refuses the worker's `register_worker` or
 * `update_worker_endpoint` in dispatch, by the `PhalaRegistry` error it names.
 */
export const REGISTRY_REFUSAL_HINTS: Readonly<Record<string, string>> = {
  DevAttestationNotAllowed:
    "this chain's attestation policy does not accept dev evidence; run pRuntime with a hardware TEE (--tee …) or use a dev chain (chain spec with devAttestation: true)",
  TeeNotAllowed: "this chain's attestation policy does not accept this pRuntime's kind of TEE; run pRuntime with a TEE the policy lists (--tee …)",
  MeasurementNotAllowed: "the chain's attestation policy does not list this pRuntime build's measurement; run a pRuntime release the chain has approved",
  DebugEnclave: "pRuntime runs in a debug enclave, which the chain refuses; run a production build",
  TcbRejected: "the machine's TEE platform (firmware, microcode) is below the level the chain's policy requires; update it",
  CollateralExpired: "the attestation collateral (TCB info, revocation lists) in the evidence is out of date; pRuntime fetches fresh collateral for the next attempt",
  EvidenceSignature: "the attestation evidence does not verify; it was altered on the way or does not come from a genuine TEE",
  EvidenceMalformed: "the chain cannot read pRuntime's attestation evidence; pRuntime and the chain's runtime may be incompatible versions",
  AttestationPolicyMissing: "the chain has no attestation policy yet; its governance must set one (PhalaRegistry.set_attestation_policy)",
  ReportDataMismatch: "the attestation evidence does not commit to this registration info; pRuntime produced the two for different data (restart pRuntime; report it if it persists)",
  GenesisMismatch: "pRuntime's registration names another chain's genesis; point pHost at the node of the chain pRuntime follows, or give pRuntime a fresh data directory",
  WorkerKeyMismatch: "the evidence was signed by another key than the worker's identity key; pRuntime's evidence does not belong to this worker (give it a fresh data directory)",
  EndpointStale: "the signed endpoint was too old (or ahead of the chain) when it was included; pHost asks pRuntime for a fresh one",
  EndpointSignature: "the endpoint's signature does not verify under the worker's identity key; pRuntime's identity differs from the registered worker",
  EndpointTooLong: "the endpoint URL is longer than the chain accepts; advertise a shorter one (--endpoint)",
};

/**
 * Registration refusals whose cause cannot change without the operator (a different TEE,
 * build, chain or data directory): submitting again every few blocks would only pay fees,
 * so these wait the longest backoff between attempts.
 */
export const REGISTRATION_REFUSALS_NEEDING_OPERATOR: ReadonlySet<string> = new Set([
  "PhalaRegistry.DevAttestationNotAllowed",
  "PhalaRegistry.TeeNotAllowed",
  "PhalaRegistry.MeasurementNotAllowed",
  "PhalaRegistry.DebugEnclave",
  "PhalaRegistry.GenesisMismatch",
  "PhalaRegistry.WorkerKeyMismatch",
  "PhalaRegistry.ReportDataMismatch",
]);

const REGISTRY_PREFIX = "PhalaRegistry.";

/** The hint for a dispatch error name such as "PhalaRegistry.EndpointStale", or undefined. */
export function registryRefusalHint(dispatchError: string): string | undefined {
  if (!dispatchError.startsWith(REGISTRY_PREFIX)) return undefined;
  const name = dispatchError.slice(REGISTRY_PREFIX.length);
  return Object.hasOwn(REGISTRY_REFUSAL_HINTS, name) ? REGISTRY_REFUSAL_HINTS[name] : undefined;
}
