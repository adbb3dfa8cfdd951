import { createBLAKE2b, createXXHash64 } from "hash-wasm";

// hash-wasm builds its hashers asynchronously; we create them once here so every
// caller gets a synchronous API, which the runtime and trie need (no awaits inside
// a state transition).
const blake64 = await createBLAKE2b(64);
const blake128 = await createBLAKE2b(128);
const blake256 = await createBLAKE2b(256);
const blake512 = await createBLAKE2b(512);
const xxSeed0 = await createXXHash64(0, 0);
const xxSeed1 = await createXXHash64(1, 0);
const xxSeed2 = await createXXHash64(2, 0);
const xxSeed3 = await createXXHash64(3, 0);

type Hasher = typeof blake256;

function run(h: Hasher, data: Uint8Array): Uint8Array {
  h.init();
  h.update(data);
  return h.digest("binary");
}

export function blake2b64(data: Uint8Array): Uint8Array {
  return run(blake64, data);
}

export function blake2b128(data: Uint8Array): Uint8Array {
  return run(blake128, data);
}

export function blake2b256(data: Uint8Array): Uint8Array {
  return run(blake256, data);
}

export function blake2b512(data: Uint8Array): Uint8Array {
  return run(blake512, data);
}

/** Keyed blake2b is used by sr25519/ed25519 HDKD; not on hot paths, so built per call. */
export async function blake2b256Keyed(data: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  const h = await createBLAKE2b(256, key);
  h.update(data);
  return h.digest("binary");
}

// xxhash64 digests come out big-endian; Substrate's twox writes each 64-bit
// word little-endian, so each word is reversed.
function xx64le(h: Hasher, data: Uint8Array, out: Uint8Array, offset: number): void {
  const be = run(h, data);
  for (let i = 0; i < 8; i++) out[offset + i] = be[7 - i];
}

export function twox64(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  xx64le(xxSeed0, data, out, 0);
  return out;
}

export function twox128(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  xx64le(xxSeed0, data, out, 0);
  xx64le(xxSeed1, data, out, 8);
  return out;
}

export function twox256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  xx64le(xxSeed0, data, out, 0);
  xx64le(xxSeed1, data, out, 8);
  xx64le(xxSeed2, data, out, 16);
  xx64le(xxSeed3, data, out, 24);
  return out;
}
