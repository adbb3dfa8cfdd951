/**
 * Evidence for registration (ARCHITECTURE §5). The dev provider signs with the worker's
 * identity key and claims the measurement of this pRuntime's sources; hardware providers
 * need a platform sealing key as well, which arrives with them in a later issue.
 */
import { fileURLToPath } from "node:url";
import { DevProvider, measurePruntimeBuild, type AttestationProvider } from "@phala-ts/attestation";
import type { KeyPair } from "@phala-ts/primitives";
import { PruntimeError } from "./errors.ts";
import type { WorkerKeys } from "./keys.ts";

export type PruntimeTee = "dev";
export const PRUNTIME_TEES: readonly PruntimeTee[] = ["dev"];

/** The directory measured for dev evidence: this package's sources. */
const SOURCE_DIR = fileURLToPath(new URL(".", import.meta.url));

/** The dev measurement of this pRuntime build: `measurePruntimeBuild` over its sources. */
export function measureThisPruntime(): Promise<Uint8Array> {
  return measurePruntimeBuild(SOURCE_DIR);
}

function identityKeyPair(keys: WorkerKeys): KeyPair {
  return Object.freeze({ type: "ed25519" as const, publicKey: keys.identityPublicKey, accountId: keys.identityPublicKey, sign: (m: Uint8Array) => keys.sign(m) });
}

export function assertSupportedTee(tee: string): asserts tee is PruntimeTee {
  if (!(PRUNTIME_TEES as readonly string[]).includes(tee)) {
    throw new PruntimeError("UNSUPPORTED_TEE", `TEE "${tee}" is not supported by this pRuntime yet; use --tee dev`, { details: { supported: PRUNTIME_TEES } });
  }
}

export async function createAttestationProvider(tee: string, keys: WorkerKeys, measurement?: Uint8Array): Promise<AttestationProvider> {
  assertSupportedTee(tee);
  return new DevProvider({ signingKey: identityKeyPair(keys), measurement: measurement ?? (await measureThisPruntime()) });
}
