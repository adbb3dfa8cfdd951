import { StateOverlay, type StateChanges } from "./state/overlay.ts";
import { SystemStorage } from "./pallets/system/pallet.ts";
import { endow } from "./pallets/balances/logic.ts";
import { SudoStorage } from "./pallets/sudo/pallet.ts";

export interface GenesisConfig {
  balances: Array<[Uint8Array, bigint]>;
  sudoKey?: Uint8Array;
}

/** Substrate puts this placeholder in System.BlockHash[0] and ParentHash until block 1 records the real genesis hash. */
const HASH69 = new Uint8Array(32).fill(69);

/** The genesis state as key/value pairs, from the chain spec's runtime genesis config. */
export function buildGenesisState(config: GenesisConfig): StateChanges {
  const s = new StateOverlay({ get: () => undefined });
  SystemStorage.BlockHash.set(s, 0, HASH69);
  SystemStorage.ParentHash.set(s, HASH69);
  for (const [who, amount] of config.balances) endow(s, who, amount);
  if (config.sudoKey) SudoStorage.Key.set(s, config.sudoKey);
  return s.changes();
}
