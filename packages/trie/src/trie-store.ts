/**
 * The persistent state trie: nodes keyed by hash in one LMDB database (or any `NodeDb`), with
 * reference counting and a per-block journal so that old states are pruned after a window.
 *
 * Database layout (the databases belong to the trie; share them with nothing else):
 *   db:        hash (32 bytes)               -> encoded node (or a value node's bytes) ++ refcount (u32 LE)
 *   journalDb (db when not given; its keys never collide with 32-byte hashes):
 *              0x02 ++ block number (u32 BE) -> journal: hashes (32 bytes each) the block made unreachable
 *              0x03 ++ name                  -> metadata ("last": last committed block, "prune": next journal)
 * The refcount rides along with the node so that storing a new node is one write, not two.
 *
 * Refcount invariant: refcount(h) = number of occurrences of h in the latest committed state (as the
 * root, a hashed child reference or a value-node reference) + number of entries of h in journals
 * not yet pruned. A commit increments the occurrences it creates and journals the ones it removes;
 * pruning a journal decrements them, and a node whose count reaches 0 is deleted. So after committing
 * block N, the states of blocks N - pruningDepthBlocks ..= N stay readable and older ones do not.
 *
 * Node cache: the entries read and the ones a commit writes are kept, as raw bytes, in a bounded
 * cache by hash (`NODE_CACHE_ENTRIES_MAX`, see node-cache.ts), so that reads and the next block
 * rarely touch the database. An entry's bytes are fixed by its hash, so the cache is never stale;
 * entries the store deletes (pruning) are evicted with them, so a pruned state reads as MISSING_NODE
 * as before. Entries written by a commit whose transaction the caller then aborts stay cached until
 * evicted: reading that (unstored) state may still succeed, with its true content, but `hasRoot`
 * reads the database and a commit checks that its parent state is stored, so nothing is ever built
 * on such a state. Refcounts are always read from the database.
 *
 * Transactions: `TrieBatch.commit` only issues synchronous `putSync`/`removeSync` calls and never
 * opens a transaction itself. The node runs it inside its own `env.transactionSync(() => ...)` so
 * that one block (trie, refcounts, journal, block data) is one durable LMDB transaction; if the
 * transaction aborts, nothing of the commit remains. Forks are not supported: blocks are final and
 * committed once, in increasing order.
 */
import assert from "node:assert/strict";
import { bytesEqual, bytesKey, compareBytes, writeU32le } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import { BLOCK_NUMBER_MAX, KEYS_PAGE_MAX, NODE_CACHE_ENTRIES_MAX, PROOF_KEYS_MAX } from "./limits.ts";
import type { MutableTrie } from "./mutable-trie.ts";
import { NodeCache } from "./node-cache.ts";
import { EMPTY_TRIE_ROOT, HASH_LENGTH_BYTES, scanNode } from "./node-codec.ts";
import type { NodeDb } from "./node-db.ts";
import type { NodeSource, StoredRef } from "./node-source.ts";
import { TrieBatch, checkKey } from "./trie-batch.ts";
import { iterateEntries, lookup, resolveValue } from "./trie-reader.ts";

export interface TrieStoreOptions {
  /**
   * Where nodes, refcounts and journals live: an LMDB database opened with
   * `{ encoding: "binary", keyEncoding: "binary" }`, or a `MemoryNodeDb`.
   */
  db: NodeDb;
  /**
   * Where pruning journals and metadata live; defaults to `db` (their keys never collide with
   * 32-byte node hashes). Same encoding requirements as `db`.
   */
  journalDb?: NodeDb;
  /**
   * How many blocks back states stay readable: after committing block N, states N - depth ..= N
   * are kept. 0 keeps only the latest state. `Infinity` is an archive: nothing is ever pruned.
   */
  pruningDepthBlocks: number;
}

export interface KeysOptions {
  /** Only keys starting with this prefix (default: all keys). */
  prefix?: Uint8Array;
  /** Only keys strictly greater than this one, as `state_getKeysPaged`'s `startKey`. */
  startKey?: Uint8Array;
  /** Most keys to return, 1..KEYS_PAGE_MAX. */
  limit: number;
}

