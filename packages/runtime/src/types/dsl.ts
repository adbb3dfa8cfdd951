/**
 * The type DSL: `T.u32`, `T.struct(...)`, `T.enumeration(...)` ... Each call
 * returns one `Type` whose codec and scale-info description agree by
 * construction, and whose TypeScript value type is inferred from the call.
 */
import { assert } from "@phala-ts/primitives";
import { createCodec, type Codec } from "scale-ts";
import {
  bigIntCodec, boolCodec, bytesCodec, compactBigIntCodec, compactNumberCodec, decodeLength, decoder,
  encodeCompact, encodeInto, fixedBytesCodec, need, partsCodec, smallIntCodec, strCodec, unitCodec, type Cursor,
} from "./codecs.ts";
import { ScaleDecodeError, ScaleEncodeError } from "./errors.ts";
import { LAZY, resolveType, type Field, type Infer, type PrimitiveName, type Type, type TypeInfo, type TypeParam } from "./type.ts";

/**
 * A `Vec` of zero-size elements (`Vec<()>`) consumes no input per element, so the
 * remaining input cannot bound its claimed length; cap it instead. Nothing in the
 * runtime declares such a sequence, so any cap would do; 2^16 keeps a hostile
 * length from spinning the decoder.
 */
export const SEQUENCE_ZERO_SIZE_LEN_MAX = 1 << 16;

/**
 * Nesting limit for `T.lazy` (recursive) decoding: Substrate's
 * MAX_EXTRINSIC_DEPTH, so `Sudo(Sudo(Sudo(...)))` nests as deep as on Substrate
 * and no deeper, and hostile input cannot exhaust the JS stack.
 */
export const LAZY_DECODE_DEPTH_MAX = 256;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Value of a struct declared with `fields`. */
export type StructValue<F extends Readonly<Record<string, Type<any>>>> = Simplify<{ -readonly [K in keyof F]: Infer<F[K]> }>;
/** Value of a tuple of types. */
export type TupleValue<A extends readonly Type<any>[]> = { -readonly [K in keyof A]: Infer<A[K]> };

export type VariantFields = Readonly<Record<string, Type<any>>> | readonly Type<any>[];

export interface VariantDecl {
  readonly index: number;
  /** Named fields (value is an object), unnamed fields (value is the single value, or an array), or none. */
  readonly fields?: VariantFields;
  readonly docs?: readonly string[];
  /** Rust type names shown in metadata, by field name or position. */
  readonly typeNames?: Readonly<Record<string, string>> | readonly (string | undefined)[];
}

type PayloadOf<F> = F extends readonly []
  ? undefined
  : F extends readonly [Type<infer X>]
    ? X
    : F extends readonly Type<any>[]
      ? TupleValue<F>
      : F extends Readonly<Record<string, Type<any>>>
        ? StructValue<F>
        : undefined;

type VariantValue<K extends string, D> = D extends { readonly fields: infer F }
  ? [PayloadOf<F>] extends [undefined]
    ? { tag: K; value?: undefined }
    : { tag: K; value: PayloadOf<F> }
  : { tag: K; value?: undefined };

/** Value of an enumeration: `{ tag, value }`, `value` absent for unit variants. */
export type EnumValue<V> = { [K in keyof V & string]: VariantValue<K, V[K]> }[keyof V & string];

export type ResultValue<O, E> = { tag: "Ok"; value: O } | { tag: "Err"; value: E };

export interface TypeOptions {
  params?: TypeParam[];
  docs?: string[];
}

function makeType<X>(codec: Codec<X>, info: TypeInfo): Type<X> {
  return Object.freeze({ codec, info });
}

function typeName(info: TypeInfo): string {
  if (info.path.length > 0) return info.path[info.path.length - 1];
  return info.def.tag === "primitive" ? info.def.value : info.def.tag;
}

/**
 * An encode error of a field, named after the field (`Type.field: ...`); other errors as they
 * are. The callers encode in plain loops under one try: encoding runs for every extrinsic,
 * message and answer, and a closure plus a context string per field cost more than the field.
 */
