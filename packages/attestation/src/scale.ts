/**
 * A small, strict SCALE codec for the values this package puts on chain
 * (evidence, policy). scale-ts decodes leniently (a short buffer yields a short
 * array, trailing bytes and a bool of 2 pass), which is wrong for bytes that
 * come from untrusted extrinsics; here every length is bounded before anything
 * is allocated, compact integers must be canonical, and decoding must consume
 * the input exactly. Types are inferred from the codec declarations, so a shape
 * is written once.
 */
import { AttestationError } from "./errors.ts";

export interface Codec<T> {
  readonly enc: (value: T, out: Writer) => void;
  readonly dec: (input: Reader) => T;
}
export type CodecType<C> = C extends Codec<infer T> ? T : never;

export class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {}

  fail(reason: string): never {
    throw new AttestationError("MALFORMED", `${this.what} is not valid SCALE: ${reason} at byte ${this.pos}`);
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) this.fail(`needs ${n} more bytes, ${this.bytes.length - this.pos} left`);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) this.fail("unexpected end of input");
    return this.bytes[this.pos++];
  }

  end(): void {
    if (this.pos !== this.bytes.length) this.fail(`${this.bytes.length - this.pos} trailing bytes`);
  }
}

function uint(bytes: 1 | 2 | 4): Codec<number> {
  const max = 2 ** (8 * bytes) - 1;
  return {
    enc: (v, out) => {
      if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new AttestationError("MALFORMED", `integer ${v} does not fit in ${bytes * 8} bits`);
      const b = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i++) b[i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
      out.push(b);
    },
    dec: (r) => {
      const b = r.take(bytes);
      let v = 0;
      for (let i = bytes - 1; i >= 0; i--) v = v * 256 + b[i];
      return v;
    },
  };
}

export const u8 = uint(1);
export const u16 = uint(2);
export const u32 = uint(4);

export const bool: Codec<boolean> = {
  enc: (v, out) => out.push(Uint8Array.of(v ? 1 : 0)),
  dec: (r) => {
    const b = r.byte();
    if (b > 1) r.fail(`bool byte ${b}`);
    return b === 1;
  },
};