/** Bytes of the refcount suffix stored after each node. */
const REFCOUNT_BYTES = 4;
const JOURNAL_TAG = 0x02;
const META_TAG = 0x03;
const META_LAST_BLOCK = metaKey("last");
const META_PRUNE_FROM = metaKey("prune");

function metaKey(name: string): Uint8Array {
  const out = new Uint8Array(1 + name.length);
  out[0] = META_TAG;
  for (let i = 0; i < name.length; i++) out[1 + i] = name.charCodeAt(i);
  return out;
}

function journalKey(blockNumber: number): Uint8Array {
  return Uint8Array.of(JOURNAL_TAG, blockNumber >>> 24, (blockNumber >>> 16) & 0xff, (blockNumber >>> 8) & 0xff, blockNumber & 0xff);
}

function writeCounter(out: Uint8Array, pos: number, n: number): void {
  assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff, "stored counters are u32");
  writeU32le(out, pos, n);
}

function readU32le(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16)) + bytes[pos + 3] * 2 ** 24;
}

function counterBytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeCounter(out, 0, n);
  return out;
}

function entryRefcount(entry: Uint8Array): number {
  assert.ok(entry.length >= REFCOUNT_BYTES, "a stored node ends with its refcount");
  return readU32le(entry, entry.length - REFCOUNT_BYTES);
}


/** `scanNode`'s flags for a stored node; the empty-trie node is not one below a root. */
function checkedNode(buf: Uint8Array, off: number, len: number): number {
  const flags = scanNode(buf, off, off + len);
  if (flags === 0) throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length: len } });
  return flags;
}

function checkRoot(root: Uint8Array): void {
  if (!(root instanceof Uint8Array) || root.length !== HASH_LENGTH_BYTES) {
    throw new TrieError("INVALID_ARGUMENT", "a state root is 32 bytes");
  }
}

/** An LMDB database's zero-copy read: the bytes stay valid only until the next read. */
type FastGet = (key: Uint8Array) => Uint8Array | undefined;

/**
 * Entries up to this size are assembled (node bytes ++ refcount) in one reused buffer before
 * `putSync`, which copies them; bigger ones (large values) get their own.
 */
const ENTRY_SCRATCH_BYTES = 64 * 1024;

/** Removed occurrences of one hash in a commit, chained by bucket. */
interface Removal {
  hash: Uint8Array;
  /** Removals not (yet) netted out against new occurrences. */
  count: number;
  chain: Removal | null;
}

/**
 * Indices of `hashes` in (about) their byte order, which is the database's key order: successive
 * writes then land on neighbouring B-tree pages, which stay in the CPU's caches. Sorts numbers,
 * which is fast: each packs a hash's leading bits above its index (exactly, within 2^53).
 */
function keyOrder(hashes: readonly Uint8Array[]): Uint32Array {
  const n = hashes.length;
  let indexBits = 1;
  while (2 ** indexBits < n) indexBits++;
  const prefixBits = Math.min(32, 53 - indexBits);
  const scale = 2 ** indexBits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = hashes[i];
    const prefix = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
    keys[i] = Math.floor(prefix / 2 ** (32 - prefixBits)) * scale + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i] % scale;
  return order;
}

/** 30 bits of a hash: a small-integer `Map` key. */
function bucketOf(hash: Uint8Array): number {
  return hash[0] | (hash[1] << 8) | (hash[2] << 16) | ((hash[3] & 0x3f) << 24);
}

function missingNode(hash: Uint8Array): TrieError {
  return new TrieError("MISSING_NODE", "trie node not found: the state was pruned or never stored here", {
    details: { hash: Buffer.from(hash).toString("hex") },
  });
}

/**
 * Largest entry the node cache keeps. Nodes are at most a few hundred bytes; bigger entries are
 * values such as a runtime's code, read rarely and better left to the database than crowding out
 * thousands of nodes.
 */
const CACHED_ENTRY_MAX_BYTES = 16 * 1024;

export class TrieStore {
  readonly pruningDepthBlocks: number;
  private readonly db: NodeDb;
  private readonly meta: NodeDb;
  private readonly source: NodeSource;
  private readonly cache = new NodeCache(NODE_CACHE_ENTRIES_MAX, CACHED_ENTRY_MAX_BYTES);
  /**
   * Reads `db` without copying when it offers `getBinaryFast` (LMDB, `MemoryNodeDb`), else through
   * `getBinary`. The result must be used (or copied) before the next read of any database.
   */
  private readonly peek: FastGet;
  private readonly scratch = new Uint8Array(ENTRY_SCRATCH_BYTES);
  private readonly scratchViews: Uint8Array[] = [];