function inContext(context: string, e: unknown): unknown {
  return e instanceof ScaleEncodeError ? new ScaleEncodeError(`${context}: ${e.message}`, { details: e.details as Record<string, unknown>, cause: e }) : e;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

// ---------------------------------------------------------------- primitives

function primitive<X>(name: PrimitiveName, codec: Codec<X>): Type<X> {
  return makeType(codec, { path: [], params: [], def: { tag: "primitive", value: name }, docs: [] });
}

const bool = primitive("bool", boolCodec);
const str = primitive("str", strCodec);
const u8 = primitive("u8", smallIntCodec("u8"));
const u16 = primitive("u16", smallIntCodec("u16"));
const u32 = primitive("u32", smallIntCodec("u32"));
const u64 = primitive("u64", bigIntCodec("u64"));
const u128 = primitive("u128", bigIntCodec("u128"));
const u256 = primitive("u256", bigIntCodec("u256"));
const i8 = primitive("i8", smallIntCodec("i8"));
const i16 = primitive("i16", smallIntCodec("i16"));
const i32 = primitive("i32", smallIntCodec("i32"));
const i64 = primitive("i64", bigIntCodec("i64"));
const i128 = primitive("i128", bigIntCodec("i128"));
const i256 = primitive("i256", bigIntCodec("i256"));

/** `()`: the empty tuple, value `undefined`, zero bytes. */
const unit: Type<undefined> = makeType(unitCodec, { path: [], params: [], def: { tag: "tuple", types: [] }, docs: [] });

/** `Vec<u8>` as a Uint8Array. */
const bytes: Type<Uint8Array> = makeType(bytesCodec, { path: [], params: [], def: { tag: "sequence", type: u8 }, docs: [] });

// Constructors below are memoized on their arguments, so `T.vec(x)` twice is one
// type and one metadata entry, as Rust's `Vec<X>` is one type.
function memo1<K extends object, V>(cache: WeakMap<K, V>, key: K, make: () => V): V {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    cache.set(key, v);
  }
  return v;
}

const fixedBytesCache = new Map<number, Type<Uint8Array>>();
/** `[u8; len]` as a Uint8Array of exactly `len` bytes. */
function fixedBytes(len: number): Type<Uint8Array> {
  assert(Number.isInteger(len) && len >= 0 && len <= 0xffff_ffff, `fixedBytes: bad length ${len}`);
  let t = fixedBytesCache.get(len);
  if (t === undefined) {
    t = makeType(fixedBytesCodec(len), { path: [], params: [], def: { tag: "array", len, type: u8 }, docs: [] });
    fixedBytesCache.set(len, t);
  }
  return t;
}

// ---------------------------------------------------------------- size bound

const minSizeCache = new WeakMap<Type<any>, number>();
const PRIMITIVE_SIZE: Record<PrimitiveName, number> = {
  bool: 1, char: 4, str: 1, u8: 1, u16: 2, u32: 4, u64: 8, u128: 16, u256: 32,
  i8: 1, i16: 2, i32: 4, i64: 8, i128: 16, i256: 32,
};

/** A lower bound on the encoded size of any value of `type` (0 inside a recursion). */
export function minEncodedSize(type: Type<any>): number {
  const t = resolveType(type);
  const cached = minSizeCache.get(t);
  if (cached !== undefined) return cached;
  minSizeCache.set(t, 0);
  const sum = (fields: Field[]) => fields.reduce((n, f) => n + minEncodedSize(f.type), 0);
  const d = t.info.def;
  let n: number;
  switch (d.tag) {
    case "primitive": n = PRIMITIVE_SIZE[d.value]; break;
    case "composite": n = sum(d.fields); break;
    case "variant": n = d.variants.length === 0 ? 0 : 1 + Math.min(...d.variants.map((v) => sum(v.fields))); break;
    case "sequence": n = 1; break;
    case "array": n = d.len * minEncodedSize(d.type); break;
    case "tuple": n = d.types.reduce((m, x) => m + minEncodedSize(x), 0); break;
    case "compact": n = minEncodedSize(d.type) === 0 ? 0 : 1; break;
  }
  minSizeCache.set(t, n);
  return n;
}

