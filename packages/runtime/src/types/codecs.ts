/**
 * Bounds-checked SCALE codecs in scale-ts's calling convention.
 *
 * scale-ts's own decoders read past their input silently (`Bytes`), accept
 * non-canonical values (`bool` 2, `Option` tag 7, non-minimal compacts), loop
 * for 2^64 iterations on a hostile `Vec<()>` length, and decode a subarray from
 * the start of its underlying buffer. These decoders check every read and
 * throw `ScaleDecodeError`; encoders check ranges and throw `ScaleEncodeError`.
 * They still take and advance scale-ts's internal cursor, so they compose with
 * scale-ts combinators both ways.
 */
import { createCodec, createDecoder, type Codec, type Decoder, type Encoder } from "scale-ts";
import { concatByteList, fromHex } from "@phala-ts/primitives";
import { ScaleDecodeError, ScaleEncodeError } from "./errors.ts";

/** scale-ts's internal input: the whole buffer, a DataView over it and the read offset `i`. */
export interface Cursor extends Uint8Array {
  i: number;
  v: DataView;
  /** Nesting depth of `T.lazy` decoders, guarded by LAZY_DECODE_DEPTH_MAX. */
  depth?: number;
}

function isCursor(input: unknown): input is Cursor {
  return (
    input instanceof Uint8Array &&
    typeof (input as Partial<Cursor>).i === "number" &&
    (input as Partial<Cursor>).v instanceof DataView
  );
}

/** scale-ts reads `input.buffer` from offset 0, so a view into a larger buffer is copied first. */
function normalizeInput(input: Uint8Array | ArrayBuffer | string): Uint8Array | ArrayBuffer {
  if (typeof input === "string") return fromHex(input);
  if (input instanceof Uint8Array && (input.byteOffset !== 0 || input.byteLength !== input.buffer.byteLength)) {
    // Not `input.slice()`: on a Node Buffer (what LMDB returns) slice is a view, not a copy.
    return new Uint8Array(input);
  }
  return input;
}

/** Wraps a cursor-reading function as a scale-ts decoder that accepts any input form. */
export function decoder<T>(fn: (c: Cursor) => T): Decoder<T> {
  const inner = createDecoder((bytes) => fn(bytes as Cursor));
  return (input) => inner(isCursor(input) ? input : normalizeInput(input));
}

/** Runs `fn` on a fresh cursor over `bytes` and reports how many bytes it consumed. */
export function withCursor<T>(bytes: Uint8Array, fn: (c: Cursor) => T): { value: T; consumed: number; length: number } {
  return decoder((c) => {
    const value = fn(c);
    return { value, consumed: c.i, length: c.length };
  })(bytes);
}

export function need(c: Cursor, n: number, what: string): void {
  if (c.i + n > c.length) {
    throw new ScaleDecodeError(`unexpected end of input reading ${what}`, {
      details: { offset: c.i, needed: n, available: c.length - c.i },
    });
  }
}

/** Copies `len` bytes at the cursor into a fresh plain Uint8Array. */
export function readBytes(c: Cursor, len: number, what: string): Uint8Array {
  need(c, len, what);
  const out = new Uint8Array(c.buffer, c.byteOffset + c.i, len).slice();
  c.i += len;
  return out;
}

/** Appends a value's encoding to `out` in pieces. */
export type PartsEncoder<X> = (value: X, out: Uint8Array[]) => void;
const PARTS = Symbol("SCALE parts encoder");
type PartsEnc<X> = Encoder<X> & { [PARTS]?: PartsEncoder<X> };

/** Appends the encoding of `value` to `out`: a composite codec's pieces, or a leaf codec's bytes. */
export function encodeInto<X>(codec: Codec<X>, value: X, out: Uint8Array[]): void {
  const parts = (codec.enc as PartsEnc<X>)[PARTS];
  if (parts !== undefined) parts(value, out);
  else out.push(codec.enc(value));
}

/**
 * A codec that encodes by appending pieces: nested structs, enums and vectors append to one
 * list and only the outermost codec copies it, once, into the result. Copying at every level
 * cost more than the values (V8 allocates arrays over 64 bytes off its heap). A piece may be
 * the caller's own array; the result never is.
 */
export function partsCodec<X>(parts: PartsEncoder<X>, dec: Decoder<X>): Codec<X> {
  const enc: PartsEnc<X> = (value: X) => {
    const out: Uint8Array[] = [];
    parts(value, out);
    return concatByteList(out);
  };
  enc[PARTS] = parts;
  return createCodec(enc, dec);
}

