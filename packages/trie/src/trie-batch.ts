/**
 * A batch of writes on top of one committed state: the overlay a block (or a dry run) writes into.
 * Reads see the pending writes and fall through to the parent state. The trie is only updated
 * and hashed when the root is asked for, once for all the writes (deferred hashing).
 */
import { bytesKey, compareBytes } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import { BATCH_WRITES_MAX, KEY_LENGTH_MAX_BYTES, VALUE_LENGTH_MAX_BYTES } from "./limits.ts";
import { MutableTrie, type NodeSource } from "./mutable-trie.ts";
import { bytesToNibbles } from "./nibbles.ts";
import { copyBytes } from "./slab.ts";
import { iterateEntries } from "./trie-reader.ts";

/** What a batch needs from its store. */
export interface TrieBatchBackend {
  source: NodeSource;
  get(root: Uint8Array, key: Uint8Array): Uint8Array | null;
  /** Persists the batch's changes as the state of `blockNumber`; see `TrieStore`. */
  persist(trie: MutableTrie, parentRoot: Uint8Array, blockNumber: number): Uint8Array;
}

export interface TrieCommitResult {
  root: Uint8Array;
}

interface Write {
  key: Uint8Array;
  /** `overlayKey(key)`: its order is the keys' byte order, and strings compare natively. */
  k: string;
  /** null: deleted. */
  value: Uint8Array | null;
  /** Written since the trie last absorbed the overlay. */
  pending: boolean;
}

function overlayKey(key: Uint8Array): string {
  return bytesKey(key);
}

export function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TrieError("INVALID_ARGUMENT", "a storage key is a Uint8Array");
  if (key.length > KEY_LENGTH_MAX_BYTES) {
    throw new TrieError("INVALID_ARGUMENT", "storage key too long", {
      details: { length: key.length, max: KEY_LENGTH_MAX_BYTES },
    });
  }
}

export class TrieBatch {
  readonly parentRoot: Uint8Array;
  private readonly writes = new Map<string, Write>();
  /** Writes made since the trie last absorbed the overlay (each once: see `Write.pending`). */
  private unapplied: Write[] = [];
  private trie: MutableTrie | null = null;
  private closed = false;

  constructor(
    private readonly backend: TrieBatchBackend,
    parentRoot: Uint8Array,
  ) {
    this.parentRoot = parentRoot.slice();
  }

  /** Number of distinct keys written (set or deleted) in this batch. */
  get size(): number {
    return this.writes.size;
  }

  set(key: Uint8Array, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TrieError("INVALID_ARGUMENT", "a storage value is a Uint8Array");
    if (value.length > VALUE_LENGTH_MAX_BYTES) {
      throw new TrieError("INVALID_ARGUMENT", "storage value too long", {
        details: { length: value.length, max: VALUE_LENGTH_MAX_BYTES },
      });
    }
    this.write(key, copyBytes(value));
  }

  delete(key: Uint8Array): void {
    this.write(key, null);
  }

  /** The value as this batch sees it: a pending write, else the parent state's value. */
  get(key: Uint8Array): Uint8Array | null {
    this.checkOpen();
    checkKey(key);
    const w = this.writes.get(overlayKey(key));
    if (w !== undefined) return w.value === null ? null : w.value.slice();
    return this.backend.get(this.parentRoot, key);
  }

  /** Deletes every key starting with `prefix`, as seen by this batch; returns how many there were. */
  deletePrefix(prefix: Uint8Array): number {
    this.checkOpen();
    checkKey(prefix);
    const doomed: Uint8Array[] = [];
    for (const [key] of iterateEntries(this.backend.source, this.parentRoot, prefix, null)) {
      const w = this.writes.get(overlayKey(key));
      if (w === undefined || w.value !== null) doomed.push(key);
    }
    for (const w of this.writes.values()) {
      if (w.value === null || w.key.length < prefix.length) continue;
      if (compareBytes(w.key.subarray(0, prefix.length), prefix) !== 0) continue;
      if (this.backend.get(this.parentRoot, w.key) === null) doomed.push(w.key); // not counted above
    }
    for (const key of doomed) this.write(key, null);
    return doomed.length;
  }

  /** The state root with the pending writes applied, without persisting anything (dry runs). */
  root(): Uint8Array {
    this.checkOpen();
    return this.applied().rootHash();
  }

  /**
   * Persists the batch as the state of block `blockNumber` and closes the batch. Must run inside
   * the caller's LMDB `transactionSync` (see `TrieStore`).
   */
  commit(blockNumber: number): TrieCommitResult {
    this.checkOpen();
    const trie = this.applied();
    const root = this.backend.persist(trie, this.parentRoot, blockNumber);
    this.closed = true;
    this.trie = null;
    this.writes.clear();
    this.unapplied = [];
    return { root };
  }

  // -------------------------------------------------------------------------------------------

  private write(key: Uint8Array, value: Uint8Array | null): void {
    this.checkOpen();
    checkKey(key);
    const k = overlayKey(key);
    const w = this.writes.get(k);
    if (w !== undefined) {
      w.value = value;
      if (!w.pending) {
        w.pending = true;
        this.unapplied.push(w);
      }
      return;
    }
    if (this.writes.size >= BATCH_WRITES_MAX) {
      throw new TrieError("BATCH_TOO_LARGE", "too many writes in one batch", { details: { max: BATCH_WRITES_MAX } });
    }
    const fresh: Write = { key: copyBytes(key), k, value, pending: true };
    this.writes.set(k, fresh);
    this.unapplied.push(fresh);
  }

  /** Folds the unapplied writes into the trie, in key order (neighbouring keys share loaded paths). */
  private applied(): MutableTrie {
    if (this.trie === null) this.trie = new MutableTrie(this.backend.source, this.parentRoot);
    const trie = this.trie;
    if (this.unapplied.length > 0) {
      const pending = this.unapplied;
      pending.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      for (const w of pending) {
        const path = bytesToNibbles(w.key);
        if (w.value === null) trie.remove(path);
        else trie.insert(path, w.value);
      }
      for (const w of pending) w.pending = false;
      this.unapplied = [];
    }
    return trie;
  }

  private checkOpen(): void {
    if (this.closed) throw new TrieError("BATCH_CLOSED", "this batch was committed; start a new one from its root");
  }
}