function readCount(c: Cursor, element: Type<any>, what: string): number {
  const at = c.i;
  const n = decodeLength(c);
  const size = minEncodedSize(element);
  const fits = size === 0 ? n <= SEQUENCE_ZERO_SIZE_LEN_MAX : n <= (c.length - c.i) / size;
  if (!fits) {
    throw new ScaleDecodeError(`${what} claims ${n} elements, more than the input can hold`, { details: { offset: at, length: n } });
  }
  return n;
}

// ---------------------------------------------------------------- containers

const vecCache = new WeakMap<Type<any>, Type<any>>();
/** `Vec<X>` as X[]. (`Vec<u8>` as Uint8Array is `T.bytes`.) */
function vec<X>(inner: Type<X>): Type<X[]> {
  return memo1(vecCache, inner, () =>
    makeType<X[]>(
      partsCodec(
        (value, out) => {
          if (!Array.isArray(value)) throw new ScaleEncodeError(`expected an array for Vec, got ${typeof value}`);
          out.push(encodeCompact(value.length));
          for (const item of value) encodeInto(inner.codec, item, out);
        },
        decoder((c) => {
          const n = readCount(c, inner, "Vec");
          const out = new Array<X>(n);
          for (let k = 0; k < n; k++) out[k] = inner.codec.dec(c);
          return out;
        }),
      ),
      { path: [], params: [], def: { tag: "sequence", type: inner }, docs: [] },
    ),
  );
}

const arrayCache = new WeakMap<Type<any>, Map<number, Type<any>>>();
/** `[X; len]` as X[] of exactly `len` items. (`[u8; len]` as Uint8Array is `T.fixedBytes`.) */
function array<X>(inner: Type<X>, len: number): Type<X[]> {
  assert(Number.isInteger(len) && len >= 0 && len <= 0xffff_ffff, `array: bad length ${len}`);
  const byLen = memo1(arrayCache, inner, () => new Map<number, Type<any>>());
  let t = byLen.get(len);
  if (t === undefined) {
    t = makeType<X[]>(
      partsCodec(
        (value, out) => {
          if (!Array.isArray(value) || value.length !== len) throw new ScaleEncodeError(`expected an array of ${len} items`);
          for (const item of value) encodeInto(inner.codec, item, out);
        },
        decoder((c) => {
          const size = minEncodedSize(inner);
          if (size > 0) need(c, size * len, `[_; ${len}]`);
          const out = new Array<X>(len);
          for (let k = 0; k < len; k++) out[k] = inner.codec.dec(c);
          return out;
        }),
      ),
      { path: [], params: [], def: { tag: "array", len, type: inner }, docs: [] },
    );
    byLen.set(len, t);
  }
  return t;
}

interface TupleNode { next: WeakMap<Type<any>, TupleNode>; type?: Type<any> }
const tupleRoot: TupleNode = { next: new WeakMap() };
/** `(A, B, ...)` as a TypeScript tuple. `T.tuple()` is `T.unit`. */
function tuple<const A extends readonly Type<any>[]>(...types: A): Type<TupleValue<A>> {
  if (types.length === 0) return unit as unknown as Type<TupleValue<A>>;
  let node = tupleRoot;
  for (const t of types) node = memo1(node.next, t, () => ({ next: new WeakMap() }));
  node.type ??= makeType<any>(
    partsCodec(
      (value: unknown[], out) => {
        if (!Array.isArray(value) || value.length !== types.length) throw new ScaleEncodeError(`expected a tuple of ${types.length} items`);
        for (let k = 0; k < types.length; k++) encodeInto(types[k].codec, value[k], out);
      },
      decoder((c) => types.map((t) => t.codec.dec(c))),
    ),
    { path: [], params: [], def: { tag: "tuple", types: [...types] }, docs: [] },
  );
  return node.type as Type<TupleValue<A>>;
}

const compactCache = new WeakMap<Type<any>, Type<any>>();
/**
 * `Compact<X>` for X = u8/u16/u32 (number), u64/u128 (bigint), `()` (zero bytes),
 * or a single-field composite of those (Substrate's `CompactAs`, e.g. Perbill).
 */