  constructor(options: TrieStoreOptions) {
    const depth = options.pruningDepthBlocks;
    if (!(depth === Infinity || (Number.isSafeInteger(depth) && depth >= 0))) {
      throw new TrieError("INVALID_ARGUMENT", "pruningDepthBlocks is a non-negative integer or Infinity", {
        details: { pruningDepthBlocks: depth },
      });
    }
    this.pruningDepthBlocks = depth;
    this.db = options.db;
    this.meta = options.journalDb ?? options.db;
    const db = this.db as NodeDb & { getBinaryFast?: FastGet };
    this.peek = typeof db.getBinaryFast === "function" ? (key) => (db.getBinaryFast as FastGet)(key) : (key) => db.getBinary(key);
    this.source = {
      node: (hash, at, out) => this.load(hash, at, out, true),
      value: (hash, at, out) => this.load(hash, at, out, false),
    };
  }

  /** A batch of writes on top of the state `parentRoot`; without one, on the empty trie (genesis). */
  batch(parentRoot: Uint8Array = EMPTY_TRIE_ROOT): TrieBatch {
    checkRoot(parentRoot);
    return new TrieBatch(
      {
        source: this.source,
        get: (root, key) => this.get(root, key),
        persist: (trie, parent, blockNumber) => this.persist(trie, parent, blockNumber),
      },
      parentRoot,
    );
  }

  /** The value of `key` in state `root`, or null. Throws MISSING_NODE if the state is not stored. */
  get(root: Uint8Array, key: Uint8Array): Uint8Array | null {
    checkRoot(root);
    checkKey(key);
    return lookup(this.source, root, key);
  }

  /** Whether the state `root` is readable here (its root node is stored: pruning a state removes its root). */
  hasRoot(root: Uint8Array): boolean {
    checkRoot(root);
    return bytesEqual(root, EMPTY_TRIE_ROOT) || this.peek(root) !== undefined;
  }

