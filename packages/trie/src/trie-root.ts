/**
 * Root of a whole key/value set computed from scratch (trie-root's algorithm), without a store.
 * Used for genesis checks, `orderedTrieRoot` (extrinsics root) and as an independent reference
 * against which the incremental store is tested.
 */
import { blake2b256, bytesKey, compareBytes } from "@phala-ts/primitives";
import {
  EMPTY_TRIE_ROOT,
  HASH_LENGTH_BYTES,
  VALUE_NODE_THRESHOLD_BYTES,
  encodeCompact,
  encodeNodeParts,
  type NodeValue,
} from "./node-codec.ts";
import { bytesToNibbles, type Nibbles } from "./nibbles.ts";

interface Item {
  path: Nibbles;
  value: Uint8Array;
}

function nodeValue(data: Uint8Array): NodeValue {
  return data.length >= VALUE_NODE_THRESHOLD_BYTES ? { kind: "hashed", hash: blake2b256(data) } : { kind: "inline", data };
}

function encodeSubtree(items: Item[], lo: number, hi: number, depth: number): Uint8Array {
  // Items are sorted, so the prefix shared by all of them is the one shared by the first and last.
  const a = items[lo].path;
  const b = items[hi - 1].path;
  let end = depth;
  while (end < a.length && end < b.length && a[end] === b[end]) end++;
  const partial = a.subarray(depth, end);

  let value: NodeValue | null = null;
  let i = lo;
  if (a.length === end) {
    value = nodeValue(items[lo].value);
    i++;
  }
  if (i === hi) return encodeNodeParts(partial, value, null);

  const children: (Uint8Array | null)[] = new Array(16).fill(null);
  while (i < hi) {
    const nibble = items[i].path[end];
    let j = i + 1;
    while (j < hi && items[j].path[end] === nibble) j++;
    const enc = encodeSubtree(items, i, j, end + 1);
    children[nibble] = enc.length >= HASH_LENGTH_BYTES ? blake2b256(enc) : enc;
    i = j;
  }
  return encodeNodeParts(partial, value, children);
}

/** State root (layout V1, blake2b-256) of a key/value set; later duplicates of a key win. */
export function trieRoot(entries: Iterable<readonly [Uint8Array, Uint8Array]>): Uint8Array {
  const byKey = new Map<string, readonly [Uint8Array, Uint8Array]>();
  for (const e of entries) byKey.set(bytesKey(e[0]), e);
  const sorted = [...byKey.values()].sort((x, y) => compareBytes(x[0], y[0]));
  if (sorted.length === 0) return EMPTY_TRIE_ROOT.slice();
  const items = sorted.map(([k, v]) => ({ path: bytesToNibbles(k), value: v }));
  return blake2b256(encodeSubtree(items, 0, items.length, 0));
}

/**
 * Substrate's `ordered_trie_root` (layout V1): the root of the trie mapping SCALE `Compact<u32>(i)`
 * to the i-th value. This is a header's `extrinsicsRoot`.
 */
export function orderedTrieRoot(values: readonly Uint8Array[]): Uint8Array {
  return trieRoot(values.map((v, i) => [encodeCompact(i), v] as const));
}