/** Compact integers up to 2^32 - 1: enough for every length here. */
export const compactU32: Codec<number> = {
  enc: (v, out) => {
    if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new AttestationError("MALFORMED", `compact ${v} out of range`);
    if (v < 1 << 6) out.push(Uint8Array.of(v << 2));
    else if (v < 1 << 14) out.push(Uint8Array.of(((v << 2) | 1) & 0xff, v >> 6));
    else if (v < 1 << 30) {
      const x = v * 4 + 2;
      out.push(Uint8Array.of(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff));
    } else out.push(Uint8Array.of(3, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
  },
  dec: (r) => {
    const b0 = r.byte();
    const mode = b0 & 3;
    if (mode === 0) return b0 >> 2;
    if (mode === 1) {
      const v = (b0 >> 2) | (r.byte() << 6);
      if (v < 1 << 6) r.fail("non-canonical compact");
      return v;
    }
    if (mode === 2) {
      const b = r.take(3);
      const v = ((b0 >>> 2) | (b[0] << 6) | (b[1] << 14)) + b[2] * 2 ** 22;
      if (v < 1 << 14) r.fail("non-canonical compact");
      return v;
    }
    if (b0 !== 3) r.fail("compact integer wider than 32 bits");
    const b = r.take(4);
    const v = b[0] + b[1] * 2 ** 8 + b[2] * 2 ** 16 + b[3] * 2 ** 24;
    if (v < 2 ** 30) r.fail("non-canonical compact");
    return v;
  },
};

/** `Vec<u8>` with a bound checked before the bytes are read. */
export function bytes(maxLength: number, what: string): Codec<Uint8Array> {
  return {
    enc: (v, out) => {
      if (!(v instanceof Uint8Array)) throw new AttestationError("MALFORMED", `${what} must be a Uint8Array`);
      if (v.length > maxLength) throw new AttestationError("MALFORMED", `${what} is ${v.length} bytes, more than the limit of ${maxLength}`);
      compactU32.enc(v.length, out);
      out.push(v);
    },
    dec: (r) => {
      const n = compactU32.dec(r);
      if (n > maxLength) r.fail(`${what} claims ${n} bytes, more than the limit of ${maxLength}`);
      return r.take(n);
    },
  };
}

/** `[u8; N]`. */
export function fixed(length: number, what: string): Codec<Uint8Array> {
  return {
    enc: (v, out) => {
      if (!(v instanceof Uint8Array) || v.length !== length) {
        throw new AttestationError("MALFORMED", `${what} must be ${length} bytes, got ${v instanceof Uint8Array ? v.length : typeof v}`);
      }
      out.push(v);
    },
    dec: (r) => r.take(length),
  };
}

/** UTF-8 `String` with a byte bound. */
export function str(maxBytes: number, what: string): Codec<string> {
  const inner = bytes(maxBytes, what);
  return {
    enc: (v, out) => inner.enc(new TextEncoder().encode(v), out),
    dec: (r) => {
      const b = inner.dec(r);
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(b);
      } catch {
        return r.fail(`${what} is not UTF-8`);
      }
    },
  };
}

export function vec<T>(inner: Codec<T>, maxCount: number, what: string): Codec<T[]> {
  return {
    enc: (v, out) => {
      if (!Array.isArray(v)) throw new AttestationError("MALFORMED", `${what} must be an array`);
      if (v.length > maxCount) throw new AttestationError("MALFORMED", `${what} has ${v.length} entries, more than the limit of ${maxCount}`);
      compactU32.enc(v.length, out);
      for (const x of v) inner.enc(x, out);
    },
    dec: (r) => {
      const n = compactU32.dec(r);
      if (n > maxCount) r.fail(`${what} claims ${n} entries, more than the limit of ${maxCount}`);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(inner.dec(r));
      return out;
    },
  };
}

export function option<T>(inner: Codec<T>): Codec<T | null> {
  return {
    enc: (v, out) => {
      if (v === null || v === undefined) out.push(Uint8Array.of(0));
      else {
        out.push(Uint8Array.of(1));
        inner.enc(v, out);
      }
    },
    dec: (r) => {
      const tag = r.byte();
      if (tag === 0) return null;
      if (tag !== 1) r.fail(`option tag ${tag}`);
      return inner.dec(r);
    },
  };
}

type Fields = Record<string, Codec<any>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type StructType<F extends Fields> = Simplify<{ [K in keyof F]: CodecType<F[K]> }>;

/** Fields are encoded in declaration order, as SCALE structs are. */
export function struct<F extends Fields>(fields: F): Codec<StructType<F>> {
  const keys = Object.keys(fields);
  return {
    enc: (v, out) => {
      if (typeof v !== "object" || v === null) throw new AttestationError("MALFORMED", "expected an object");
      for (const k of keys) fields[k].enc((v as Record<string, unknown>)[k], out);
    },
    dec: (r) => {
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = fields[k].dec(r);
      return o as StructType<F>;
    },
  };
}

/** A unit enum: the string at position i encodes as the byte i. */
export function unitEnum<const S extends readonly string[]>(names: S, what: string): Codec<S[number]> {
  return {
    enc: (v, out) => {
      const i = names.indexOf(v);
      if (i < 0) throw new AttestationError("MALFORMED", `${what} "${String(v)}" is not one of ${names.join(", ")}`);
      out.push(Uint8Array.of(i));
    },
    dec: (r) => {
      const i = r.byte();
      if (i >= names.length) r.fail(`${what} index ${i}`);
      return names[i];
    },
  };
}

// `any`: each variant carries its own struct type; TaggedType recovers them.
type Variants = Record<string, readonly [index: number, codec: Codec<any>]>;
export type TaggedType<K extends string, V extends Variants> = {
  [N in keyof V & string]: Simplify<{ [P in K]: N } & CodecType<V[N][1]>>;
}[keyof V & string];

/**
 * A SCALE enum whose variants carry structs, exposed as a flat discriminated
 * union: `{ [tagKey]: name, ...fields }`.
 */
export function taggedUnion<const K extends string, const V extends Variants>(tagKey: K, variants: V, what: string): Codec<TaggedType<K, V>> {
  const byIndex = new Map<number, [string, Codec<Record<string, unknown>>]>();
  for (const [name, [index, codec]] of Object.entries(variants)) byIndex.set(index, [name, codec]);
  return {
    enc: (v, out) => {
      const name = (v as Record<string, unknown>)?.[tagKey];
      const variant = typeof name === "string" && Object.hasOwn(variants, name) ? variants[name] : undefined;
      if (variant === undefined) throw new AttestationError("MALFORMED", `unknown ${what} "${String(name)}"`);
      out.push(Uint8Array.of(variant[0]));
      variant[1].enc(v as Record<string, unknown>, out);
    },
    dec: (r) => {
      const i = r.byte();
      const variant = byIndex.get(i);
      if (variant === undefined) return r.fail(`unknown ${what} index ${i}`);
      return { [tagKey]: variant[0], ...variant[1].dec(r) } as TaggedType<K, V>;
    },
  };
}

export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = new Writer();
  codec.enc(value, w);
  return w.finish();
}

/** Decodes exactly `input`; anything left over is an error. */
export function decode<T>(codec: Codec<T>, input: Uint8Array, what: string): T {
  if (!(input instanceof Uint8Array)) throw new AttestationError("MALFORMED", `${what} must be a Uint8Array`);
  const r = new Reader(input, what);
  const v = codec.dec(r);
  r.end();
  return v;
}
