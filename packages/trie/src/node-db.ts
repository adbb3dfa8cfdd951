/**
 * The key/value store the trie persists into. It is the subset of an `lmdb` `Database` the trie uses,
 * so an LMDB database opened with `{ encoding: "binary", keyEncoding: "binary" }` can be passed as is;
 * `MemoryNodeDb` is the same contract over a Map, for tests and for throwaway tries. When the
 * database also has LMDB's `getBinaryFast` (bytes valid until the next read or write), the store
 * reads through it to avoid copies.
 */
import { bytesKey } from "@phala-ts/primitives";
import { copyBytes } from "./slab.ts";

export interface NodeDb {
  /** The value under `key`, or undefined. The returned bytes must stay valid (no reused buffers). */
  getBinary(key: Uint8Array): Uint8Array | undefined;
  /** Stores a copy of `value`: the trie reuses the array it passes once the call returns. */
  putSync(key: Uint8Array, value: Uint8Array): void;
  removeSync(key: Uint8Array): boolean;
}

function mapKey(key: Uint8Array): string {
  return bytesKey(key);
}

export class MemoryNodeDb implements NodeDb {
  private readonly entries = new Map<string, Uint8Array>();

  getBinary(key: Uint8Array): Uint8Array | undefined {
    // A copy, like LMDB's getBinary: callers may hold on to (or mutate) what they read.
    return this.entries.get(mapKey(key))?.slice();
  }

  /** Like LMDB's `getBinaryFast`: no copy, so only valid until the next write; never mutate it. */
  getBinaryFast(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(mapKey(key));
  }

  putSync(key: Uint8Array, value: Uint8Array): void {
    this.entries.set(mapKey(key), copyBytes(value)); // a copy: the trie reuses what it passes
  }

  removeSync(key: Uint8Array): boolean {
    return this.entries.delete(mapKey(key));
  }

  /** Number of stored entries (nodes, refcounts, journals and metadata alike). */
  get size(): number {
    return this.entries.size;
  }

  /** Stored keys, for tests that inspect what is left after pruning. */
  keys(): Uint8Array[] {
    return [...this.entries.keys()].map((k) => new Uint8Array(Buffer.from(k, "latin1")));
  }
}
