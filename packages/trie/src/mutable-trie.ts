/**
 * An in-memory, copy-on-write view of a stored trie that takes inserts and removals without hashing.
 * Nodes are loaded from the store on demand; hashing happens once, bottom-up over the modified
 * paths only, when the root is asked for. It also keeps the bookkeeping persistence needs:
 * which stored node occurrences the changes removed, and which new occurrences they created.
 */
import assert from "node:assert/strict";
import { blake2b256, bytesEqual } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import {
  EMPTY_TRIE_ROOT,
  HASH_LENGTH_BYTES,
  VALUE_NODE_THRESHOLD_BYTES,
  decodeNode,
  encodeNodeParts,
  type NodeValue,
} from "./node-codec.ts";
import { commonPrefixLength, concatNibbles, type Nibbles } from "./nibbles.ts";

/** Returns the stored encoding of the node (or value) with this hash; throws MISSING_NODE if absent. */
export type NodeLoader = (hash: Uint8Array) => Uint8Array;

/** A child that has not been loaded: a hash reference to a stored node. */
class HashRef {
  constructor(readonly hash: Uint8Array) {}
}

interface MemValue {
  /** The value bytes; null for a hashed value loaded from the store (only its hash is known). */
  data: Uint8Array | null;
  /** blake2b-256 of the value when `hashed`; computed lazily for new values. */
  hash: Uint8Array | null;
  hashed: boolean;
}

interface MemNode {
  partial: Nibbles;
  value: MemValue | null;
  /** null for a leaf; 16 slots for a branch. */
  children: (Slot | null)[] | null;
  /** Cached encoding; null while the node is dirty. */
  encoded: Uint8Array | null;
  /** blake2b-256 of `encoded`, once someone needed it. */
  hash: Uint8Array | null;
  /** Hash of the stored occurrence this node was loaded from, until the node is first modified. */
  origHash: Uint8Array | null;
  /** True once the node was created or modified by this trie (its encoding is not from the store). */
  fresh: boolean;
}

type Slot = MemNode | HashRef;

/** A new stored occurrence created by the changes: a node or a value node, with its bytes if known. */
export interface NewOccurrence {
  hash: Uint8Array;
  /** Null only for a hashed value carried over unchanged, whose bytes are already stored. */
  bytes: Uint8Array | null;
}

function newValue(data: Uint8Array): MemValue {
  return { data, hash: null, hashed: data.length >= VALUE_NODE_THRESHOLD_BYTES };
}

function valueHash(v: MemValue): Uint8Array {
  assert.ok(v.hashed);
  if (v.hash === null) v.hash = blake2b256(v.data as Uint8Array);
  return v.hash;
}

function sameValue(v: MemValue, data: Uint8Array): boolean {
  if (v.data !== null) return bytesEqual(v.data, data);
  // A stored hashed value: equal iff the new value would be hashed too, to the same hash.
  return data.length >= VALUE_NODE_THRESHOLD_BYTES && bytesEqual(valueHash(v), blake2b256(data));
}

function fresh(partial: Nibbles, value: MemValue | null, children: (Slot | null)[] | null): MemNode {
  return { partial, value, children, encoded: null, hash: null, origHash: null, fresh: true };
}

export class MutableTrie {
  private rootSlot: Slot | null;
  /** Stored occurrences (node and value hashes, with multiplicity) the changes made unreachable. */
  private removed: Uint8Array[] = [];
  /** Set by a mutation that changed anything; lets no-op writes leave nodes untouched. */
  private changed = false;

  constructor(
    private readonly load: NodeLoader,
    root: Uint8Array,
  ) {
    this.rootSlot = bytesEqual(root, EMPTY_TRIE_ROOT) ? null : new HashRef(root);
  }

  insert(path: Nibbles, value: Uint8Array): void {
    this.changed = false;
    this.rootSlot = this.insertAt(this.rootSlot, path, 0, value);
  }

  remove(path: Nibbles): void {
    this.changed = false;
    this.rootSlot = this.removeAt(this.rootSlot, path, 0);
  }

  /** The root hash of the current content. Only dirty nodes are re-encoded. */
  rootHash(): Uint8Array {
    const slot = this.rootSlot;
    if (slot === null) return EMPTY_TRIE_ROOT.slice();
    if (slot instanceof HashRef) return slot.hash;
    const enc = this.encode(slot);
    if (slot.hash === null) slot.hash = blake2b256(enc); // the root is hashed even when < 32 bytes
    return slot.hash;
  }

  /** Stored occurrences that the changes removed. */
  removedOccurrences(): readonly Uint8Array[] {
    return this.removed;
  }

