/**
 * Substrate trie node codec (trie-db's substrate `NodeCodec`, `LayoutV1`), base 16, no extension nodes.
 *
 *   node    = header partial-key [bitmap] [value] children*
 *   header  = kind bits + nibble count of the partial key (continuation bytes when it does not fit)
 *             0b01xx_xxxx leaf            0b10xx_xxxx branch, no value   0b11xx_xxxx branch with value
 *             0b001x_xxxx leaf, hashed value   0b0001_xxxx branch, hashed value   0x00 empty trie
 *   partial = nibbles packed two per byte; an odd count puts the first nibble alone in the low bits of byte 0
 *   bitmap  = u16 little-endian, bit i set when child i exists (branches only)
 *   value   = SCALE compact length + bytes (inline), or the 32-byte blake2b-256 of the value (hashed)
 *   child   = SCALE compact length + (32-byte hash, or the child's own encoding when it is < 32 bytes)
 */
import { assert } from "@phala-ts/primitives";
import { blake2b256 } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import type { Nibbles } from "./nibbles.ts";
import { allocBytes } from "./slab.ts";

export const HASH_LENGTH_BYTES = 32;
/**
 * sp-core's `TRIE_VALUE_NODE_THRESHOLD`: in layout V1 a value of at least this many bytes is stored as
 * a separate value node and referenced by its hash.
 */
export const VALUE_NODE_THRESHOLD_BYTES = 33;
/** trie-db's `NIBBLE_SIZE_BOUND`: the longest partial key a header may describe. */
export const PARTIAL_KEY_NIBBLES_MAX = 65535;

/** The encoding of the empty trie: a lone zero header. */
export const EMPTY_NODE: Uint8Array = Uint8Array.of(0);
/** blake2b-256 of `EMPTY_NODE`: 0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314. */
export const EMPTY_TRIE_ROOT: Uint8Array = blake2b256(EMPTY_NODE);

const LEAF_PREFIX = 0b01 << 6;
const BRANCH_NO_VALUE_PREFIX = 0b10 << 6;
const BRANCH_WITH_VALUE_PREFIX = 0b11 << 6;
const HASHED_LEAF_PREFIX = 0b001 << 5;
const HASHED_BRANCH_PREFIX = 0b0001 << 4;

export type NodeValue = { kind: "inline"; data: Uint8Array } | { kind: "hashed"; hash: Uint8Array };

/** A child reference: a 32-byte hash, or the child's whole encoding when that is under 32 bytes. */
export type ChildRef = { kind: "hash"; hash: Uint8Array } | { kind: "inline"; encoded: Uint8Array };

export type DecodedNode =
  | { kind: "empty" }
  | { kind: "leaf"; partial: Nibbles; value: NodeValue }
  | { kind: "branch"; partial: Nibbles; value: NodeValue | null; children: (ChildRef | null)[] };

/**
 * A non-empty node in the flat form the store, its node cache and the tries share: fewer objects
 * than `DecodedNode`, and child slots that are directly the reference bytes. Shared through the node
 * cache, so never mutated once built.
 */
export interface StoredNode {
  /** The partial key, one nibble per element. */
  readonly partial: Nibbles;
  /** The inline value, the value node's hash (`valueHashed`), or null for a branch without value. */
  readonly value: Uint8Array | null;
  readonly valueHashed: boolean;
  /**
   * null for a leaf; for a branch 16 slots, each null or the child reference: a 32-byte hash, or
   * the child's own encoding when that is shorter than a hash.
   */
  readonly children: readonly (Uint8Array | null)[] | null;
  /** The node's encoding. */
  readonly encoded: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// SCALE compact (u32 range: lengths)

export function compactLength(n: number): number {
  if (n < 1 << 6) return 1;
  if (n < 1 << 14) return 2;
  if (n < 2 ** 30) return 4;
  return 5;
}

export function writeCompact(out: Uint8Array, pos: number, n: number): number {
  assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xffffffff, "compact length out of u32 range");
  if (n < 1 << 6) {
    out[pos] = n << 2;
    return pos + 1;
  }
  if (n < 1 << 14) {
    const v = (n << 2) | 1;
    out[pos] = v & 0xff;
    out[pos + 1] = v >> 8;
    return pos + 2;
  }
  if (n < 2 ** 30) {
    const v = n * 4 + 2;
    out[pos] = v & 0xff;
    out[pos + 1] = (v >>> 8) & 0xff;
    out[pos + 2] = (v >>> 16) & 0xff;
    out[pos + 3] = (v >>> 24) & 0xff;
    return pos + 4;
  }
  out[pos] = 3; // big-integer mode, (4 - 4) << 2 | 0b11: four bytes follow
  out[pos + 1] = n & 0xff;
  out[pos + 2] = (n >>> 8) & 0xff;
  out[pos + 3] = (n >>> 16) & 0xff;
  out[pos + 4] = (n >>> 24) & 0xff;
  return pos + 5;
}