  /** Keys in lexicographic order, like `state_getKeysPaged`. */
  keys(root: Uint8Array, options: KeysOptions): Uint8Array[] {
    checkRoot(root);
    const prefix = options.prefix ?? new Uint8Array(0);
    checkKey(prefix);
    if (options.startKey !== undefined) checkKey(options.startKey);
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > KEYS_PAGE_MAX) {
      throw new TrieError("INVALID_ARGUMENT", "keys limit out of range", { details: { limit, max: KEYS_PAGE_MAX } });
    }
    const out: Uint8Array[] = [];
    for (const [key] of iterateEntries(this.source, root, prefix, options.startKey ?? null)) {
      out.push(key);
      if (out.length === limit) break;
    }
    return out;
  }

  /**
   * Lazily yields `[key, value]` under `prefix` (strictly after `startKey` when given), in key
   * order. Nodes are read as the caller pulls: a state pruned meanwhile ends it with MISSING_NODE.
   */
  *entries(root: Uint8Array, prefix: Uint8Array = new Uint8Array(0), startKey?: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
    checkRoot(root);
    checkKey(prefix);
    if (startKey !== undefined) checkKey(startKey);
    for (const [key, ref] of iterateEntries(this.source, root, prefix, startKey ?? null)) {
      yield [key, resolveValue(this.source, ref)];
    }
  }

  /**
   * A read proof for `keys` in state `root`: every node (and value node) a lookup of each key reads,
   * deduplicated and sorted by bytes, as Substrate's `state_getReadProof` returns them.
   */
  prove(root: Uint8Array, keys: readonly Uint8Array[]): Uint8Array[] {
    checkRoot(root);
    if (keys.length > PROOF_KEYS_MAX) {
      throw new TrieError("INVALID_ARGUMENT", "too many keys for one proof", {
        details: { count: keys.length, max: PROOF_KEYS_MAX },
      });
    }
    const nodes = new Map<string, Uint8Array>();
    const record = (hash: Uint8Array, at: number, bytes: StoredRef): void => {
      const k = bytesKey(hash.subarray(at, at + HASH_LENGTH_BYTES));
      if (!nodes.has(k)) nodes.set(k, bytes.buf.slice(bytes.off, bytes.off + bytes.len));
    };
    for (const key of keys) {
      checkKey(key);
      lookup(this.source, root, key, record);
    }
    return [...nodes.values()].sort(compareBytes);
  }

  /** The last block committed through this database, or null before the first commit. */
  lastCommittedBlock(): number | null {
    const b = this.meta.getBinary(META_LAST_BLOCK);
    return b === undefined ? null : readU32le(b, 0);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Points `out` at the stored bytes whose hash is `hash[at .. at + 32)`: from the cache, else read
   * (and cached). As a node, the encoding is checked once (`scanNode`), so walks can trust it.
   */
  private load(hash: Uint8Array, at: number, out: StoredRef, asNode: boolean): void {
    const cache = this.cache;
    let e = cache.find(hash, at);
    if (e < 0) {
      const key = at === 0 && hash.length === HASH_LENGTH_BYTES ? hash : hash.subarray(at, at + HASH_LENGTH_BYTES);
      const entry = this.peek(key);
      if (entry === undefined) throw missingNode(key);
      const length = entry.length - REFCOUNT_BYTES;
      assert.ok(length >= 0, "a stored entry ends with its refcount");
      if (length > CACHED_ENTRY_MAX_BYTES) {
        const copy = new Uint8Array(length); // `peek`'s bytes do not last
        copy.set(entry.subarray(0, length));
        out.buf = copy;
        out.off = 0;
        out.len = length;
        out.nodeFlags = asNode ? checkedNode(copy, 0, length) : 0;
        return;
      }
      e = cache.add(hash, at, entry, 0, length);
    }
    cache.fill(e, out);
    if (asNode && out.nodeFlags === 0) {
      out.nodeFlags = checkedNode(out.buf, out.off, out.len);
      cache.setNodeFlags(e, out.nodeFlags);
    }
  }

  /** Writes `bytes ++ refcount` under `hash`. */
  private putEntry(hash: Uint8Array, bytes: Uint8Array, refcount: number): void {
    const length = bytes.length + REFCOUNT_BYTES;
    // LMDB's putSync (and MemoryNodeDb's) copies the value, so one buffer serves every write,
    // through one view per length (node sizes repeat: leaves, values, full branches).
    let out: Uint8Array;
    if (length <= ENTRY_SCRATCH_BYTES) {
      out = this.scratchViews[length];
      if (out === undefined) out = this.scratchViews[length] = this.scratch.subarray(0, length);
    } else out = new Uint8Array(length);
    out.set(bytes, 0);
    writeCounter(out, bytes.length, refcount);
    this.db.putSync(hash, out);
  }

  /** Adds `delta` to the refcount of the stored entry `entry` (as `peek` returned it) under `hash`. */
  private bumpRefcount(hash: Uint8Array, entry: Uint8Array, delta: number): void {
    const length = entry.length;
    assert.ok(length >= REFCOUNT_BYTES, "a stored node ends with its refcount");
    const rc = readU32le(entry, length - REFCOUNT_BYTES) + delta;
    assert.ok(rc > 0, "refcount underflow: journal and refcounts disagree");
    this.putEntry(hash, entry.subarray(0, length - REFCOUNT_BYTES), rc);
  }

  private persist(trie: MutableTrie, parentRoot: Uint8Array, blockNumber: number): Uint8Array {
    if (!Number.isSafeInteger(blockNumber) || blockNumber < 0 || blockNumber > BLOCK_NUMBER_MAX) {
      throw new TrieError("INVALID_ARGUMENT", "a block number is a u32", { details: { blockNumber } });
    }
    const last = this.lastCommittedBlock();
    if (last !== null && blockNumber <= last) {
      throw new TrieError("BLOCK_NUMBER_NOT_INCREASING", "blocks are committed once, in increasing order", {
        details: { blockNumber, lastCommittedBlock: last },
      });
    }
    // The parent state must be stored (the cache may hold states whose commit was rolled back).
    if (!bytesEqual(parentRoot, EMPTY_TRIE_ROOT) && this.peek(parentRoot) === undefined) throw missingNode(parentRoot);
    const root = trie.rootHash();
    if (!bytesEqual(root, parentRoot)) this.writeChanges(trie, blockNumber);
    this.meta.putSync(META_LAST_BLOCK, counterBytes(blockNumber));
    if (this.pruningDepthBlocks !== Infinity) this.prune(blockNumber);
    return root;
  }

  private writeChanges(trie: MutableTrie, blockNumber: number): void {
    const { hashes, bytes } = trie.newOccurrences();
    // Net out occurrences that were removed and re-created (a node whose encoding came out the same,
    // a value that moved between keys): they change neither the refcount nor the journal. Removals
    // are few next to new occurrences, so they are the ones indexed.
    const removed = trie.removedOccurrences();
    const index = new Map<number, Removal>();
    for (const hash of removed) {
      const bucket = bucketOf(hash);
      let r = index.get(bucket);
      while (r !== undefined && !bytesEqual(r.hash, hash)) r = r.chain ?? undefined;
      if (r !== undefined) r.count++;
      else index.set(bucket, { hash, count: 1, chain: index.get(bucket) ?? null });
    }
    for (const i of keyOrder(hashes)) {
      const hash = hashes[i];
      let r = index.size === 0 ? undefined : index.get(bucketOf(hash));
      while (r !== undefined && !bytesEqual(r.hash, hash)) r = r.chain ?? undefined;
      if (r !== undefined && r.count > 0) {
        r.count--; // re-created: stays stored with the same refcount
        continue;
      }
      // Repeats within `hashes` (equal values) simply find the entry the first one wrote.
      const node = bytes[i];
      const stored = this.peek(hash);
      if (stored === undefined) this.putEntry(hash, node, 1);
      else this.bumpRefcount(hash, stored, 1);
      // The next block and readers start from these: cache them (node flags are set on first read).
      if (node.length <= CACHED_ENTRY_MAX_BYTES) this.cache.add(hash, 0, node, 0, node.length);
    }
    if (this.pruningDepthBlocks !== Infinity && removed.length > 0) {
      const journal: Uint8Array[] = [];
      for (const hash of removed) {
        const r = index.get(bucketOf(hash)) as Removal;
        let x: Removal | null = r;
        while (x !== null && !bytesEqual(x.hash, hash)) x = x.chain;
        // Each removal not netted out is journaled once: count down what is left of this hash.
        if (x !== null && x.count > 0) {
          x.count--;
          journal.push(hash);
        }
      }
      if (journal.length > 0) {
        // In key order, so that pruning it walks the database in order too (see `keyOrder`).
        const out = new Uint8Array(journal.length * HASH_LENGTH_BYTES);
        let o = 0;
        for (const i of keyOrder(journal)) {
          out.set(journal[i], o);
          o += HASH_LENGTH_BYTES;
        }
        this.meta.putSync(journalKey(blockNumber), out);
      }
    }
  }

  /** Applies the journals of blocks up to `blockNumber - pruningDepthBlocks`. */
  private prune(blockNumber: number): void {
    const target = blockNumber - this.pruningDepthBlocks;
    const stored = this.meta.getBinary(META_PRUNE_FROM);
    // Without a cursor, no journal older than this block exists.
    let from = stored === undefined ? blockNumber : readU32le(stored, 0);
    for (; from <= target; from++) {
      const key = journalKey(from);
      const journal = this.meta.getBinary(key);
      if (journal === undefined) continue;
      assert.equal(journal.length % HASH_LENGTH_BYTES, 0, "a journal is a list of hashes");
      for (let o = 0; o < journal.length; o += HASH_LENGTH_BYTES) this.release(journal.subarray(o, o + HASH_LENGTH_BYTES));
      this.meta.removeSync(key);
    }
    this.meta.putSync(META_PRUNE_FROM, counterBytes(from));
  }

  private release(hash: Uint8Array): void {
    const stored = this.peek(hash);
    assert.ok(stored !== undefined, "a journaled node is stored until its refcount reaches 0");
    const rc = entryRefcount(stored);
    assert.ok(rc > 0, "refcount underflow: journal and refcounts disagree");
    if (rc === 1) {
      this.db.removeSync(hash);
      this.cache.delete(hash, 0); // a pruned state must read as MISSING_NODE
    } else {
      this.bumpRefcount(hash, stored, -1);
    }
  }
}