function compact<X>(inner: Type<X>): Type<X> {
  return memo1(compactCache, inner, () =>
    makeType<X>(compactCodecFor(inner) as Codec<X>, { path: [], params: [], def: { tag: "compact", type: inner }, docs: [] }),
  );
}

function compactCodecFor(inner: Type<any>): Codec<any> {
  const d = resolveType(inner).info.def;
  if (d.tag === "primitive") {
    switch (d.value) {
      case "u8": return compactNumberCodec(1);
      case "u16": return compactNumberCodec(2);
      case "u32": return compactNumberCodec(4);
      case "u64": return compactBigIntCodec(8);
      case "u128": return compactBigIntCodec(16);
    }
  }
  if (d.tag === "tuple" && d.types.length === 0) return unitCodec;
  if (d.tag === "composite" && d.fields.length === 1) {
    const field = d.fields[0].type;
    const base = compactCodecFor(field);
    return createCodec(
      (value) => base.enc(field.codec.dec(inner.codec.enc(value))),
      decoder((c) => inner.codec.dec(field.codec.enc(base.dec(c)))),
    );
  }
  assert.fail(`Compact<${typeName(resolveType(inner).info)}> is not a compact-encodable type`);
}

/** Option's tags; shared, since the outermost codec copies every piece. */
const NONE = Uint8Array.of(0);
const SOME = Uint8Array.of(1);
const optionTypes = new WeakSet<Type<any>>();
const optionCache = new WeakMap<Type<any>, Type<any>>();
/** `Option<X>` as `X | undefined` (scale-info path ["Option"], None = 0, Some = 1). */
function option<X>(inner: Type<X>): Type<X | undefined> {
  return memo1(optionCache, inner, () => {
    const lazyInner = LAZY in inner;
    assert(lazyInner || !optionTypes.has(inner), "Option<Option<_>> is ambiguous as `X | undefined`; declare an enumeration");
    const d = lazyInner ? undefined : inner.info.def;
    assert(!(d?.tag === "tuple" && d.types.length === 0), "Option<()> is ambiguous as `X | undefined`; use T.bool or an enumeration");
    const t = makeType<X | undefined>(
      partsCodec(
        (value, out) => {
          if (value === undefined) {
            out.push(NONE);
            return;
          }
          out.push(SOME);
          encodeInto(inner.codec, value, out);
        },
        decoder((c) => {
          need(c, 1, "Option");
          const tag = c[c.i];
          if (tag > 1) throw new ScaleDecodeError(`invalid Option tag ${tag}`, { details: { offset: c.i } });
          c.i += 1;
          return tag === 0 ? undefined : inner.codec.dec(c);
        }),
      ),
      {
        path: ["Option"],
        params: [{ name: "T", type: inner }],
        def: { tag: "variant", variants: [{ name: "None", index: 0, fields: [] }, { name: "Some", index: 1, fields: [{ type: inner }] }] },
        docs: [],
      },
    );
    optionTypes.add(t);
    return t;
  });
}

const resultCache = new WeakMap<Type<any>, WeakMap<Type<any>, Type<any>>>();
/** `Result<O, E>` as `{ tag: "Ok", value } | { tag: "Err", value }` (path ["Result"], Ok = 0, Err = 1). */
function result<O, E>(ok: Type<O>, err: Type<E>): Type<ResultValue<O, E>> {
  const byErr = memo1(resultCache, ok, () => new WeakMap<Type<any>, Type<any>>());
  return memo1(byErr, err, () =>
    enumeration(["Result"], { Ok: { index: 0, fields: [ok] }, Err: { index: 1, fields: [err] } }, {
      params: [{ name: "T", type: ok }, { name: "E", type: err }],
    }) as Type<any>,
  );
}

// ---------------------------------------------------------------- declared types

export interface StructOptions<F> extends TypeOptions {
  /** Rust type names shown in metadata, per field. */
  typeNames?: { [K in keyof F]?: string };
  fieldDocs?: { [K in keyof F]?: string[] };
}

