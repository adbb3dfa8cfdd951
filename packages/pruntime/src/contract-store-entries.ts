/**
 * How contract storage and command results map onto sealed-store entries (sealed-store.ts):
 *   storage: key = 0x01 ++ contract id(32) ++ UTF-8 key,        value = UTF-8 value
 *   result:  key = 0x02 ++ contract id(32) ++ command id(32),   value = seq(u64 LE) ++ SCALE CommandResult
 * The space byte keeps a storage key from ever reading as a result and the other way round.
 */
import { concatBytes, utf8 } from "@phala-ts/primitives";
import type { SavedResult } from "./command-results.ts";
import { PruntimeError } from "./errors.ts";
import type { StoreChange } from "./sealed-store.ts";

const SPACE_STORAGE = 1;
const SPACE_RESULT = 2;
const ID_LENGTH = 32;
const SEQ_LENGTH = 8;

export function storageChange(contract: Uint8Array, key: string, value: string | undefined): StoreChange {
  return { key: concatBytes(Uint8Array.of(SPACE_STORAGE), contract, utf8(key)), value: value === undefined ? undefined : utf8(value) };
}

export function resultChange(contract: Uint8Array, commandId: Uint8Array, saved: SavedResult | undefined): StoreChange {
  let value: Uint8Array | undefined;
  if (saved !== undefined) {
    value = new Uint8Array(SEQ_LENGTH + saved.result.length);
    new DataView(value.buffer).setBigUint64(0, saved.seq, true);
    value.set(saved.result, SEQ_LENGTH);
  }
  return { key: concatBytes(Uint8Array.of(SPACE_RESULT), contract, commandId), value };
}

/** Contract state read back from the store on restart, grouped for ContractsMachine. */
export class LoadedContractState {
  /** Storage entries by contract id (hex). */
  readonly storage = new Map<string, { key: string; value: string }[]>();
  readonly results: SavedResult[] = [];

  /** The store's onEntry callback. */
  readonly add = (key: Uint8Array, value: Uint8Array): void => {
    const malformed = () =>
      new PruntimeError("STORE_CORRUPTED", "a sealed contract store entry authenticates but has an unknown layout; it was written by an incompatible pRuntime. Run the version that wrote it");
    if (key.length < 1 + ID_LENGTH) throw malformed();
    const contract = key.subarray(1, 1 + ID_LENGTH);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    if (key[0] === SPACE_STORAGE) {
      const id = Buffer.from(contract).toString("hex");
      let list = this.storage.get(id);
      if (list === undefined) this.storage.set(id, (list = []));
      try {
        list.push({ key: decoder.decode(key.subarray(1 + ID_LENGTH)), value: decoder.decode(value) });
      } catch (e) {
        if (e instanceof TypeError) throw malformed();
        throw e;
      }
    } else if (key[0] === SPACE_RESULT) {
      if (key.length !== 1 + 2 * ID_LENGTH || value.length < SEQ_LENGTH) throw malformed();
      const seq = new DataView(value.buffer, value.byteOffset, SEQ_LENGTH).getBigUint64(0, true);
      this.results.push({ contract: contract.slice(), commandId: key.slice(1 + ID_LENGTH), seq, result: value.slice(SEQ_LENGTH) });
    } else {
      throw malformed();
    }
  };
}
