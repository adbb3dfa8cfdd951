/**
 * A bounded cache of stored trie entries (nodes and value nodes) by hash, kept as raw bytes.
 * Entries are addressed by the blake2b-256 of their bytes, so a cached entry can never be stale:
 * the only question is whether the database still holds it, which the store answers by evicting
 * what it deletes (see `TrieStore`).
 *
 * Layout, chosen for memory traffic and GC: a large cache is read at random, so each pointer a
 * lookup follows is a likely cache miss, and every object it holds is visited by the garbage
 * collector. So there are no per-entry objects at all: entries are numbered, their fields live in
 * typed arrays, their hash and bytes side by side (`hash ++ bytes`) in slabs the cache owns, and the
 * index is an open-addressing table (linear probing) of entry numbers. Nodes are walked in their
 * encoding (see `NodeCursor`) instead of being kept decoded.
 *
 * Eviction is CLOCK (second chance), the usual approximation of least-recently-used: a hit only
 * sets the entry's flag; the hand clears flags and evicts the first entry not used since it last
 * passed.
 */
import { HASH_LENGTH_BYTES } from "./node-codec.ts";
import type { StoredRef } from "./node-source.ts";

/** Entries the cache starts with room for; it doubles up to its capacity as it fills. */
const INITIAL_ENTRIES = 1024;
/**
 * Slab size for cached bytes: large enough to hold dozens of nodes, small enough that a few
 * long-lived entries keep little else alive.
 */
const CACHE_SLAB_BYTES = 32 * 1024;
/** Entries larger than this get an array of their own rather than most of a slab. */
const CACHE_SLAB_ENTRY_MAX_BYTES = 4 * 1024;

/** The first four bytes of the hash at `hash[at ..]`, as an int32. */
function tagOf(hash: Uint8Array, at: number): number {
  return hash[at] | (hash[at + 1] << 8) | (hash[at + 2] << 16) | (hash[at + 3] << 24);
}

export class NodeCache {
  /** Per entry: the array holding `hash ++ bytes` (null: free), where the bytes start, how many. */
  private bufs: (Uint8Array | null)[] = [];
  private offs = new Int32Array(INITIAL_ENTRIES);
  private lens = new Int32Array(INITIAL_ENTRIES);
  /** `scanNode`'s flags once the bytes were checked as a node; 0 before. */
  private flags = new Int32Array(INITIAL_ENTRIES);
  /** `tagOf` the hash: the table slot it hashes to, and a cheap filter before comparing 32 bytes. */
  private tags = new Int32Array(INITIAL_ENTRIES);
  /** Read since the clock hand last passed. */
  private used = new Uint8Array(INITIAL_ENTRIES);
  /** Open addressing, twice the entries: entry number + 1, or 0 for an empty slot. */
  private table = new Int32Array(2 * INITIAL_ENTRIES);
  private mask = 2 * INITIAL_ENTRIES - 1;
  /** Entry numbers freed by `delete`, for reuse. */
  private readonly free: number[] = [];
  /** Entry numbers ever handed out (0 .. top); room for `offs.length`. */
  private top = 0;
  private count = 0;
  private hand = 0;
  private slab = new Uint8Array(CACHE_SLAB_BYTES);
  private slabUsed = 0;

  /**
   * @param capacity most entries held
   * @param entryMaxBytes larger entries are not cached (a runtime's code would crowd out thousands of nodes)
   */
  constructor(
    private readonly capacity: number,
    readonly entryMaxBytes: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The entry for the hash at `hash[at .. at + 32)`, marked as used; -1 if not cached. */
  find(hash: Uint8Array, at: number): number {
    const tag = tagOf(hash, at);
    const table = this.table;
    const mask = this.mask;
    for (let slot = tag & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot] - 1;
      if (e < 0) return -1;
      if (this.tags[e] !== tag) continue;
      const buf = this.bufs[e] as Uint8Array;
      let i = 4; // the tag matched the first four bytes
      for (let p = this.offs[e] - HASH_LENGTH_BYTES + 4; i < HASH_LENGTH_BYTES; i++, p++) if (buf[p] !== hash[at + i]) break;
      if (i === HASH_LENGTH_BYTES) {
        this.used[e] = 1;
        return e;
      }
    }
  }

  /** Points `out` at entry `e`'s bytes, with its node flags. */
  fill(e: number, out: StoredRef): void {
    out.buf = this.bufs[e] as Uint8Array;
    out.off = this.offs[e];
    out.len = this.lens[e];
    out.nodeFlags = this.flags[e];
  }

