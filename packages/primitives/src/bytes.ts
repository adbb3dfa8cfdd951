/** Byte helpers shared by every package: hex with 0x prefix, concatenation, equality. */

/** Two hex digits per byte value; one lookup per byte. */
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
/** Value of each ASCII hex digit, -1 for any other character code below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

/** Node's Buffer where there is one: it writes hex natively, as one flat string. */
const NodeBuffer = (globalThis as { Buffer?: { from(b: ArrayBufferLike, offset: number, length: number): { toString(encoding: "hex"): string } } }).Buffer;
/** ASCII codes of each byte value's two hex digits, for building long hex without string appends. */
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  HEX_HI[b] = BYTE_HEX[b].charCodeAt(0);
  HEX_LO[b] = BYTE_HEX[b].charCodeAt(1);
}
/** Up to this many bytes (hashes, keys) appending is as fast; above, hex is written in one piece. */
const HEX_APPEND_BYTES_MAX = 64;
const asciiDecoder = new TextDecoder();

/**
 * Appending two characters per byte makes a string of n linked pieces, which V8 keeps until it
 * flattens them: a retained megabyte answer held a million heap objects.
 */
export function toHex(bytes: Uint8Array): `0x${string}` {
  if (NodeBuffer !== undefined && bytes.length > HEX_APPEND_BYTES_MAX) return `0x${NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`;
  return toHexPortable(bytes);
}

/** toHex where there is no Buffer (browsers); exported for tests. */
export function toHexPortable(bytes: Uint8Array): `0x${string}` {
  if (bytes.length > HEX_APPEND_BYTES_MAX) {
    const chars = new Uint8Array(2 + 2 * bytes.length);
    chars[0] = 48; // "0"
    chars[1] = 120; // "x"
    for (let i = 0, j = 2; i < bytes.length; i++, j += 2) {
      chars[j] = HEX_HI[bytes[i]];
      chars[j + 1] = HEX_LO[bytes[i]];
    }
    return asciiDecoder.decode(chars) as `0x${string}`;
  }
  let s = "0x";
  for (let i = 0; i < bytes.length; i++) s += BYTE_HEX[bytes[i]];
  return s as `0x${string}`;
}

export class HexError extends Error {
  readonly code = "INVALID_HEX";
  constructor(message: string) {
    super(message);
    this.name = "HexError";
  }
}

/** Parses `0x`-prefixed (or bare) hex; throws HexError with a readable reason. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string") throw new HexError("expected a hex string");
  const s = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (s.length % 2 !== 0) throw new HexError(`hex string has odd length ${s.length}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const a = s.charCodeAt(j);
    const b = s.charCodeAt(j + 1);
    const hi = a < 128 ? HEX_VALUE[a] : -1;
    const lo = b < 128 ? HEX_VALUE[b] : -1;
    if (hi < 0 || lo < 0) throw new HexError("hex string contains non-hex characters");
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Little-endian integers as bytes, written byte by byte: a DataView over a small array's
 * `.buffer` would move the array off V8's heap on every call. Values wrap as DataView's do.
 */
export function writeU32le(out: Uint8Array, at: number, n: number): void {
  out[at] = n & 0xff;
  out[at + 1] = (n >>> 8) & 0xff;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 24) & 0xff;
}

export function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32le(out, 0, n);
  return out;
}

export function u64le(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  writeU32le(out, 0, Number(n & 0xffff_ffffn));
  writeU32le(out, 4, Number((n >> 32n) & 0xffff_ffffn));
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatByteList(parts);
}

/** concatBytes for a list, also one too long to spread into arguments. */
export function concatByteList(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order, as Substrate orders storage keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

const HAS_BUFFER = typeof Buffer === "function";
/** Bytes per `String.fromCharCode` call: well under any engine's argument limit. */
const CHAR_CODE_CHUNK = 1024;

/**
 * A byte string as a JS string of the same length, one char per byte (latin1): a `Map` key whose
 * `<` order is the bytes' order. Short arrays go through `String.fromCharCode`, because the
 * `Buffer` route reads `.buffer`, which moves a small (on-heap) array off the heap first; long
 * ones through Buffer where there is one (Node), else in chunks (browsers).
 */
export function bytesKey(bytes: Uint8Array): string {
  if (bytes.length <= CHAR_CODE_CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  if (HAS_BUFFER) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let out = "";
  for (let at = 0; at < bytes.length; at += CHAR_CODE_CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(at, at + CHAR_CODE_CHUNK) as unknown as number[]);
  }
  return out;
}
