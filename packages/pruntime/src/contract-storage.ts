/**
 * One contract's committed key/value state (ARCHITECTURE §7): host-side, never in the
 * JavaScript heap between calls, sealed at rest as part of the checkpoint. Calls run against
 * an overlay and their writes are applied here only when the call succeeded and paid.
 * The keys changed since the last checkpoint are tracked, so a checkpoint seals only those
 * into the sealed store (sealed-store.ts).
 */
import { blake2b256 } from "@phala-ts/primitives";
import { T } from "@phala-ts/runtime/types";
import type { StorageReader } from "./contract-runner.ts";

/** Sorted key/value pairs: what `stateHash` hashes and the checkpoint stores. */
export const StorageEntries = T.vec(T.struct(["phala_pruntime", "StorageEntry"], { key: T.str, value: T.str }));

/** A call's net changes: a value, or undefined for a removal. */
export type StorageWrites = ReadonlyMap<string, string | undefined>;

export interface StorageDelta {
  /** Net change of UTF-8 bytes held (keys plus values); negative when the call freed space. */
  bytes: number;
  /** Net change of the number of items. */
  items: number;
}

function sizeOf(key: string, value: string): number {
  return Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8");
}

export class ContractStorage {
  readonly #items = new Map<string, string>();
  #bytes = 0;
  /** stateHash() until the next change: the HTTP API may ask for it often. */
  #hash: Uint8Array | undefined;
  /**
   * Each key's value before its first change since `settle()` (undefined: it did not exist).
   * Commands run off the HTTP thread, so queries can arrive while a block is half applied;
   * through this they read the state at the end of the last whole block (`settled()`).
   */
  readonly #before = new Map<string, string | undefined>();
  readonly #settledView: StorageReader = {
    get: (key) => (this.#before.has(key) ? this.#before.get(key) : this.#items.get(key)),
    keys: (prefix, limit) => this.settledKeys(prefix, limit),
  };

  /** Keys changed (set or removed) since the last `takeChanges()`. */
  readonly #dirty = new Set<string>();

  /** `unsaved`: the entries are not in the sealed store yet (migrated from an inline checkpoint). */
  constructor(entries: Iterable<{ key: string; value: string }> = [], unsaved = false) {
    for (const e of entries) {
      this.#items.set(e.key, e.value);
      this.#bytes += sizeOf(e.key, e.value);
      if (unsaved) this.#dirty.add(e.key);
    }
  }

  /** Loads one entry from the sealed store (restart): not a change. */
  load(key: string, value: string): void {
    const old = this.#items.get(key);
    if (old !== undefined) this.#bytes -= sizeOf(key, old);
    this.#items.set(key, value);
    this.#bytes += sizeOf(key, value);
    this.#hash = undefined;
  }

  /** Changes since the last call, sorted by key: a value, or undefined for a removal. */
  takeChanges(): [string, string | undefined][] {
    const keys = [...this.#dirty].sort();
    this.#dirty.clear();
    return keys.map((k) => [k, this.#items.get(k)]);
  }

  get changed(): number {
    return this.#dirty.size;
  }

  get(key: string): string | undefined {
    return this.#items.get(key);
  }

  /** Keys starting with `prefix`, sorted, at most `limit`. */
  keys(prefix: string, limit: number): string[] {
    const out: string[] = [];
    for (const k of this.#items.keys()) if (k.startsWith(prefix)) out.push(k);
    out.sort();
    return out.length > limit ? out.slice(0, limit) : out;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#items.size;
  }

  /** What applying `writes` would change. */
  deltaOf(writes: StorageWrites): StorageDelta {
    let bytes = 0;
    let items = 0;
    for (const [k, v] of writes) {
      const old = this.#items.get(k);
      if (old !== undefined) {
        bytes -= sizeOf(k, old);
        items--;
      }
      if (v !== undefined) {
        bytes += sizeOf(k, v);
        items++;
      }
    }
    return { bytes, items };
  }

  apply(writes: StorageWrites): void {
    if (writes.size > 0) this.#hash = undefined;
    for (const [k, v] of writes) {
      const old = this.#items.get(k);
      if (!this.#before.has(k)) this.#before.set(k, old);
      this.#dirty.add(k);
      if (old !== undefined) this.#bytes -= sizeOf(k, old);
      if (v === undefined) this.#items.delete(k);
      else {
        this.#items.set(k, v);
        this.#bytes += sizeOf(k, v);
      }
    }
  }

  /** Entries sorted by key (UTF-16 code-unit order, the same on every worker). */
  entries(): { key: string; value: string }[] {
    return [...this.#items.keys()].sort().map((key) => ({ key, value: this.#items.get(key)! }));
  }

  /** blake2b-256 of SCALE `Vec<(String, String)>` of the sorted entries. */
  stateHash(): Uint8Array {
    this.#hash ??= blake2b256(StorageEntries.codec.enc(this.entries()));
    return this.#hash.slice();
  }

  /** The state as of the last `settle()`: what queries read while a block is being applied. */
  settled(): StorageReader {
    return this.#settledView;
  }

  /** The end of a block: its writes become what `settled()` shows. */
  settle(): void {
    this.#before.clear();
  }

  private settledKeys(prefix: string, limit: number): string[] {
    if (this.#before.size === 0) return this.keys(prefix, limit);
    const out: string[] = [];
    for (const k of this.#items.keys()) if (k.startsWith(prefix) && !(this.#before.has(k) && this.#before.get(k) === undefined)) out.push(k);
    for (const [k, v] of this.#before) if (v !== undefined && k.startsWith(prefix) && !this.#items.has(k)) out.push(k);
    out.sort();
    return out.length > limit ? out.slice(0, limit) : out;
  }

  clear(): void {
    for (const k of this.#items.keys()) this.#dirty.add(k);
    this.#before.clear();
    this.#items.clear();
    this.#bytes = 0;
    this.#hash = undefined;
  }
}

/** The UTF-8 text of a call input, or undefined if the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    if (e instanceof TypeError) return undefined; // the decoder's "not valid UTF-8"
    throw e;
  }
}
