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
import assert from "node:assert/strict";
import { blake2b256 } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import type { Nibbles } from "./nibbles.ts";

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
 * Encodes a node from its parts. `children` is null for a leaf; otherwise 16 slots, each null or the
 * raw reference bytes (a 32-byte hash, or an inline child encoding shorter than 32 bytes).
 */
export function encodeNodeParts(
  partial: Nibbles,
  value: NodeValue | null,
  children: readonly (Uint8Array | null)[] | null,
): Uint8Array {
  assert.ok(partial.length <= PARTIAL_KEY_NIBBLES_MAX, "partial key too long for a node header");
  let prefix: number;
  let prefixBits: number;
  if (children === null) {
    assert.ok(value !== null, "a leaf has a value");
    [prefix, prefixBits] = value.kind === "hashed" ? [HASHED_LEAF_PREFIX, 3] : [LEAF_PREFIX, 2];
  } else if (value === null) {
    [prefix, prefixBits] = [BRANCH_NO_VALUE_PREFIX, 2];
  } else {
    [prefix, prefixBits] = value.kind === "hashed" ? [HASHED_BRANCH_PREFIX, 4] : [BRANCH_WITH_VALUE_PREFIX, 2];
  }

  let size = headerLength(partial.length, prefixBits) + ((partial.length + 1) >> 1);
  if (value !== null) {
    if (value.kind === "hashed") {
      assert.equal(value.hash.length, HASH_LENGTH_BYTES);
      size += HASH_LENGTH_BYTES;
    } else {
      size += compactLength(value.data.length) + value.data.length;
    }
  }
  let bitmap = 0;
  if (children !== null) {
    assert.equal(children.length, 16, "a branch has 16 child slots");
    size += 2;
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      if (c === null) continue;
      assert.ok(c.length <= HASH_LENGTH_BYTES, "a child reference is a hash or an inline node < 32 bytes");
      bitmap |= 1 << i;
      size += 1 + c.length;
    }
    assert.ok(bitmap !== 0, "a branch has at least one child");
  }

  const out = new Uint8Array(size);
  let pos = writeHeader(out, prefix, prefixBits, partial.length);
  pos = writePartial(out, pos, partial);
  if (children !== null) {
    out[pos++] = bitmap & 0xff;
    out[pos++] = bitmap >> 8;
  }
  if (value !== null) {
    if (value.kind === "hashed") {
      out.set(value.hash, pos);
      pos += HASH_LENGTH_BYTES;
    } else {
      pos = writeCompact(out, pos, value.data.length);
      out.set(value.data, pos);
      pos += value.data.length;
    }
  }
  if (children !== null) {
    for (let i = 0; i < 16; i++) {
      const c = children[i];
      if (c === null) continue;
      out[pos++] = c.length << 2;
      out.set(c, pos);
      pos += c.length;
    }
  }
  assert.equal(pos, size);
  return out;
}

export function encodeNode(node: DecodedNode): Uint8Array {
  if (node.kind === "empty") return EMPTY_NODE.slice();
  if (node.kind === "leaf") return encodeNodeParts(node.partial, node.value, null);
  const refs = node.children.map((c) => (c === null ? null : c.kind === "hash" ? c.hash : c.encoded));
  return encodeNodeParts(node.partial, node.value, refs);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function invalid(reason: string, data: Uint8Array): never {
  throw new TrieError("INVALID_NODE", `invalid trie node: ${reason}`, { details: { length: data.length } });
}

class Reader {
  pos = 0;
  constructor(readonly data: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.data.length) invalid("unexpected end", this.data);
    return this.data[this.pos++];
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.data.length) invalid("unexpected end", this.data);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** SCALE Compact<u32>, rejecting non-canonical encodings as parity-scale-codec does. */
  compact(): number {
    const b0 = this.byte();
    switch (b0 & 3) {
      case 0:
        return b0 >> 2;
      case 1: {
        const v = (b0 | (this.byte() << 8)) >> 2;
        if (v < 1 << 6) invalid("non-canonical compact", this.data);
        return v;
      }
      case 2: {
        const v = (b0 | (this.byte() << 8) | (this.byte() << 16)) + this.byte() * 2 ** 24;
        const n = Math.floor(v / 4);
        if (n < 1 << 14) invalid("non-canonical compact", this.data);
        return n;
      }
      default: {
        if (b0 >> 2 !== 0) invalid("compact length beyond u32", this.data);
        const n = (this.byte() | (this.byte() << 8) | (this.byte() << 16)) + this.byte() * 2 ** 24;
        if (n < 2 ** 30) invalid("non-canonical compact", this.data);
        return n;
      }
    }
  }
}

