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
  NodeCursor,
  VALUE_HASHED,
  VALUE_NODE_THRESHOLD_BYTES,
  VALUE_NONE,
  encodeFlat,
  scanNode,
} from "./node-codec.ts";
import { StoredRef, type NodeSource } from "./node-source.ts";
import { commonPrefixLength, concatNibbles, type Nibbles } from "./nibbles.ts";

export type { NodeSource } from "./node-source.ts";

interface MemValue {
  /** The value bytes; null for a hashed value loaded from the store (only its hash is known). */
  data: Uint8Array | null;
  /** blake2b-256 of the value when `hashed`; computed lazily for new values. */
  hash: Uint8Array | null;
  hashed: boolean;
  /**
   * Loaded with its node from the store. Its value-node occurrence is kept while the node keeps the
   * value (whatever else changes in the node), and removed when the node drops it.
   */
  stored: boolean;
}

/**
 * A child slot: a loaded or new node, or, for a child not loaded yet, the offset in the parent's
 * `src` of the child's reference (its length byte, then a 32-byte hash or an inline encoding).
 */
type Slot = MemNode | number;

class MemNode {
  constructor(
    public partial: Nibbles,
    public value: MemValue | null,
    /** null for a leaf; 16 slots for a branch. */
    public children: (Slot | null)[] | null,
    /** Our encoding (fresh nodes), once encoded; null while dirty. */
    public encoded: Uint8Array | null,
    /** blake2b-256 of the encoding, once someone needed it. */
    public hash: Uint8Array | null,
    /** Hash of the stored occurrence this node was loaded from, until the node is first modified. */
    public origHash: Uint8Array | null,
    /** True once the node was created or modified by this trie (its encoding is not from the store). */
    public fresh: boolean,
    /** For a loaded node, the bytes holding its stored encoding at `srcAt` (length `srcLength`); numeric child slots point into them. */
    public src: Uint8Array | null,
    public srcAt: number,
    public srcLength: number,
  ) {}
}

/** New stored occurrences created by the changes (nodes and value nodes): hashes and bytes, in step. */
export interface NewOccurrences {
  hashes: Uint8Array[];
  bytes: Uint8Array[];
}

/** Child references gathered for one `encode` call (never re-entered while in use). */
const refs: (Uint8Array | null)[] = new Array<Uint8Array | null>(16).fill(null);
const srcRefs = new Int32Array(16);
const cursor = new NodeCursor();
const ref = new StoredRef();

function newValue(data: Uint8Array): MemValue {
  return { data, hash: null, hashed: data.length >= VALUE_NODE_THRESHOLD_BYTES, stored: false };
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
  return new MemNode(partial, value, children, null, null, null, true, null, 0, 0);
}

function emptyChildren(): (Slot | null)[] {
  return [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null];
}

export class MutableTrie {
  /** The root: a node, or the root hash while not loaded. */
  private rootSlot: MemNode | Uint8Array | null;
  /** Stored occurrences (node and value hashes, with multiplicity) the changes made unreachable. */
  private removed: Uint8Array[] = [];
  /** Set by a mutation that changed anything; lets no-op writes leave nodes untouched. */
  private changed = false;

  constructor(
    private readonly source: NodeSource,
    root: Uint8Array,
  ) {
    this.rootSlot = bytesEqual(root, EMPTY_TRIE_ROOT) ? null : root.slice();
  }

  insert(path: Nibbles, value: Uint8Array): void {
    this.changed = false;
    const root = this.rootSlot;
    this.rootSlot = this.insertAt(root instanceof Uint8Array ? this.loadRoot(root) : root, path, 0, value);
  }

  remove(path: Nibbles): void {
    this.changed = false;
    const root = this.rootSlot;
    this.rootSlot = this.removeAt(root instanceof Uint8Array ? this.loadRoot(root) : root, path, 0);
  }

  /** The root hash of the current content. Only dirty nodes are re-encoded. */
  rootHash(): Uint8Array {
    const slot = this.rootSlot;
    if (slot === null) return EMPTY_TRIE_ROOT.slice();
    if (!(slot instanceof MemNode)) return slot; // never loaded, so the root hash as given
    if (!slot.fresh) return slot.hash as Uint8Array; // loaded by its hash and unchanged
    const enc = this.encode(slot);
    if (slot.hash === null) slot.hash = blake2b256(enc); // the root is hashed even when < 32 bytes
    return slot.hash;
  }

