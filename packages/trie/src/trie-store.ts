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
 * Transactions: `TrieBatch.commit` only issues synchronous `putSync`/`removeSync` calls and never
 * opens a transaction itself. The node runs it inside its own `env.transactionSync(() => ...)` so
 * that one block (trie, refcounts, journal, block data) is one durable LMDB transaction; if the
 * transaction aborts, nothing of the commit remains. Forks are not supported: blocks are final and
 * committed once, in increasing order.
 */
import assert from "node:assert/strict";
import { bytesEqual, compareBytes } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import { BLOCK_NUMBER_MAX, KEYS_PAGE_MAX, PROOF_KEYS_MAX } from "./limits.ts";
import type { MutableTrie, NodeLoader } from "./mutable-trie.ts";
import { EMPTY_TRIE_ROOT, HASH_LENGTH_BYTES } from "./node-codec.ts";
import type { NodeDb } from "./node-db.ts";
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
  const out = new Uint8Array(5);
  out[0] = JOURNAL_TAG;
  new DataView(out.buffer).setUint32(1, blockNumber, false);
  return out;
}

function writeU32le(out: Uint8Array, pos: number, n: number): void {
  assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff, "stored counters are u32");
  out[pos] = n & 0xff;
  out[pos + 1] = (n >>> 8) & 0xff;
  out[pos + 2] = (n >>> 16) & 0xff;
  out[pos + 3] = n >>> 24;
}

function readU32le(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16)) + bytes[pos + 3] * 2 ** 24;
}

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32le(out, 0, n);
  return out;
}

/** A stored node entry: the node's bytes followed by its refcount. */
function nodeEntry(node: Uint8Array, refcount: number): Uint8Array {
  const out = new Uint8Array(node.length + REFCOUNT_BYTES);
  out.set(node, 0);
  writeU32le(out, node.length, refcount);
  return out;
}

function entryRefcount(entry: Uint8Array): number {
  assert.ok(entry.length >= REFCOUNT_BYTES, "a stored node ends with its refcount");
  return readU32le(entry, entry.length - REFCOUNT_BYTES);
}

function hashKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("latin1");
}

function checkRoot(root: Uint8Array): void {
  if (!(root instanceof Uint8Array) || root.length !== HASH_LENGTH_BYTES) {
    throw new TrieError("INVALID_ARGUMENT", "a state root is 32 bytes");
  }
}

export class TrieStore {
  readonly pruningDepthBlocks: number;
  private readonly db: NodeDb;
  private readonly meta: NodeDb;
  private readonly load: NodeLoader;

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
    this.load = (hash) => {
      const entry = this.db.getBinary(hash);
      if (entry === undefined) {
        throw new TrieError("MISSING_NODE", "trie node not found: the state was pruned or never stored here", {
          details: { hash: Buffer.from(hash).toString("hex") },
        });
      }
      assert.ok(entry.length >= REFCOUNT_BYTES, "a stored node ends with its refcount");
      // A plain Uint8Array view without the refcount (LMDB hands out Buffers): one byte type everywhere.
      return new Uint8Array(entry.buffer, entry.byteOffset, entry.byteLength - REFCOUNT_BYTES);
    };
  }

  /** A batch of writes on top of the state `parentRoot`; without one, on the empty trie (genesis). */
  batch(parentRoot: Uint8Array = EMPTY_TRIE_ROOT): TrieBatch {
    checkRoot(parentRoot);
    return new TrieBatch(
      {
        load: this.load,
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
    return lookup(this.load, root, key);
  }

  /** Whether the state `root` is readable here (its root node is stored: pruning a state removes its root). */
  hasRoot(root: Uint8Array): boolean {
    checkRoot(root);
    return bytesEqual(root, EMPTY_TRIE_ROOT) || this.db.getBinary(root) !== undefined;
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
    for (const [key] of iterateEntries(this.load, root, prefix, options.startKey ?? null)) {
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
    for (const [key, ref] of iterateEntries(this.load, root, prefix, startKey ?? null)) {
      yield [key, resolveValue(this.load, ref)];
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
    const record = (hash: Uint8Array, bytes: Uint8Array): void => {
      nodes.set(hashKey(hash), bytes);
    };
    for (const key of keys) {
      checkKey(key);
      lookup(this.load, root, key, record);
    }
    return [...nodes.values()].sort(compareBytes);
  }

  /** The last block committed through this database, or null before the first commit. */
  lastCommittedBlock(): number | null {
    const b = this.meta.getBinary(META_LAST_BLOCK);
    return b === undefined ? null : readU32le(b, 0);
  }

  // -------------------------------------------------------------------------------------------

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
    const root = trie.rootHash();
    if (!bytesEqual(root, parentRoot)) this.writeChanges(trie, blockNumber);
    this.meta.putSync(META_LAST_BLOCK, u32le(blockNumber));
    if (this.pruningDepthBlocks !== Infinity) this.prune(blockNumber);
    return root;
  }

  private writeChanges(trie: MutableTrie, blockNumber: number): void {
    // Net out occurrences that were removed and re-created (a node whose encoding came out the same,
    // a value node moved to a rewritten node): they change neither the refcount nor the journal.
    const added = new Map<string, { hash: Uint8Array; bytes: Uint8Array | null; count: number }>();
    for (const occ of trie.newOccurrences()) {
      const k = hashKey(occ.hash);
      const e = added.get(k);
      if (e === undefined) added.set(k, { hash: occ.hash, bytes: occ.bytes, count: 1 });
      else {
        e.count++;
        if (e.bytes === null) e.bytes = occ.bytes;
      }
    }
    const journal: Uint8Array[] = [];
    for (const hash of trie.removedOccurrences()) {
      const e = added.get(hashKey(hash));
      if (e !== undefined && e.count > 0) e.count--;
      else journal.push(hash);
    }

    for (const e of added.values()) {
      if (e.count === 0) continue;
      const stored = this.db.getBinary(e.hash);
      if (stored === undefined) {
        assert.ok(e.bytes !== null, "a carried-over value node is still referenced, so still stored");
        this.db.putSync(e.hash, nodeEntry(e.bytes, e.count));
      } else {
        const entry = new Uint8Array(stored); // a copy: LMDB buffers are not ours to edit
        writeU32le(entry, entry.length - REFCOUNT_BYTES, entryRefcount(stored) + e.count);
        this.db.putSync(e.hash, entry);
      }
    }
    if (this.pruningDepthBlocks !== Infinity && journal.length > 0) {
      const bytes = new Uint8Array(journal.length * HASH_LENGTH_BYTES);
      journal.forEach((h, i) => bytes.set(h, i * HASH_LENGTH_BYTES));
      this.meta.putSync(journalKey(blockNumber), bytes);
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
    this.meta.putSync(META_PRUNE_FROM, u32le(from));
  }

  private release(hash: Uint8Array): void {
    const stored = this.db.getBinary(hash);
    assert.ok(stored !== undefined, "a journaled node is stored until its refcount reaches 0");
    const rc = entryRefcount(stored);
    assert.ok(rc > 0, "refcount underflow: journal and refcounts disagree");
    if (rc === 1) {
      this.db.removeSync(hash);
    } else {
      const entry = new Uint8Array(stored); // a copy: LMDB buffers are not ours to edit
      writeU32le(entry, entry.length - REFCOUNT_BYTES, rc - 1);
      this.db.putSync(hash, entry);
    }
  }
}
