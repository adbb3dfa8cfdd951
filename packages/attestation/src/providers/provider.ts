import type { Evidence, TeeType } from "../evidence.ts";

/**
 * Produces evidence on the machine pRuntime runs on. `reportData` (64 bytes) is
 * bound into the evidence; callers put a hash of the keys being attested there.
 */
export interface AttestationProvider {
  readonly tee: TeeType;
  getEvidence(reportData: Uint8Array): Promise<Evidence>;
}