  /** Stored occurrences that the changes removed. */
  removedOccurrences(): readonly Uint8Array[] {
    return this.removed;
  }

  /** New stored occurrences (hashed nodes and value nodes) that the changes created. Call after `rootHash`. */
  newOccurrences(): NewOccurrences {
    const out: NewOccurrences = { hashes: [], bytes: [] };
    const slot = this.rootSlot;
    if (slot instanceof MemNode) this.collect(slot, true, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------

  private loadRoot(hash: Uint8Array): MemNode {
    this.source.node(hash, 0, ref);
    const node = fromEncoding(ref.buf, ref.off, ref.len);
    node.hash = hash;
    node.origHash = hash;
    return node;
  }

  /** The node in `slot` of `parent`'s children, loaded if need be. */
  private resolve(parent: MemNode, slot: Slot): MemNode {
    if (slot instanceof MemNode) return slot;
    const src = parent.src as Uint8Array; // numeric slots only come from a loaded node's encoding
    const length = src[slot] >> 2;
    const at = slot + 1;
    if (length === HASH_LENGTH_BYTES) {
      this.source.node(src, at, ref);
      const node = fromEncoding(ref.buf, ref.off, ref.len);
      node.hash = node.origHash = src.slice(at, at + HASH_LENGTH_BYTES);
      return node;
    }
    // An inline child: its encoding is its reference; it has no stored occurrence of its own.
    if (scanNode(src, at, at + length) === 0) {
      throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length } });
    }
    return fromEncoding(src, at, length);
  }

  /**
   * Marks a node as modified (or about to be dropped). The first time, its stored occurrence is
   * recorded as removed. (Its value node is not: see `MemValue.stored`.)
   */
  private touch(n: MemNode): void {
    if (!n.fresh) {
      if (n.origHash !== null) this.removed.push(n.origHash);
      n.origHash = null;
      n.fresh = true;
    }
    n.encoded = null;
    n.hash = null;
  }

  /** Records that a node no longer holds `v` (replaced, removed, or the node itself is gone). */
  private dropValue(v: MemValue | null): void {
    if (v !== null && v.stored && v.hashed) this.removed.push(valueHash(v));
  }

  private insertAt(n: MemNode | null, path: Nibbles, off: number, value: Uint8Array): MemNode {
    if (n === null) {
      this.changed = true;
      return fresh(path.subarray(off), newValue(value), null);
    }
    const cp = commonPrefixLength(n.partial, path, off);
    if (cp === n.partial.length) {
      const at = off + cp;
      if (at === path.length) {
        if (n.value !== null && sameValue(n.value, value)) return n;
        this.changed = true;
        this.touch(n);
        this.dropValue(n.value);
        n.value = newValue(value);
        return n;
      }
      if (n.children === null) {
        this.changed = true;
        this.touch(n);
        n.children = emptyChildren();
      }
      const i = path[at];
      const slot = n.children[i];
      const child = this.insertAt(slot === null ? null : this.resolve(n, slot), path, at + 1, value);
      if (this.changed) this.touch(n);
      n.children[i] = child;
      return n;
    }
    // The key leaves this node's partial key at `cp`: split it under a new branch.
    this.changed = true;
    this.touch(n);
    const children = emptyChildren();
    const branch = fresh(n.partial.subarray(0, cp), null, children);
    children[n.partial[cp]] = n;
    n.partial = n.partial.subarray(cp + 1);
    const at = off + cp;
    if (at === path.length) branch.value = newValue(value);
    else children[path[at]] = fresh(path.subarray(at + 1), newValue(value), null);
    return branch;
  }

  private removeAt(n: MemNode | null, path: Nibbles, off: number): MemNode | null {
    if (n === null) return null;
    const cp = commonPrefixLength(n.partial, path, off);
    if (cp !== n.partial.length) return n;
    const at = off + cp;
    if (at === path.length) {
      if (n.value === null) return n;
      this.changed = true;
      this.touch(n);
      this.dropValue(n.value);
      if (n.children === null) return null;
      n.value = null;
      return this.normalize(n);
    }
    if (n.children === null) return n;
    const i = path[at];
    const slot = n.children[i];
    const child = this.removeAt(slot === null ? null : this.resolve(n, slot), path, at + 1);
    if (!this.changed) {
      n.children[i] = child; // keep the loaded child, unchanged
      return n;
    }
    this.touch(n);
    n.children[i] = child;
    return this.normalize(n);
  }

  /** Restores the canonical shape of a touched branch after a removal below or at it. */
  private normalize(n: MemNode): MemNode | null {
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
      const child = this.resolve(n, children[last] as Slot);
      this.touch(child);
      child.partial = concatNibbles(n.partial, last, child.partial);
      return child;
    }
    return n;
  }

  /** The reference a parent holds to `c`: its hash, or its encoding when that is shorter than a hash. */
  private childRef(c: MemNode): Uint8Array {
    if (!c.fresh) {
      if (c.origHash !== null) return c.origHash;
      const src = c.src as Uint8Array; // an unchanged inline child: its stored encoding
      return src.subarray(c.srcAt, c.srcAt + c.srcLength);
    }
    const enc = this.encode(c);
    if (enc.length < HASH_LENGTH_BYTES) return enc;
    if (c.hash === null) c.hash = blake2b256(enc);
    return c.hash;
  }

  /** Encodes a fresh node (children first); the encoding is kept until the node changes again. */
  private encode(n: MemNode): Uint8Array {
    if (n.encoded !== null) return n.encoded;
    const children = n.children;
    const v = n.value;
    const valueBytes = v === null ? null : v.hashed ? valueHash(v) : v.data;
    if (children === null) {
      n.encoded = encodeFlat(n.partial, valueBytes, v !== null && v.hashed, null);
      return n.encoded;
    }
    // Encode the children first: that recurses, and `refs` is shared; then their references are at hand.
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      if (c instanceof MemNode) this.childRef(c);
    }
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      refs[i] = c instanceof MemNode ? this.childRef(c) : null;
      srcRefs[i] = typeof c === "number" ? c : -1; // not loaded: copied as stored
    }
    n.encoded = encodeFlat(n.partial, valueBytes, v !== null && v.hashed, refs, false, n.src, srcRefs);
    refs.fill(null);
    return n.encoded;
  }

  private collect(n: MemNode, isRoot: boolean, out: NewOccurrences): void {
    if (!n.fresh) return; // untouched subtrees keep their stored occurrences
    const enc = n.encoded;
    assert.ok(enc !== null, "rootHash() encodes every dirty node before newOccurrences()");
    const v = n.value;
    if (isRoot || enc.length >= HASH_LENGTH_BYTES) {
      if (n.hash === null) n.hash = blake2b256(enc);
      out.hashes.push(n.hash);
      out.bytes.push(enc);
      // A value kept from the stored node keeps its occurrence; a new one is a new occurrence.
      if (v !== null && v.hashed && !v.stored) {
        out.hashes.push(valueHash(v));
        out.bytes.push(v.data as Uint8Array);
      }
    } else {
      assert.ok(v === null || !v.hashed, "an inline node cannot hold a hashed value");
    }
    if (n.children === null) return;
    for (const c of n.children) if (c instanceof MemNode) this.collect(c, false, out);
  }
}

/** A node as loaded from its stored encoding `buf[at .. at + length)` (checked by `scanNode`). */
function fromEncoding(buf: Uint8Array, at: number, length: number): MemNode {
  const c = cursor;
  c.load(buf, at);
  let value: MemValue | null = null;
  if (c.valueKind === VALUE_HASHED) {
    value = { data: null, hash: buf.subarray(c.valueAt, c.valueAt + HASH_LENGTH_BYTES), hashed: true, stored: true };
  } else if (c.valueKind !== VALUE_NONE) {
    // Stored inline stays inline, whatever its length (a node from another layout).
    value = { data: buf.subarray(c.valueAt, c.valueAt + c.valueLength), hash: null, hashed: false, stored: true };
  }
  let children: (Slot | null)[] | null = null;
  if (c.branch) {
    children = [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null];
    let pos = c.childrenAt;
    for (let i = 0; i < 16; i++) {
      if ((c.bitmap & (1 << i)) === 0) continue;
      children[i] = pos;
      pos += 1 + (buf[pos] >> 2);
    }
  }
  return new MemNode(c.partial(), value, children, null, null, null, false, buf, at, length);
}
