/**
 * Read-only walks over a stored trie: point lookups (optionally recording the nodes they touch,
 * which is how proofs are built and checked) and ordered iteration.
 */
import { assert } from "@phala-ts/primitives";
import { bytesEqual } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import {
  EMPTY_TRIE_ROOT,
  HASH_LENGTH_BYTES,
  NODE_CHILDREN_HASHED,
  NodeCursor,
  VALUE_HASHED,
  VALUE_NONE,
  decodeStoredNode,
  scanNode,
  type NodeValue,
  type StoredNode,
} from "./node-codec.ts";
import { StoredRef, type NodeSource } from "./node-source.ts";
import { bytesToNibbles, nibblesToBytes, type Nibbles } from "./nibbles.ts";

/**
 * Called with every hashed node (and value node) a walk reads: its hash at `hash[at .. at + 32)`
 * and where its bytes are (shared: copy them to keep them).
 */
export type NodeRecorder = (hash: Uint8Array, at: number, bytes: StoredRef) => void;

// One lookup at a time (lookups never nest), so they share their cursor and reference.
const cursor = new NodeCursor();
const ref = new StoredRef();

/** Bits set in 16-bit `x`. */
function popcount16(x: number): number {
  x -= (x >> 1) & 0x5555;
  x = (x & 0x3333) + ((x >> 2) & 0x3333);
  x = (x + (x >> 4)) & 0x0f0f;
  return (x + (x >> 8)) & 0x1f;
}

/**
 * The value of `key` in the state `root` (a copy of its own), or null when the trie proves the
 * key absent. Walks the nodes' encodings in place: nothing is decoded or allocated on the way.
 */
export function lookup(source: NodeSource, root: Uint8Array, key: Uint8Array, record?: NodeRecorder): Uint8Array | null {
  if (bytesEqual(root, EMPTY_TRIE_ROOT)) return null;
  const pathLength = key.length * 2;
  const c = cursor;
  source.node(root, 0, ref);
  if (record !== undefined) record(root, 0, ref);
  let buf = ref.buf;
  let start = ref.off;
  let childrenHashed = (ref.nodeFlags & NODE_CHILDREN_HASHED) !== 0;
  let off = 0; // nibbles of the key matched so far
  for (;;) {
    c.load(buf, start);
    const count = c.nibbleCount;
    if (pathLength - off < count) return null;
    let p = c.partialAt;
    let i = 0;
    if ((count & 1) === 1) {
      // An odd partial key: its first nibble alone in the low bits.
      const b = key[off >> 1];
      if (((off & 1) === 0 ? b >> 4 : b & 0x0f) !== (buf[p] & 0x0f)) return null;
      off++;
      p++;
      i = 1;
    }
    if ((off & 1) === 0) {
      // Byte-aligned with the key: compare whole bytes.
      for (; i < count; i += 2, p++, off += 2) if (key[off >> 1] !== buf[p]) return null;
    } else {
      for (; i < count; i += 2, p++, off += 2) {
        const j = off >> 1;
        if ((((key[j] & 0x0f) << 4) | (key[j + 1] >> 4)) !== buf[p]) return null;
      }
    }
    if (off === pathLength) {
      if (c.valueKind === VALUE_NONE) return null;
      if (c.valueKind !== VALUE_HASHED) return buf.slice(c.valueAt, c.valueAt + c.valueLength);
      source.value(buf, c.valueAt, ref);
      if (record !== undefined) record(buf, c.valueAt, ref);
      return ref.buf.slice(ref.off, ref.off + ref.len);
    }
    if (!c.branch) return null;
    const b = key[off >> 1];
    const nibble = (off & 1) === 0 ? b >> 4 : b & 0x0f;
    const bitmap = c.bitmap;
    if ((bitmap & (1 << nibble)) === 0) return null;
    off++;
    let at = c.childrenAt;
    if (childrenHashed) at += (1 + HASH_LENGTH_BYTES) * popcount16(bitmap & ((1 << nibble) - 1));
    else for (let j = 0; j < nibble; j++) if ((bitmap & (1 << j)) !== 0) at += 1 + (buf[at] >> 2);
    const length = buf[at] >> 2;
    at++;
    if (length === HASH_LENGTH_BYTES) {
      source.node(buf, at, ref);
      if (record !== undefined) record(buf, at, ref);
      buf = ref.buf;
      start = ref.off;
      childrenHashed = (ref.nodeFlags & NODE_CHILDREN_HASHED) !== 0;
    } else {
      // An inline child: its encoding is right here; check it before walking it.
      const flags = scanNode(buf, at, at + length);
      if (flags === 0) throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length } });
      start = at;
      childrenHashed = (flags & NODE_CHILDREN_HASHED) !== 0;
    }
  }
}