export function encodeCompact(n: number): Uint8Array {
  const out = new Uint8Array(compactLength(n));
  writeCompact(out, 0, n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function headerLength(nibbleCount: number, prefixBits: number): number {
  const max = 255 >> prefixBits;
  return nibbleCount < max ? 1 : 2 + Math.floor((nibbleCount - max) / 255);
}

function writeHeader(out: Uint8Array, prefix: number, prefixBits: number, nibbleCount: number): number {
  const max = 255 >> prefixBits;
  if (nibbleCount < max) {
    out[0] = prefix | nibbleCount;
    return 1;
  }
  out[0] = prefix | max;
  let pos = 1;
  let rem = nibbleCount - max;
  while (rem >= 255) {
    out[pos++] = 255;
    rem -= 255;
  }
  out[pos++] = rem;
  return pos;
}

function writePartial(out: Uint8Array, pos: number, partial: Nibbles): number {
  let i = 0;
  if (partial.length % 2 === 1) {
    out[pos++] = partial[0];
    i = 1;
  }
  for (; i < partial.length; i += 2) out[pos++] = (partial[i] << 4) | partial[i + 1];
  return pos;
}

/**
 * Encodes a node from its flat parts (as `StoredNode` holds them). `children` is null for a leaf;
 * otherwise 16 slots, each null or the raw reference bytes (a 32-byte hash, or an inline child
 * encoding shorter than 32 bytes). A null slot may instead take its reference as stored in another
 * encoding: `srcRefs[i]` >= 0 is the offset in `src` of that reference's length byte. The result is
 * carved from a shared slab (see `slab.ts`) unless `standalone` (an array of its own, for callers
 * outside the package).
 */
export function encodeFlat(
  partial: Nibbles,
  value: Uint8Array | null,
  valueHashed: boolean,
  children: readonly (Uint8Array | null)[] | null,
  standalone = false,
  src: Uint8Array | null = null,
  srcRefs: Int32Array | null = null,
): Uint8Array {
  assert.ok(partial.length <= PARTIAL_KEY_NIBBLES_MAX, "partial key too long for a node header");
  let prefix: number;
  let prefixBits: number;
  if (children === null) {
    assert.ok(value !== null, "a leaf has a value");
    if (valueHashed) {
      prefix = HASHED_LEAF_PREFIX;
      prefixBits = 3;
    } else {
      prefix = LEAF_PREFIX;
      prefixBits = 2;
    }
  } else if (value === null) {
    prefix = BRANCH_NO_VALUE_PREFIX;
    prefixBits = 2;
  } else if (valueHashed) {
    prefix = HASHED_BRANCH_PREFIX;
    prefixBits = 4;
  } else {
    prefix = BRANCH_WITH_VALUE_PREFIX;
    prefixBits = 2;
  }

  let size = headerLength(partial.length, prefixBits) + ((partial.length + 1) >> 1);
  if (value !== null) {
    if (valueHashed) {
      assert.equal(value.length, HASH_LENGTH_BYTES);
      size += HASH_LENGTH_BYTES;
    } else {
      size += compactLength(value.length) + value.length;
    }
  }
  let bitmap = 0;
  if (children !== null) {
    assert.equal(children.length, 16, "a branch has 16 child slots");
    size += 2;
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      let length: number;
      if (c !== null) length = c.length;
      else if (srcRefs !== null && srcRefs[i] >= 0) length = (src as Uint8Array)[srcRefs[i]] >> 2;
      else continue;
      assert.ok(length <= HASH_LENGTH_BYTES, "a child reference is a hash or an inline node < 32 bytes");
      bitmap |= 1 << i;
      size += 1 + length;
    }
    assert.ok(bitmap !== 0, "a branch has at least one child");
  }

  const out = standalone ? new Uint8Array(size) : allocBytes(size);
  let pos = writeHeader(out, prefix, prefixBits, partial.length);
  pos = writePartial(out, pos, partial);
  if (children !== null) {
    out[pos++] = bitmap & 0xff;
    out[pos++] = bitmap >> 8;
  }
  if (value !== null) {
    if (!valueHashed) pos = writeCompact(out, pos, value.length);
    out.set(value, pos);
    pos += value.length;
  }
  if (children !== null) {
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      if (c !== null) {
        out[pos++] = c.length << 2;
        out.set(c, pos);
        pos += c.length;
      } else if (srcRefs !== null && srcRefs[i] >= 0) {
        const from = srcRefs[i];
        const length = 1 + ((src as Uint8Array)[from] >> 2);
        for (let k = 0; k < length; k++) out[pos + k] = (src as Uint8Array)[from + k];
        pos += length;
      }
    }
  }
  assert.equal(pos, size);
  return out;
}

