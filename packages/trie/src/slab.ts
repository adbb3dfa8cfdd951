/**
 * Small byte arrays carved out of shared slabs, as Node's `Buffer.allocUnsafe` pool does, but
 * returning plain zero-filled `Uint8Array` views. V8 allocates a typed array of more than 64 bytes
 * with its own off-heap backing store, which costs about ten times a view and adds GC work; smaller
 * ones live on the heap, but the first `.buffer` or `subarray` (hashing does the former, nibble
 * paths the latter) moves them off it, which costs as much. Node encodings, nibble paths, values
 * and node copies are made by the ten thousand per block. A view keeps its whole slab alive, so
 * slabs are small.
 */

/**
 * Slab size. Small enough that an entry kept alive long after its neighbours (a cached node)
 * pins little memory, large enough that a slab holds dozens of branch encodings.
 */
const SLAB_BYTES = 16 * 1024;
/** Larger requests get their own array: they would waste most of a slab. */
const SLAB_ALLOC_MAX_BYTES = 2 * 1024;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A zero-filled array of `n` bytes. */
export function allocBytes(n: number): Uint8Array {
  if (n === 0 || n > SLAB_ALLOC_MAX_BYTES) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab.buffer, used, n);
  used += (n + 7) & ~7; // keep views 8-byte aligned
  return out;
}

/** A copy of `bytes` (the first `length` of them) that shares nothing with the source. */
export function copyBytes(bytes: Uint8Array, length: number = bytes.length): Uint8Array {
  const out = allocBytes(length);
  out.set(length === bytes.length ? bytes : bytes.subarray(0, length));
  return out;
}
