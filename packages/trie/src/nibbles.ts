/**
 * Nibble helpers. A key of n bytes is a path of 2n nibbles (high nibble first);
 * nibble paths are Uint8Arrays holding one value 0..15 per element.
 */
import { assert } from "@phala-ts/primitives";
import { allocBytes } from "./slab.ts";

export type Nibbles = Uint8Array;

export function bytesToNibbles(bytes: Uint8Array): Nibbles {
  const out = allocBytes(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i] >> 4;
    out[2 * i + 1] = bytes[i] & 0x0f;
  }
  return out;
}

/** Packs an even-length nibble path back into bytes. */
export function nibblesToBytes(nibbles: ArrayLike<number>): Uint8Array {
  assert.equal(nibbles.length % 2, 0, "a storage key has an even number of nibbles");
  const out = new Uint8Array(nibbles.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1];
  return out;
}

/** Length of the common prefix of `a` and `b[bOffset..]`. */
export function commonPrefixLength(a: Nibbles, b: Nibbles, bOffset: number): number {
  const n = Math.min(a.length, b.length - bOffset);
  let i = 0;
  while (i < n && a[i] === b[bOffset + i]) i++;
  return i;
}

export function concatNibbles(a: Nibbles, middle: number, b: Nibbles): Nibbles {
  const out = allocBytes(a.length + 1 + b.length);
  out.set(a, 0);
  out[a.length] = middle;
  out.set(b, a.length + 1);
  return out;
}
