/**
 * Read-only walks over a stored trie: point lookups (optionally recording the nodes they touch,
 * which is how proofs are built and checked) and ordered iteration.
 */
import assert from "node:assert/strict";
import { bytesEqual } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import { EMPTY_TRIE_ROOT, decodeNode, type DecodedNode, type NodeValue } from "./node-codec.ts";
import { bytesToNibbles, nibblesToBytes, type Nibbles } from "./nibbles.ts";
import type { NodeLoader } from "./mutable-trie.ts";

/** Called with every hashed node (and value node) a walk reads. */
export type NodeRecorder = (hash: Uint8Array, bytes: Uint8Array) => void;

function decodeNonEmpty(bytes: Uint8Array): Exclude<DecodedNode, { kind: "empty" }> {
  const d = decodeNode(bytes);
  if (d.kind === "empty") {
    throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length: bytes.length } });
  }
  return d;
}

function loadAndRecord(load: NodeLoader, hash: Uint8Array, record: NodeRecorder | undefined): Uint8Array {
  const bytes = load(hash);
  if (record !== undefined) record(hash, bytes);
  return bytes;
}

/**
 * Walks from `root` to `key` and returns the value reference found there, or null when the trie
 * proves the key absent. Hashed values are returned as references; see `resolveValue`.
 */
export function lookupValueRef(
  load: NodeLoader,
  root: Uint8Array,
  key: Uint8Array,
  record?: NodeRecorder,
): NodeValue | null {
  if (bytesEqual(root, EMPTY_TRIE_ROOT)) return null;
  const path = bytesToNibbles(key);
  let node = decodeNonEmpty(loadAndRecord(load, root, record));
  let off = 0;
  for (;;) {
    const p = node.partial;
    if (path.length - off < p.length) return null;
    for (let i = 0; i < p.length; i++) if (path[off + i] !== p[i]) return null;
    off += p.length;
    if (off === path.length) return node.value;
    if (node.kind === "leaf") return null;
    const child = node.children[path[off]];
    if (child === null) return null;
    off++;
    node = decodeNonEmpty(child.kind === "hash" ? loadAndRecord(load, child.hash, record) : child.encoded);
  }
}

export function resolveValue(load: NodeLoader, value: NodeValue, record?: NodeRecorder): Uint8Array {
  return value.kind === "inline" ? value.data : loadAndRecord(load, value.hash, record);
}

export function lookup(load: NodeLoader, root: Uint8Array, key: Uint8Array, record?: NodeRecorder): Uint8Array | null {
  const ref = lookupValueRef(load, root, key, record);
  return ref === null ? null : resolveValue(load, ref, record);
}

/** Nibble-wise comparison of `path` with `other[0..path.length)`, over their common length. */
function comparePrefix(path: readonly number[], other: Nibbles): number {
  const n = Math.min(path.length, other.length);
  for (let i = 0; i < n; i++) if (path[i] !== other[i]) return path[i] - other[i];
  return 0;
}

/**
 * Yields `[key, valueRef]` for every key under `prefix` that is strictly greater than `startKey`
 * (when given), in lexicographic byte order. Nodes are read lazily, as the caller pulls.
 */
export function* iterateEntries(
  load: NodeLoader,
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
  function* visit(node: Exclude<DecodedNode, { kind: "empty" }>, bounded: boolean): Generator<[Uint8Array, NodeValue]> {
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
        yield [nibblesToBytes(path), node.value];
      }
      if (node.kind === "leaf") return;
      const depth = path.length;
      for (let i = 0; i < 16; i++) {
        const child = node.children[i];
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
        const bytes = child.kind === "hash" ? load(child.hash) : child.encoded;
        yield* visit(decodeNonEmpty(bytes), childBounded);
        path.pop();
      }
    } finally {
      path.length = base;
    }
  }

  yield* visit(decodeNonEmpty(load(root)), startPath !== null);
}