  /** Records `scanNode`'s flags for entry `e`. */
  setNodeFlags(e: number, flags: number): void {
    this.flags[e] = flags;
  }

  /**
   * Caches a copy of `bytes[from .. from + length)` under the hash at `hash[at .. at + 32)` and returns
   * its entry (the existing one if cached already). The caller checks `length <= entryMaxBytes`.
   * `bytes` may be LMDB's reused read buffer, whose `length` property is not its true length, as
   * long as `length` is less than that property (the store always leaves out the refcount).
   */
  add(hash: Uint8Array, at: number, bytes: Uint8Array, from: number, length: number): number {
    const existing = this.find(hash, at);
    if (existing >= 0) return existing;
    let e: number;
    if (this.free.length > 0) e = this.free.pop() as number;
    else if (this.top < this.capacity) {
      if (this.top === this.offs.length) this.grow();
      e = this.top++;
    } else e = this.evict();

    const size = HASH_LENGTH_BYTES + length;
    let buf: Uint8Array;
    let start: number;
    if (size > CACHE_SLAB_ENTRY_MAX_BYTES) {
      buf = new Uint8Array(size);
      start = 0;
    } else {
      if (this.slabUsed + size > CACHE_SLAB_BYTES) {
        this.slab = new Uint8Array(CACHE_SLAB_BYTES);
        this.slabUsed = 0;
      }
      buf = this.slab;
      start = this.slabUsed;
      this.slabUsed += size;
    }
    for (let i = 0; i < HASH_LENGTH_BYTES; i++) buf[start + i] = hash[at + i];
    const off = start + HASH_LENGTH_BYTES;
    if (from === 0 && length === bytes.length) buf.set(bytes, off); // an array of exactly these bytes
    else if (length <= 64) for (let i = 0; i < length; i++) buf[off + i] = bytes[from + i];
    else buf.set(bytes.subarray(from, from + length), off);

    const tag = tagOf(hash, at);
    this.bufs[e] = buf;
    this.offs[e] = off;
    this.lens[e] = length;
    this.flags[e] = 0;
    this.tags[e] = tag;
    this.used[e] = 0;
    this.insertSlot(e, tag);
    this.count++;
    return e;
  }

  /** Forgets the hash at `hash[at .. at + 32)` (its entry was deleted from the database). */
  delete(hash: Uint8Array, at: number): void {
    const e = this.find(hash, at);
    if (e < 0) return;
    this.remove(e);
    this.free.push(e);
  }

  // -------------------------------------------------------------------------------------------

  private insertSlot(e: number, tag: number): void {
    const table = this.table;
    const mask = this.mask;
    let slot = tag & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = e + 1;
  }

  /** Frees the first entry under the hand not used since the hand last passed it. */
  private evict(): number {
    for (;;) {
      const e = this.hand;
      this.hand = e + 1 === this.top ? 0 : e + 1;
      if (this.bufs[e] === null) continue;
      if (this.used[e] !== 0) this.used[e] = 0;
      else {
        this.remove(e);
        return e;
      }
    }
  }

  /** Takes entry `e` out of the table (linear probing's backward-shift deletion) and frees its bytes. */
  private remove(e: number): void {
    const table = this.table;
    const mask = this.mask;
    let hole = this.tags[e] & mask;
    while (table[hole] !== e + 1) hole = (hole + 1) & mask;
    table[hole] = 0;
    // Move back any later entry of the probe run whose home slot is not in (hole, j].
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.tags[table[j] - 1] & mask;
      const between = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!between) {
        table[hole] = table[j];
        table[j] = 0;
        hole = j;
      }
    }
    this.bufs[e] = null;
    this.count--;
  }

  /** Doubles the room for entries (up to the capacity) and rebuilds the table. */
  private grow(): void {
    const n = Math.min(this.offs.length * 2, this.capacity);
    const widen = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const out = make(n);
      out.set(a);
      return out;
    };
    this.offs = widen(this.offs, (k) => new Int32Array(k));
    this.lens = widen(this.lens, (k) => new Int32Array(k));
    this.flags = widen(this.flags, (k) => new Int32Array(k));
    this.tags = widen(this.tags, (k) => new Int32Array(k));
    this.used = widen(this.used, (k) => new Uint8Array(k));
    let size = 2;
    while (size < 2 * n) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let e = 0; e < this.top; e++) if (this.bufs[e] !== null) this.insertSlot(e, this.tags[e]);
  }
}