/** A Rust struct with named fields (composite); the value is an object with the same keys, encoded in declaration order. */
function struct<const F extends Readonly<Record<string, Type<any>>>>(
  path: string[],
  fields: F,
  opts: StructOptions<F> = {},
): Type<StructValue<F>> {
  const keys = Object.keys(fields) as (keyof F & string)[];
  const name = path.join("::") || "struct";
  const contexts = keys.map((k) => `${name}.${k}`);
  const typeNames = (opts.typeNames ?? {}) as Record<string, string | undefined>;
  const fieldDocs = (opts.fieldDocs ?? {}) as Record<string, string[] | undefined>;
  return makeType<any>(
    partsCodec(
      (value: Record<string, unknown>, out) => {
        if (!isObject(value)) throw new ScaleEncodeError(`expected an object for ${name}`);
        let i = 0;
        try {
          for (; i < keys.length; i++) encodeInto(fields[keys[i]].codec, value[keys[i]], out);
        } catch (e) {
          throw inContext(contexts[i], e);
        }
      },
      decoder((c) => {
        const out: Record<string, unknown> = {};
        for (const k of keys) out[k] = fields[k].codec.dec(c);
        return out;
      }),
    ),
    {
      path,
      params: opts.params ?? [],
      def: {
        tag: "composite",
        fields: keys.map((k) => ({ name: k, type: fields[k], typeName: typeNames[k], docs: fieldDocs[k] ?? [] })),
      },
      docs: opts.docs ?? [],
    },
  );
}

/** A Rust tuple struct with one field (`struct AccountId32([u8; 32])`); the value is the inner value. */
function newtype<X>(path: string[], inner: Type<X>, opts: TypeOptions & { typeName?: string } = {}): Type<X> {
  return makeType(inner.codec, {
    path,
    params: opts.params ?? [],
    def: { tag: "composite", fields: [{ type: inner, typeName: opts.typeName, docs: [] }] },
    docs: opts.docs ?? [],
  });
}

/**
 * A Rust enum with explicit variant indexes (which may be sparse). The value is
 * `{ tag, value }`: `value` is absent for a unit variant, an object for named
 * fields, the value itself for one unnamed field, an array for several.
 */