function encodeError(what: string, value: unknown): ScaleEncodeError {
  return new ScaleEncodeError(`cannot encode ${describe(value)} as ${what}`, { details: { type: what } });
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return value === null ? "null" : typeof value === "object" ? "object" : String(value);
}

// ---------------------------------------------------------------- integers

type SmallInt = "u8" | "u16" | "u32" | "i8" | "i16" | "i32";
const SMALL: Record<SmallInt, { size: number; min: number; max: number; get: (v: DataView, at: number) => number }> = {
  u8: { size: 1, min: 0, max: 0xff, get: (v, at) => v.getUint8(at) },
  u16: { size: 2, min: 0, max: 0xffff, get: (v, at) => v.getUint16(at, true) },
  u32: { size: 4, min: 0, max: 0xffff_ffff, get: (v, at) => v.getUint32(at, true) },
  i8: { size: 1, min: -0x80, max: 0x7f, get: (v, at) => v.getInt8(at) },
  i16: { size: 2, min: -0x8000, max: 0x7fff, get: (v, at) => v.getInt16(at, true) },
  i32: { size: 4, min: -0x8000_0000, max: 0x7fff_ffff, get: (v, at) => v.getInt32(at, true) },
};

export function smallIntCodec(name: SmallInt): Codec<number> {
  const { size, min, max, get } = SMALL[name];
  const enc: Encoder<number> = (value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw encodeError(name, value);
    // Little-endian bytes written directly: a DataView per value costs more than the encoding.
    const out = new Uint8Array(size);
    const u = value < 0 ? value + 2 ** (size * 8) : value;
    out[0] = u & 0xff;
    if (size > 1) out[1] = (u >>> 8) & 0xff;
    if (size > 2) {
      out[2] = (u >>> 16) & 0xff;
      out[3] = (u >>> 24) & 0xff;
    }
    return out;
  };
  const dec = decoder((c) => {
    need(c, size, name);
    const value = get(c.v, c.i);
    c.i += size;
    return value;
  });
  return createCodec(enc, dec);
}

/** Fixed-width integers of 64 bits and more, as bigint. */
export function bigIntCodec(name: "u64" | "u128" | "u256" | "i64" | "i128" | "i256"): Codec<bigint> {
  const bits = BigInt(name.slice(1));
  const size = Number(bits) / 8;
  const signed = name.startsWith("i");
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const enc: Encoder<bigint> = (value) => {
    if (typeof value !== "bigint" || value < min || value > max) throw encodeError(name, value);
    let x = value < 0n ? value + (1n << bits) : value;
    const out = new Uint8Array(size);
    // 32 bits at a time through Number, little-endian; zero (most balances' reserved and frozen) costs nothing.
    for (let at = 0; x !== 0n && at < size; at += 4) {
      const w = Number(x & 0xffff_ffffn);
      out[at] = w & 0xff;
      out[at + 1] = (w >>> 8) & 0xff;
      out[at + 2] = (w >>> 16) & 0xff;
      out[at + 3] = (w >>> 24) & 0xff;
      x >>= 32n;
    }
    return out;
  };
  const dec = decoder((c) => {
    need(c, size, name);
    let x = 0n;
    for (let at = size - 8; at >= 0; at -= 8) x = (x << 64n) | c.v.getBigUint64(c.i + at, true);
    c.i += size;
    return signed && x > max ? x - (1n << bits) : x;
  });
  return createCodec(enc, dec);
}

export const boolCodec: Codec<boolean> = createCodec(
  (value) => {
    if (typeof value !== "boolean") throw encodeError("bool", value);
    return Uint8Array.of(value ? 1 : 0);
  },
  decoder((c) => {
    need(c, 1, "bool");
    const b = c[c.i];
    if (b > 1) throw new ScaleDecodeError(`invalid bool byte 0x${b.toString(16)}`, { details: { offset: c.i } });
    c.i += 1;
    return b === 1;
  }),
);

// ---------------------------------------------------------------- compact

const COMPACT_SINGLE_MAX = 1 << 6;
const COMPACT_TWO_MAX = 1 << 14;
const COMPACT_FOUR_MAX = 2 ** 30;

export function encodeCompact(value: number | bigint): Uint8Array {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) throw encodeError("Compact", value);
    if (value < COMPACT_SINGLE_MAX) return Uint8Array.of(value << 2);
    if (value < COMPACT_TWO_MAX) return Uint8Array.of(((value << 2) | 1) & 0xff, value >> 6);
    if (value < COMPACT_FOUR_MAX) {
      const w = (value * 4 + 2) >>> 0;
      return Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);
    }
    return encodeCompact(BigInt(value));
  }
  if (typeof value !== "bigint" || value < 0n) throw encodeError("Compact", value);
  if (value < BigInt(COMPACT_FOUR_MAX)) return encodeCompact(Number(value));
  const bytes: number[] = [];
  for (let x = value; x > 0n; x >>= 8n) bytes.push(Number(x & 0xffn));
  if (bytes.length > 67) throw encodeError("Compact", value);
  return Uint8Array.of(((bytes.length - 4) << 2) | 3, ...bytes);
}