/** The node a child reference (or the root hash) points to, decoded. */
function decodedChild(source: NodeSource, reference: Uint8Array): StoredNode {
  let node: StoredNode | null;
  if (reference.length === HASH_LENGTH_BYTES) {
    const r = new StoredRef();
    source.node(reference, 0, r);
    node = decodeStoredNode(r.buf.subarray(r.off, r.off + r.len));
  } else {
    node = decodeStoredNode(reference);
  }
  if (node === null) throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length: reference.length } });
  return node;
}

/** The bytes of a value reference, in a copy of their own. */
export function resolveValue(source: NodeSource, value: NodeValue): Uint8Array {
  if (value.kind === "inline") return value.data.slice();
  const r = new StoredRef();
  source.value(value.hash, 0, r);
  return r.buf.slice(r.off, r.off + r.len);
}

/** Nibble-wise comparison of `path` with `other[0..path.length)`, over their common length. */
function comparePrefix(path: readonly number[], other: Nibbles): number {
  const n = Math.min(path.length, other.length);
  for (let i = 0; i < n; i++) if (path[i] !== other[i]) return path[i] - other[i];
  return 0;
}

/**
 * Yields `[key, valueRef]` for every key under `prefix` that is strictly greater than `startKey`
 * (when given), in lexicographic byte order. Nodes are read lazily, as the caller pulls. Value
 * references alias shared node bytes: resolve them with `resolveValue`.
 */
export function* iterateEntries(
  source: NodeSource,
  root: Uint8Array,
  prefix: Uint8Array,
  startKey: Uint8Array | null,
): Generator<[Uint8Array, NodeValue]> {
  if (bytesEqual(root, EMPTY_TRIE_ROOT)) return;
  const prefixPath = bytesToNibbles(prefix);
  const startPath = startKey === null ? null : bytesToNibbles(startKey);
  const path: number[] = [];

  // Depth-first, a node's own value before its children, children in nibble order: that is
  // lexicographic key order. `bounded` means the path so far equals startPath's prefix, so the
  // start bound still constrains this subtree.
  function* visit(node: StoredNode, bounded: boolean): Generator<[Uint8Array, NodeValue]> {
    const base = path.length;
    for (const n of node.partial) path.push(n);
    try {
      if (comparePrefix(path, prefixPath) !== 0) return;
      if (bounded) {
        const sp = startPath as Nibbles;
        const c = comparePrefix(path, sp);
        if (c < 0) return;
        if (c > 0 || path.length > sp.length) bounded = false;
      }
      // While bounded, this node's own key is a prefix of (or equal to) startKey: not after it.
      if (node.value !== null && !bounded && path.length >= prefixPath.length) {
        assert.equal(path.length % 2, 0, "values sit at whole-byte keys");
        const value: NodeValue = node.valueHashed ? { kind: "hashed", hash: node.value } : { kind: "inline", data: node.value };
        yield [nibblesToBytes(path), value];
      }
      const children = node.children;
      if (children === null) return;
      const depth = path.length;
      for (let i = 0; i < 16; i++) {
        const child = children[i];
        if (child === null) continue;
        if (depth < prefixPath.length && i !== prefixPath[depth]) continue;
        let childBounded = false;
        if (bounded) {
          const sp = startPath as Nibbles;
          if (depth < sp.length) {
            if (i < sp[depth]) continue;
            childBounded = i === sp[depth];
          }
        }
        path.push(i);
        yield* visit(decodedChild(source, child), childBounded);
        path.pop();
      }
    } finally {
      path.length = base;
    }
  }

  yield* visit(decodedChild(source, root), startPath !== null);
}