function enumeration<const V extends Readonly<Record<string, VariantDecl>>>(
  path: string[],
  variants: V,
  opts: TypeOptions = {},
): Type<EnumValue<V>> {
  const name = path.join("::") || "enum";
  interface Arm { tag: string; index: number; enc: (value: unknown, out: Uint8Array[]) => void; dec: (c: Cursor) => unknown }
  const byTag = new Map<string, Arm>();
  const byIndex: (Arm | undefined)[] = new Array(256).fill(undefined);
  const infos: TypeInfo["def"] & { tag: "variant" } = { tag: "variant", variants: [] };

  for (const [tag, decl] of Object.entries(variants)) {
    const { index } = decl;
    assert(Number.isInteger(index) && index >= 0 && index <= 255, `${name}::${tag}: variant index ${index} is not a u8`);
    assert(byIndex[index] === undefined, `${name}: variant index ${index} used by both ${byIndex[index]?.tag} and ${tag}`);
    const f = decl.fields;
    const tn = decl.typeNames as Record<string | number, string | undefined> | undefined;
    let arm: Arm;
    let fields: Field[];
    const ctx = `${name}::${tag}`;
    // Shared by every encoding of this variant: the outermost codec copies it, never hands it out.
    const indexByte = Uint8Array.of(index);
    if (f === undefined || (Array.isArray(f) && f.length === 0)) {
      fields = [];
      arm = { tag, index, enc: (_value, out) => void out.push(indexByte), dec: () => undefined };
    } else if (Array.isArray(f)) {
      const types = f as readonly Type<any>[];
      fields = types.map((type, k) => ({ type, typeName: tn?.[k], docs: [] }));
      arm = types.length === 1
        ? {
            tag, index,
            enc: (value, out) => {
              out.push(indexByte);
              try {
                encodeInto(types[0].codec, value, out);
              } catch (e) {
                throw inContext(ctx, e);
              }
            },
            dec: (c) => types[0].codec.dec(c),
          }
        : {
            tag, index,
            enc: (value, out) => {
              if (!Array.isArray(value) || value.length !== types.length) throw new ScaleEncodeError(`${ctx}: expected an array of ${types.length} items`);
              out.push(indexByte);
              try {
                for (let k = 0; k < types.length; k++) encodeInto(types[k].codec, value[k], out);
              } catch (e) {
                throw inContext(ctx, e);
              }
            },
            dec: (c) => types.map((t) => t.codec.dec(c)),
          };
    } else {
      const named = f as Readonly<Record<string, Type<any>>>;
      const keys = Object.keys(named);
      const contexts = keys.map((k) => `${ctx}.${k}`);
      fields = keys.map((k) => ({ name: k, type: named[k], typeName: tn?.[k], docs: [] }));
      arm = {
        tag, index,
        enc: (value, out) => {
          if (!isObject(value)) throw new ScaleEncodeError(`${ctx}: expected an object`);
          out.push(indexByte);
          let k = 0;
          try {
            for (; k < keys.length; k++) encodeInto(named[keys[k]].codec, value[keys[k]], out);
          } catch (e) {
            throw inContext(contexts[k], e);
          }
        },
        dec: (c) => {
          const out: Record<string, unknown> = {};
          for (const k of keys) out[k] = named[k].codec.dec(c);
          return out;
        },
      };
    }
    byTag.set(tag, arm);
    byIndex[index] = arm;
    infos.variants.push({ name: tag, index, fields, docs: decl.docs ? [...decl.docs] : [] });
  }

  return makeType<any>(
    partsCodec(
      (value: { tag: string; value?: unknown }, out) => {
        const arm = isObject(value) && typeof value.tag === "string" ? byTag.get(value.tag) : undefined;
        if (arm === undefined) {
          throw new ScaleEncodeError(`${name}: unknown variant ${isObject(value) ? String(value.tag) : typeof value}`, { details: { type: name } });
        }
        arm.enc(value.value, out);
      },
      decoder((c) => {
        need(c, 1, name);
        const index = c[c.i];
        const arm = byIndex[index];
        if (arm === undefined) throw new ScaleDecodeError(`unknown variant index ${index} for ${name}`, { details: { offset: c.i, index, type: name } });
        c.i += 1;
        return { tag: arm.tag, value: arm.dec(c) };
      }),
    ),
    { path, params: opts.params ?? [], def: infos, docs: opts.docs ?? [] },
  );
}

/**
 * A reference to a type declared later, for recursion (`Box<RuntimeCall>` in a
 * Sudo call). Annotate the thunk to break TypeScript's inference cycle:
 * `T.lazy((): Type<any> => RuntimeCall)`. Metadata numbers the resolved type.
 */
function lazy<X>(f: () => Type<X>): Type<X> {
  let target: Type<X> | undefined;
  const get = (): Type<X> => (target ??= f());
  const codec = partsCodec<X>(
    (value, out) => encodeInto(get().codec, value, out),
    decoder((c) => {
      const depth = (c.depth ?? 0) + 1;
      if (depth > LAZY_DECODE_DEPTH_MAX) throw new ScaleDecodeError(`recursive value nests deeper than ${LAZY_DECODE_DEPTH_MAX}`, { details: { offset: c.i } });
      c.depth = depth;
      try {
        return get().codec.dec(c);
      } finally {
        c.depth = depth - 1;
      }
    }),
  );
  return Object.freeze({
    codec,
    get info(): TypeInfo {
      return get().info;
    },
    [LAZY]: get,
  });
}

/** Builds a type from a hand-written codec and its scale-info description (e.g. Era). The caller keeps them in agreement. */
function custom<X>(codec: Codec<X>, info: TypeInfo): Type<X> {
  return makeType(codec, info);
}

export const T = {
  bool, str, u8, u16, u32, u64, u128, u256, i8, i16, i32, i64, i128, i256,
  unit, bytes, fixedBytes, compact, vec, array, tuple, option, result,
  struct, newtype, enumeration, lazy, custom,
} as const;