/**
 * Encodes a node from its parts. `children` is null for a leaf; otherwise 16 slots, each null or the
 * raw reference bytes (a 32-byte hash, or an inline child encoding shorter than 32 bytes).
 */
export function encodeNodeParts(
  partial: Nibbles,
  value: NodeValue | null,
  children: readonly (Uint8Array | null)[] | null,
): Uint8Array {
  if (value === null) return encodeFlat(partial, null, false, children, true);
  return value.kind === "hashed"
    ? encodeFlat(partial, value.hash, true, children, true)
    : encodeFlat(partial, value.data, false, children, true);
}

export function encodeNode(node: DecodedNode): Uint8Array {
  if (node.kind === "empty") return EMPTY_NODE.slice();
  if (node.kind === "leaf") return encodeNodeParts(node.partial, node.value, null);
  const refs = node.children.map((c) => (c === null ? null : c.kind === "hash" ? c.hash : c.encoded));
  return encodeNodeParts(node.partial, node.value, refs);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function invalid(reason: string, length: number): never {
  throw new TrieError("INVALID_NODE", `invalid trie node: ${reason}`, { details: { length } });
}

/** Value kinds in a node header. */
export const VALUE_NONE = 0;
export const VALUE_INLINE = 1;
export const VALUE_HASHED = 2;

/** `scanNode` flag: the node checked out (always set for a non-empty node). */
export const NODE_VALID = 1;
/** `scanNode` flag: a branch whose child references are all 32-byte hashes (each 33 bytes with its length). */
export const NODE_CHILDREN_HASHED = 2;

/**
 * Reads a SCALE Compact<u32> at `pos` (before `end`), rejecting non-canonical encodings as
 * parity-scale-codec does. The encoded length is `compactLength` of the result.
 */
function readCompact(data: Uint8Array, pos: number, end: number, length: number): number {
  if (pos >= end) invalid("unexpected end", length);
  const b0 = data[pos];
  switch (b0 & 3) {
    case 0:
      return b0 >> 2;
    case 1: {
      if (pos + 2 > end) invalid("unexpected end", length);
      const v = (b0 | (data[pos + 1] << 8)) >> 2;
      if (v < 1 << 6) invalid("non-canonical compact", length);
      return v;
    }
    case 2: {
      if (pos + 4 > end) invalid("unexpected end", length);
      const v = (b0 | (data[pos + 1] << 8) | (data[pos + 2] << 16)) + data[pos + 3] * 2 ** 24;
      const n = Math.floor(v / 4);
      if (n < 1 << 14) invalid("non-canonical compact", length);
      return n;
    }
    default: {
      if (b0 >> 2 !== 0) invalid("compact length beyond u32", length);
      if (pos + 5 > end) invalid("unexpected end", length);
      const n = (data[pos + 1] | (data[pos + 2] << 8) | (data[pos + 3] << 16)) + data[pos + 4] * 2 ** 24;
      if (n < 2 ** 30) invalid("non-canonical compact", length);
      return n;
    }
  }
}

/** Reads a compact already checked by `scanNode`. */
function readCompactUnchecked(data: Uint8Array, pos: number): number {
  const b0 = data[pos];
  switch (b0 & 3) {
    case 0:
      return b0 >> 2;
    case 1:
      return (b0 | (data[pos + 1] << 8)) >> 2;
    case 2:
      return Math.floor(((b0 | (data[pos + 1] << 8) | (data[pos + 2] << 16)) + data[pos + 3] * 2 ** 24) / 4);
    default:
      return (data[pos + 1] | (data[pos + 2] << 8) | (data[pos + 3] << 16)) + data[pos + 4] * 2 ** 24;
  }
}

/**
 * Checks the node encoded in `data[start..end)` strictly, without allocating: unknown header kinds,
 * non-zero padding, an empty bitmap, a child reference longer than a hash and trailing bytes are
 * all `INVALID_NODE`. Returns 0 for the empty-trie node, else `NODE_VALID` (| `NODE_CHILDREN_HASHED`).
 * Inline children are not looked into: they are checked when visited.
 */
export function scanNode(data: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length <= 0) invalid("unexpected end", length);
  const first = data[start];
  if (first === 0) {
    if (length !== 1) invalid("trailing bytes after empty node", length);
    return 0;
  }
  let branch: boolean;
  let valueKind: number;
  let prefixBits: number;
  switch (first >> 6) {
    case 1:
      branch = false;
      valueKind = VALUE_INLINE;
      prefixBits = 2;
      break;
    case 2:
      branch = true;
      valueKind = VALUE_NONE;
      prefixBits = 2;
      break;
    case 3:
      branch = true;
      valueKind = VALUE_INLINE;
      prefixBits = 2;
      break;
    default:
      if (first >> 5 === 1) {
        branch = false;
        valueKind = VALUE_HASHED;
        prefixBits = 3;
      } else if (first >> 4 === 1) {
        branch = true;
        valueKind = VALUE_HASHED;
        prefixBits = 4;
      } else invalid("reserved header", length);
  }
  const max = 255 >> prefixBits;
  let nibbleCount = first & max;
  let pos = start + 1;
  if (nibbleCount === max) {
    for (;;) {
      if (pos >= end) invalid("unexpected end", length);
      const b = data[pos++];
      nibbleCount += b;
      if (nibbleCount > PARTIAL_KEY_NIBBLES_MAX) invalid("partial key longer than the nibble bound", length);
      if (b < 255) break;
    }
  }
  const partialBytes = (nibbleCount + 1) >> 1;
  if (pos + partialBytes > end) invalid("unexpected end", length);
  if (nibbleCount % 2 === 1 && data[pos] >> 4 !== 0) invalid("non-zero padding in partial key", length);
  pos += partialBytes;

  let bitmap = 0;
  if (branch) {
    if (pos + 2 > end) invalid("unexpected end", length);
    bitmap = data[pos] | (data[pos + 1] << 8);
    pos += 2;
    if (bitmap === 0) invalid("branch without children", length);
  }
  if (valueKind === VALUE_HASHED) {
    if (pos + HASH_LENGTH_BYTES > end) invalid("unexpected end", length);
    pos += HASH_LENGTH_BYTES;
  } else if (valueKind === VALUE_INLINE) {
    const n = readCompact(data, pos, end, length);
    pos += compactLength(n);
    if (pos + n > end) invalid("unexpected end", length);
    pos += n;
  }
  let flags = NODE_VALID | NODE_CHILDREN_HASHED;
  if (branch) {
    for (let i = 0; i < 16; i++) {
      if ((bitmap & (1 << i)) === 0) continue;
      const n = readCompact(data, pos, end, length);
      if (n > HASH_LENGTH_BYTES) invalid("child reference longer than a hash", length);
      if (n !== HASH_LENGTH_BYTES) flags &= ~NODE_CHILDREN_HASHED;
      pos += 1; // a length of at most 32 is one compact byte
      if (pos + n > end) invalid("unexpected end", length);
      pos += n;
    }
  }
  if (pos !== end) invalid("trailing bytes", length);
  return flags;
}

