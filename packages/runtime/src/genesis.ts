import { StateOverlay, type StateChanges } from "./state/overlay.ts";
import { SystemStorage } from "./pallets/system/pallet.ts";
import { endow } from "./pallets/balances/logic.ts";
import { SudoStorage } from "./pallets/sudo/pallet.ts";
import { PhalaRegistryStorage } from "./pallets/phala-registry/storage.ts";
import { RuntimeVersion } from "./types/std.ts";
import { RUNTIME_VERSION } from "./phala-runtime.ts";
import { utf8 } from "@phala-ts/primitives";

/**
 * Substrate's well-known key for the runtime code. Our runtime is TypeScript, not Wasm, so
 * the value describes it: the SCALE-encoded RuntimeVersion. Tools that hash `:code` to tell
 * runtimes apart (polkadot-api does) see a change exactly when the runtime version changes.
 */
export const CODE_KEY = utf8(":code");

export function runtimeCodeDescriptor(): Uint8Array {
  return RuntimeVersion.codec.enc(RUNTIME_VERSION);
}

export interface GenesisConfig {
  balances: Array<[Uint8Array, bigint]>;
  sudoKey?: Uint8Array;
  /** SCALE attestation policy (from `@phala-ts/attestation`) that worker registrations are verified under. */
  attestationPolicy?: Uint8Array;
}

/** Substrate puts this placeholder in System.BlockHash[0] and ParentHash until block 1 records the real genesis hash. */
const HASH69 = new Uint8Array(32).fill(69);

/** The genesis state as key/value pairs, from the chain spec's runtime genesis config. */
export function buildGenesisState(config: GenesisConfig): StateChanges {
  const s = new StateOverlay({ get: () => undefined });
  s.set(CODE_KEY, runtimeCodeDescriptor());
  SystemStorage.BlockHash.set(s, 0, HASH69);
  SystemStorage.ParentHash.set(s, HASH69);
  for (const [who, amount] of config.balances) endow(s, who, amount);
  if (config.sudoKey) SudoStorage.Key.set(s, config.sudoKey);
  if (config.attestationPolicy) PhalaRegistryStorage.AttestationPolicy.set(s, config.attestationPolicy);
  return s.changes();
}