  /** New stored occurrences (hashed nodes and value nodes) that the changes created. Call after `rootHash`. */
  newOccurrences(): NewOccurrence[] {
    const out: NewOccurrence[] = [];
    const slot = this.rootSlot;
    if (slot !== null && !(slot instanceof HashRef)) this.collect(slot, true, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------

  private resolve(slot: Slot): MemNode {
    if (!(slot instanceof HashRef)) return slot;
    const bytes = this.load(slot.hash);
    const node = this.fromEncoding(bytes);
    node.hash = slot.hash;
    node.origHash = slot.hash;
    return node;
  }

  private fromEncoding(bytes: Uint8Array): MemNode {
    const d = decodeNode(bytes);
    if (d.kind === "empty") {
      throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length: bytes.length } });
    }
    const value: MemValue | null =
      d.value === null
        ? null
        : d.value.kind === "hashed"
          ? { data: null, hash: d.value.hash, hashed: true }
          : { data: d.value.data, hash: null, hashed: false }; // stored inline stays inline
    let children: (Slot | null)[] | null = null;
    if (d.kind === "branch") {
      children = d.children.map((c) =>
        c === null ? null : c.kind === "hash" ? new HashRef(c.hash) : this.fromEncoding(c.encoded),
      );
    }
    return { partial: d.partial, value, children, encoded: bytes, hash: null, origHash: null, fresh: false };
  }

  /**
   * Marks a node as modified (or about to be dropped). The first time, its stored occurrence, and
   * the value node it referenced, are recorded as removed.
   */
  private touch(n: MemNode): void {
    if (!n.fresh) {
      if (n.origHash !== null) {
        this.removed.push(n.origHash);
        if (n.value !== null && n.value.hashed) this.removed.push(valueHash(n.value));
      }
      n.origHash = null;
      n.fresh = true;
    }
    n.encoded = null;
    n.hash = null;
  }

  private insertAt(slot: Slot | null, path: Nibbles, off: number, value: Uint8Array): MemNode {
    if (slot === null) {
      this.changed = true;
      return fresh(path.subarray(off), newValue(value), null);
    }
    const n = this.resolve(slot);
    const cp = commonPrefixLength(n.partial, path, off);
    if (cp === n.partial.length) {
      const at = off + cp;
      if (at === path.length) {
        if (n.value !== null && sameValue(n.value, value)) return n;
        this.changed = true;
        this.touch(n);
        n.value = newValue(value);
        return n;
      }
      if (n.children === null) {
        this.changed = true;
        this.touch(n);
        n.children = new Array(16).fill(null);
      }
      const i = path[at];
      const child = this.insertAt(n.children[i], path, at + 1, value);
      if (this.changed) this.touch(n);
      n.children[i] = child;
      return n;
    }
    // The key leaves this node's partial key at `cp`: split it under a new branch.
    this.changed = true;
    this.touch(n);
    const branch = fresh(n.partial.subarray(0, cp), null, new Array(16).fill(null));
    const children = branch.children as (Slot | null)[];
    children[n.partial[cp]] = n;
    n.partial = n.partial.subarray(cp + 1);
    const at = off + cp;
    if (at === path.length) branch.value = newValue(value);
    else children[path[at]] = fresh(path.subarray(at + 1), newValue(value), null);
    return branch;
  }

  private removeAt(slot: Slot | null, path: Nibbles, off: number): Slot | null {
    if (slot === null) return null;
    const n = this.resolve(slot);
    const cp = commonPrefixLength(n.partial, path, off);
    if (cp !== n.partial.length) return n;
    const at = off + cp;
    if (at === path.length) {
      if (n.value === null) return n;
      this.changed = true;
      this.touch(n);
      if (n.children === null) return null;
      n.value = null;
      return this.normalize(n);
    }
    if (n.children === null) return n;
    const i = path[at];
    const child = this.removeAt(n.children[i], path, at + 1);
    if (!this.changed) {
      n.children[i] = child; // keep the loaded child, unchanged
      return n;
    }
    this.touch(n);
    n.children[i] = child;
    return this.normalize(n);
  }

  /** Restores the canonical shape of a touched branch after a removal below or at it. */
  private normalize(n: MemNode): Slot | null {
    const children = n.children as (Slot | null)[];
    let count = 0;
    let last = -1;
    for (let i = 0; i < 16; i++) {
      if (children[i] !== null) {
        count++;
        last = i;
      }
    }
    if (count === 0) {
      assert.ok(n.value !== null, "a branch without children keeps its value");
      n.children = null;
      return n;
    }
    if (count === 1 && n.value === null) {
      // A branch with one child and no value merges into that child.
      const child = this.resolve(children[last] as Slot);
      this.touch(child);
      child.partial = concatNibbles(n.partial, last, child.partial);
      return child;
    }
    return n;
  }

  private encode(n: MemNode): Uint8Array {
    if (n.encoded !== null) return n.encoded;
    let refs: (Uint8Array | null)[] | null = null;
    if (n.children !== null) {
      refs = new Array(16).fill(null);
      for (let i = 0; i < 16; i++) {
        const c = n.children[i];
        if (c === null) continue;
        if (c instanceof HashRef) {
          refs[i] = c.hash;
          continue;
        }
        const enc = this.encode(c);
        if (enc.length >= HASH_LENGTH_BYTES) {
          if (c.hash === null) c.hash = blake2b256(enc);
          refs[i] = c.hash;
        } else {
          refs[i] = enc;
        }
      }
    }
    const v = n.value;
    const value: NodeValue | null =
      v === null ? null : v.hashed ? { kind: "hashed", hash: valueHash(v) } : { kind: "inline", data: v.data as Uint8Array };
    n.encoded = encodeNodeParts(n.partial, value, refs);
    return n.encoded;
  }

  private collect(n: MemNode, isRoot: boolean, out: NewOccurrence[]): void {
    if (!n.fresh) return; // untouched subtrees keep their stored occurrences
    const enc = n.encoded;
    assert.ok(enc !== null, "rootHash() encodes every dirty node before newOccurrences()");
    if (isRoot || enc.length >= HASH_LENGTH_BYTES) {
      if (n.hash === null) n.hash = blake2b256(enc);
      out.push({ hash: n.hash, bytes: enc });
      if (n.value !== null && n.value.hashed) out.push({ hash: valueHash(n.value), bytes: n.value.data });
    } else {
      assert.ok(n.value === null || !n.value.hashed, "an inline node cannot hold a hashed value");
    }
    if (n.children === null) return;
    for (const c of n.children) if (c !== null && !(c instanceof HashRef)) this.collect(c, false, out);
  }
}