/**
 * A cursor over one node encoding that `scanNode` accepted: `load` parses the header, without
 * allocating, into the fields below (offsets are absolute positions in `buf`).
 */
export class NodeCursor {
  buf: Uint8Array = EMPTY_NODE;
  branch = false;
  valueKind = VALUE_NONE;
  nibbleCount = 0;
  /** Where the packed partial key starts (an odd count puts its first nibble in the low bits). */
  partialAt = 0;
  bitmap = 0;
  /** Where the value bytes (or the value's hash) start, and how many there are. */
  valueAt = 0;
  valueLength = 0;
  /** Where the first child reference's length byte is. */
  childrenAt = 0;

  load(buf: Uint8Array, start: number): void {
    this.buf = buf;
    const first = buf[start];
    let prefixBits: number;
    switch (first >> 6) {
      case 1:
        this.branch = false;
        this.valueKind = VALUE_INLINE;
        prefixBits = 2;
        break;
      case 2:
        this.branch = true;
        this.valueKind = VALUE_NONE;
        prefixBits = 2;
        break;
      case 3:
        this.branch = true;
        this.valueKind = VALUE_INLINE;
        prefixBits = 2;
        break;
      default:
        this.branch = first >> 5 !== 1;
        this.valueKind = VALUE_HASHED;
        prefixBits = this.branch ? 4 : 3;
    }
    const max = 255 >> prefixBits;
    let nibbleCount = first & max;
    let pos = start + 1;
    if (nibbleCount === max) {
      let b: number;
      do {
        b = buf[pos++];
        nibbleCount += b;
      } while (b === 255);
    }
    this.nibbleCount = nibbleCount;
    this.partialAt = pos;
    pos += (nibbleCount + 1) >> 1;
    if (this.branch) {
      this.bitmap = buf[pos] | (buf[pos + 1] << 8);
      pos += 2;
    } else this.bitmap = 0;
    if (this.valueKind === VALUE_HASHED) {
      this.valueAt = pos;
      this.valueLength = HASH_LENGTH_BYTES;
    } else if (this.valueKind === VALUE_INLINE) {
      const n = readCompactUnchecked(buf, pos);
      this.valueAt = pos + compactLength(n);
      this.valueLength = n;
    } else {
      this.valueAt = pos;
      this.valueLength = 0;
    }
    this.childrenAt = this.valueAt + this.valueLength;
  }