function readNibbleCount(r: Reader, first: number, prefixBits: number): number {
  const max = 255 >> prefixBits;
  let n = first & max;
  if (n < max) return n;
  for (;;) {
    const b = r.byte();
    n += b;
    if (n > PARTIAL_KEY_NIBBLES_MAX) invalid("partial key longer than the nibble bound", r.data);
    if (b < 255) return n;
  }
}

function readPartial(r: Reader, nibbleCount: number): Nibbles {
  const bytes = r.take((nibbleCount + 1) >> 1);
  const out = new Uint8Array(nibbleCount);
  let o = 0;
  let i = 0;
  if (nibbleCount % 2 === 1) {
    if (bytes[0] >> 4 !== 0) invalid("non-zero padding in partial key", r.data);
    out[o++] = bytes[0] & 0x0f;
    i = 1;
  }
  for (; i < bytes.length; i++) {
    out[o++] = bytes[i] >> 4;
    out[o++] = bytes[i] & 0x0f;
  }
  return out;
}

/**
 * Decodes one node, strictly: unknown header kinds, non-zero padding, an empty bitmap, a child
 * reference longer than a hash and trailing bytes are all `INVALID_NODE`. Returned slices alias `data`.
 */
export function decodeNode(data: Uint8Array): DecodedNode {
  const r = new Reader(data);
  const first = r.byte();
  if (first === 0) {
    if (data.length !== 1) invalid("trailing bytes after empty node", data);
    return { kind: "empty" };
  }
  let type: "leaf" | "branch";
  let valueKind: "none" | "inline" | "hashed";
  let prefixBits: number;
  switch (first >> 6) {
    case 1:
      [type, valueKind, prefixBits] = ["leaf", "inline", 2];
      break;
    case 2:
      [type, valueKind, prefixBits] = ["branch", "none", 2];
      break;
    case 3:
      [type, valueKind, prefixBits] = ["branch", "inline", 2];
      break;
    default:
      if (first >> 5 === 1) [type, valueKind, prefixBits] = ["leaf", "hashed", 3];
      else if (first >> 4 === 1) [type, valueKind, prefixBits] = ["branch", "hashed", 4];
      else invalid("reserved header", data);
  }
  const partial = readPartial(r, readNibbleCount(r, first, prefixBits));

  let bitmap = 0;
  if (type === "branch") {
    bitmap = r.byte() | (r.byte() << 8);
    if (bitmap === 0) invalid("branch without children", data);
  }
  let value: NodeValue | null = null;
  if (valueKind === "hashed") value = { kind: "hashed", hash: r.take(HASH_LENGTH_BYTES) };
  else if (valueKind === "inline") value = { kind: "inline", data: r.take(r.compact()) };

  if (type === "leaf") {
    if (r.pos !== data.length) invalid("trailing bytes", data);
    return { kind: "leaf", partial, value: value as NodeValue };
  }
  const children: (ChildRef | null)[] = new Array(16).fill(null);
  for (let i = 0; i < 16; i++) {
    if ((bitmap & (1 << i)) === 0) continue;
    const len = r.compact();
    if (len > HASH_LENGTH_BYTES) invalid("child reference longer than a hash", data);
    const bytes = r.take(len);
    children[i] = len === HASH_LENGTH_BYTES ? { kind: "hash", hash: bytes } : { kind: "inline", encoded: bytes };
  }
  if (r.pos !== data.length) invalid("trailing bytes", data);
  return { kind: "branch", partial, value, children };
}