/**
 * Decodes a canonical compact integer no wider than `maxBytes` (4 for u32, 8 for
 * u64, 16 for u128), rejecting the non-minimal forms parity-scale-codec rejects.
 * Returns a number below 2^30 and a bigint above.
 */
export function decodeCompact(c: Cursor, maxBytes: number): number | bigint {
  need(c, 1, "compact");
  const b0 = c[c.i];
  const at = c.i;
  switch (b0 & 3) {
    case 0:
      c.i += 1;
      return b0 >>> 2;
    case 1: {
      need(c, 2, "compact");
      const x = c.v.getUint16(c.i, true) >>> 2;
      if (x < COMPACT_SINGLE_MAX) throw nonCanonical(at);
      c.i += 2;
      return x;
    }
    case 2: {
      need(c, 4, "compact");
      const x = c.v.getUint32(c.i, true) >>> 2;
      if (x < COMPACT_TWO_MAX) throw nonCanonical(at);
      c.i += 4;
      return x;
    }
    default: {
      const n = (b0 >>> 2) + 4;
      if (n > maxBytes) throw new ScaleDecodeError(`compact value of ${n} bytes exceeds ${maxBytes}`, { details: { offset: at } });
      need(c, 1 + n, "compact");
      if (c[c.i + n] === 0) throw nonCanonical(at);
      let x = 0n;
      for (let k = n; k >= 1; k--) x = (x << 8n) | BigInt(c[c.i + k]);
      if (x < BigInt(COMPACT_FOUR_MAX)) throw nonCanonical(at);
      c.i += 1 + n;
      return x;
    }
  }
}

function nonCanonical(offset: number): ScaleDecodeError {
  return new ScaleDecodeError("compact integer is out of range or not minimally encoded", { details: { offset } });
}

/** Length prefix of a sequence: Compact<u32>, as Substrate's Vec length. */
export function decodeLength(c: Cursor): number {
  return Number(decodeCompact(c, 4));
}

export function compactNumberCodec(maxBytes: 1 | 2 | 4): Codec<number> {
  const max = 2 ** (8 * maxBytes) - 1;
  return createCodec(
    (value) => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw encodeError("Compact", value);
      return encodeCompact(value);
    },
    decoder((c) => {
      const at = c.i;
      const x = Number(decodeCompact(c, maxBytes));
      if (x > max) throw nonCanonical(at);
      return x;
    }),
  );
}

export function compactBigIntCodec(maxBytes: 8 | 16): Codec<bigint> {
  const max = (1n << BigInt(8 * maxBytes)) - 1n;
  return createCodec(
    (value) => {
      if (typeof value !== "bigint" || value < 0n || value > max) throw encodeError("Compact", value);
      return encodeCompact(value);
    },
    decoder((c) => BigInt(decodeCompact(c, maxBytes))),
  );
}

// ---------------------------------------------------------------- bytes and strings

export const bytesCodec: Codec<Uint8Array> = partsCodec(
  (value, out) => {
    if (!(value instanceof Uint8Array)) throw encodeError("Vec<u8>", value);
    out.push(encodeCompact(value.length), value);
  },
  decoder((c) => readBytes(c, decodeLength(c), "Vec<u8>")),
);

export function fixedBytesCodec(len: number): Codec<Uint8Array> {
  const what = `[u8; ${len}]`;
  return createCodec(
    (value) => {
      if (!(value instanceof Uint8Array) || value.length !== len) throw encodeError(what, value);
      return value.slice();
    },
    decoder((c) => readBytes(c, len, what)),
  );
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export const strCodec: Codec<string> = partsCodec(
  (value, out) => {
    if (typeof value !== "string") throw encodeError("str", value);
    if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) throw encodeError("str (lone surrogate)", value);
    const bytes = utf8Encoder.encode(value);
    out.push(encodeCompact(bytes.length), bytes);
  },
  decoder((c) => {
    const at = c.i;
    const bytes = readBytes(c, decodeLength(c), "str");
    try {
      return utf8Decoder.decode(bytes);
    } catch (cause) {
      throw new ScaleDecodeError("string is not valid UTF-8", { details: { offset: at }, cause });
    }
  }),
);

const EMPTY = new Uint8Array(0);
export const unitCodec: Codec<undefined> = createCodec(
  () => EMPTY,
  decoder(() => undefined),
);