  /** Nibble `i` of the partial key. */
  nibble(i: number): number {
    const j = i + (this.nibbleCount & 1); // an odd count pads one nibble in front
    const b = this.buf[this.partialAt + (j >> 1)];
    return (j & 1) === 0 ? b >> 4 : b & 0x0f;
  }

  /** The partial key as nibbles, in an array of its own (from a slab unless `standalone`). */
  partial(standalone = false): Nibbles {
    const n = this.nibbleCount;
    if (n === 0) return standalone ? new Uint8Array(0) : EMPTY_NIBBLES;
    const out = standalone ? new Uint8Array(n) : allocBytes(n);
    const buf = this.buf;
    let o = 0;
    let i = this.partialAt;
    if ((n & 1) === 1) out[o++] = buf[i++] & 0x0f;
    for (; o < n; i++) {
      out[o++] = buf[i] >> 4;
      out[o++] = buf[i] & 0x0f;
    }
    return out;
  }
}

const EMPTY_NIBBLES: Nibbles = new Uint8Array(0);
const cursor = new NodeCursor();

/**
 * Decodes one node into the flat form, strictly (see `scanNode`). Returns null for the empty-trie
 * node. Value and child slices alias `data`.
 */
export function decodeStoredNode(data: Uint8Array, standalone = false): StoredNode | null {
  if (scanNode(data, 0, data.length) === 0) return null;
  const c = cursor;
  c.load(data, 0);
  const partial = c.partial(standalone);
  const value = c.valueKind === VALUE_NONE ? null : data.subarray(c.valueAt, c.valueAt + c.valueLength);
  let children: (Uint8Array | null)[] | null = null;
  if (c.branch) {
    children = [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null];
    let pos = c.childrenAt;
    for (let i = 0; i < 16; i++) {
      if ((c.bitmap & (1 << i)) === 0) continue;
      const n = data[pos] >> 2;
      children[i] = data.subarray(pos + 1, pos + 1 + n);
      pos += 1 + n;
    }
  }
  return { partial, value, valueHashed: c.valueKind === VALUE_HASHED, children, encoded: data };
}

/**
 * Decodes one node, strictly: unknown header kinds, non-zero padding, an empty bitmap, a child
 * reference longer than a hash and trailing bytes are all `INVALID_NODE`. Returned slices alias `data`.
 */
export function decodeNode(data: Uint8Array): DecodedNode {
  const n = decodeStoredNode(data, true); // the partial key in an array of its own, not a slab view
  if (n === null) return { kind: "empty" };
  const value: NodeValue | null =
    n.value === null ? null : n.valueHashed ? { kind: "hashed", hash: n.value } : { kind: "inline", data: n.value };
  if (n.children === null) return { kind: "leaf", partial: n.partial, value: value as NodeValue };
  const children = n.children.map((c): ChildRef | null =>
    c === null ? null : c.length === HASH_LENGTH_BYTES ? { kind: "hash", hash: c } : { kind: "inline", encoded: c },
  );
  return { kind: "branch", partial: n.partial, value, children };
}
