import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TypeRegistry as PjsRegistry } from "@polkadot/types";
import { toHex } from "@phala-ts/primitives";
import {
  T, decodeExact, decodePrefix, encode, encodeCompact, ScaleDecodeError, ScaleEncodeError, LAZY_DECODE_DEPTH_MAX,
  type Infer, type Type,
} from "./index.ts";
import { AccountInfo, MultiAddress } from "./std.ts";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<_ extends true>(): void {}

test("inferred value types are precise", () => {
  expectType<Equal<Infer<typeof AccountInfo>, {
    nonce: number; consumers: number; providers: number; sufficients: number;
    data: { free: bigint; reserved: bigint; frozen: bigint; flags: bigint };
  }>>();
  const E = T.enumeration(["x", "E"], {
    Unit: { index: 0 },
    One: { index: 3, fields: [T.u32] },
    Two: { index: 7, fields: [T.u8, T.str] },
    Named: { index: 9, fields: { a: T.bool, b: T.option(T.u64) } },
  });
  expectType<Equal<Infer<typeof E>,
    | { tag: "Unit"; value?: undefined }
    | { tag: "One"; value: number }
    | { tag: "Two"; value: [number, string] }
    | { tag: "Named"; value: { a: boolean; b: bigint | undefined } }>>();
  expectType<Equal<Infer<typeof MultiAddress>["tag"], "Id" | "Index" | "Raw" | "Address32" | "Address20">>();
  expectType<Equal<Infer<ReturnType<typeof T.tuple<[Type<number>, Type<Uint8Array>]>>>, [number, Uint8Array]>>();
  expectType<Equal<Infer<ReturnType<typeof T.result<undefined, number>>>, { tag: "Ok"; value: undefined } | { tag: "Err"; value: number }>>();
});

test("enumeration: sparse explicit indexes round-trip; unknown index and unknown tag fail clearly", () => {
  const E = T.enumeration(["pallet_x", "pallet", "Call"], {
    transfer: { index: 5, fields: { dest: T.fixedBytes(2), value: T.compact(T.u128) } },
    remark: { index: 200, fields: [T.bytes] },
    pair: { index: 1, fields: [T.u8, T.u16] },
    noop: { index: 0 },
  });
  const v = { tag: "transfer", value: { dest: Uint8Array.of(1, 2), value: 100n } } as const;
  const bytes = E.codec.enc(v);
  assert.equal(toHex(bytes), "0x050102" + "9101");
  assert.deepEqual(decodeExact(E, bytes), v);
  assert.deepEqual(decodeExact(E, Uint8Array.of(200, 4, 9)), { tag: "remark", value: Uint8Array.of(9) });
  assert.deepEqual(decodeExact(E, Uint8Array.of(1, 7, 1, 0)), { tag: "pair", value: [7, 1] });
  assert.deepEqual(decodeExact(E, Uint8Array.of(0)), { tag: "noop", value: undefined });
  assert.throws(() => decodeExact(E, Uint8Array.of(6)), (e: unknown) =>
    e instanceof ScaleDecodeError && e.code === "SCALE_DECODE" && /unknown variant index 6 for pallet_x::pallet::Call/.test(e.message));
  assert.throws(() => E.codec.enc({ tag: "nope" } as never), ScaleEncodeError);
  assert.throws(() => T.enumeration(["Dup"], { A: { index: 1 }, B: { index: 1 } }), /index 1/);
});

test("decodeExact rejects trailing bytes and truncation with SCALE_DECODE", () => {
  assert.equal(decodeExact(T.u32, Uint8Array.of(1, 0, 0, 0)), 1);
  for (const bad of [Uint8Array.of(1, 0, 0, 0, 0), Uint8Array.of(1, 0, 0), new Uint8Array(0)]) {
    assert.throws(() => decodeExact(T.u32, bad), (e: unknown) => e instanceof ScaleDecodeError && e.code === "SCALE_DECODE");
  }
  assert.deepEqual(decodePrefix(T.u16, Uint8Array.of(1, 0, 9)), { value: 1, length: 2 });
});

test("hostile lengths fail fast without allocating", () => {
  // Compact 2^30 - 1 elements (4-byte mode) followed by 3 bytes.
  const claim = encodeCompact(2 ** 30 - 1);
  const started = Date.now();
  for (const t of [T.bytes, T.str, T.vec(T.u8), T.vec(T.u128), T.vec(T.unit), T.vec(T.vec(T.unit))] as Type<any>[]) {
    assert.throws(() => decodeExact(t, Uint8Array.of(...claim, 1, 2, 3)), ScaleDecodeError);
  }
  // Compact length beyond u32 (big-integer mode, 8 bytes).
  assert.throws(() => decodeExact(T.vec(T.unit), Uint8Array.of(0x13, 255, 255, 255, 255, 255, 255, 255, 255)), ScaleDecodeError);
  assert.ok(Date.now() - started < 500);
  // Small Vec<()> still works.
  assert.deepEqual(decodeExact(T.vec(T.unit), Uint8Array.of(8)), [undefined, undefined]);
});

test("non-canonical encodings are rejected as Substrate rejects them", () => {
  assert.throws(() => decodeExact(T.bool, Uint8Array.of(2)), ScaleDecodeError);
  assert.throws(() => decodeExact(T.option(T.u8), Uint8Array.of(2, 1)), ScaleDecodeError);
  assert.throws(() => decodeExact(T.compact(T.u32), Uint8Array.of(0b01, 0)), ScaleDecodeError); // 0 in two-byte mode
  assert.throws(() => decodeExact(T.compact(T.u32), Uint8Array.of(0b10, 0, 0, 0)), ScaleDecodeError);
  assert.throws(() => decodeExact(T.compact(T.u32), Uint8Array.of(0b11, 1, 0, 0, 0)), ScaleDecodeError);
  assert.throws(() => decodeExact(T.compact(T.u32), Uint8Array.of(0b111, 0, 0, 0, 0x40, 0)), ScaleDecodeError); // 5 bytes for u32
  assert.throws(() => decodeExact(T.compact(T.u8), encodeCompact(256)), ScaleDecodeError);
  assert.throws(() => decodeExact(T.str, Uint8Array.of(4, 0xff, 0xfe)), ScaleDecodeError); // length 1, invalid UTF-8... and trailing
  assert.throws(() => decodeExact(T.str, Uint8Array.of(4, 0xff)), /UTF-8/);
  assert.equal(decodeExact(T.str, Uint8Array.of(12, 0xef, 0xbb, 0xbf)), "\ufeff"); // BOM kept
});

test("compact: matches polkadot-js for boundary values; number for u32, bigint for u64/u128", () => {
  const pjs = new PjsRegistry();
  const values = [0n, 1n, 63n, 64n, 16383n, 16384n, 2n ** 30n - 1n, 2n ** 30n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 64n - 1n, 2n ** 128n - 1n];
  for (const v of values) {
    const expected = pjs.createType("Compact<u128>", v).toU8a();
    assert.deepEqual(encode(T.compact(T.u128), v), expected, `compact ${v}`);
    assert.equal(decodeExact(T.compact(T.u128), expected), v);
    if (v < 2n ** 32n) assert.equal(decodeExact(T.compact(T.u32), expected), Number(v));
  }
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), (v) => {
    const bytes = encode(T.compact(T.u128), v);
    assert.deepEqual(bytes, pjs.createType("Compact<u128>", v).toU8a());
    assert.equal(decodeExact(T.compact(T.u128), bytes), v);
  }), { numRuns: 300 });
});

test("integers: range-checked encoding, two's complement signed", () => {
  assert.throws(() => encode(T.u8, 256), ScaleEncodeError);
  assert.throws(() => encode(T.u32, -1), ScaleEncodeError);
  assert.throws(() => encode(T.u64, 1 as never), ScaleEncodeError);
  assert.throws(() => encode(T.u128, 2n ** 128n), ScaleEncodeError);
  assert.equal(toHex(encode(T.i128, -2n)), "0x" + "fe" + "ff".repeat(15));
  assert.equal(decodeExact(T.i128, encode(T.i128, -(2n ** 127n))), -(2n ** 127n));
  assert.equal(decodeExact(T.i64, encode(T.i64, -5n)), -5n);
  assert.equal(toHex(encode(T.u256, 1n)), "0x01" + "00".repeat(31));
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), (v) => decodeExact(T.u128, encode(T.u128, v)) === v));
});

test("subarray views decode from their own offset (scale-ts reads .buffer from 0)", () => {
  const backing = Uint8Array.of(0xaa, 0xbb, 7, 0, 0, 0, 0xcc);
  assert.equal(decodeExact(T.u32, backing.subarray(2, 6)), 7);
  assert.equal(T.u32.codec.dec(backing.subarray(2, 6)), 7);
});

test("option, result, tuple, array, struct, newtype", () => {
  assert.deepEqual(encode(T.option(T.u8), undefined), Uint8Array.of(0));
  assert.deepEqual(encode(T.option(T.u8), 3), Uint8Array.of(1, 3));
  assert.equal(decodeExact(T.option(T.u8), Uint8Array.of(1, 3)), 3);
  const R = T.result(T.unit, T.u8);
  assert.deepEqual(encode(R, { tag: "Ok", value: undefined }), Uint8Array.of(0));
  assert.deepEqual(decodeExact(R, Uint8Array.of(1, 9)), { tag: "Err", value: 9 });
  assert.equal(T.option(T.u8), T.option(T.u8), "memoized");
  assert.equal(T.tuple(T.u8, T.u32), T.tuple(T.u8, T.u32), "memoized");
  assert.deepEqual(decodeExact(T.array(T.u16, 2), Uint8Array.of(1, 0, 2, 0)), [1, 2]);
  assert.throws(() => encode(T.fixedBytes(4), Uint8Array.of(1)), ScaleEncodeError);
  assert.throws(() => T.option(T.option(T.u8)), /ambiguous/);
  const S = T.struct(["S"], { a: T.u8, b: T.compact(T.u32) });
  assert.throws(() => encode(S, { a: 1 } as never), /S\.b/);
  const N = T.newtype(["N"], T.u32);
  assert.deepEqual(encode(N, 5), Uint8Array.of(5, 0, 0, 0));
  // Compact over a single-field composite (CompactAs, e.g. Perbill).
  const Perbill = T.newtype(["sp_arithmetic", "per_things", "Perbill"], T.u32);
  assert.deepEqual(encode(T.compact(Perbill), 64), Uint8Array.of(1, 1));
  assert.equal(decodeExact(T.compact(Perbill), Uint8Array.of(1, 1)), 64);
  assert.deepEqual(encode(T.compact(T.unit), undefined), new Uint8Array(0));
});

test("lazy recursion: decodes nested values and caps depth", () => {
  interface Node { tag: "Leaf"; value: number } // declared for the annotation only
  type Tree = Node | { tag: "Wrap"; value: Tree };
  const Tree: Type<Tree> = T.enumeration(["Tree"], {
    Leaf: { index: 0, fields: [T.u8] },
    Wrap: { index: 1, fields: [T.lazy((): Type<Tree> => Tree)] },
  });
  const v: Tree = { tag: "Wrap", value: { tag: "Wrap", value: { tag: "Leaf", value: 7 } } };
  assert.deepEqual(decodeExact(Tree, encode(Tree, v)), v);
  const deep = new Uint8Array(2 * LAZY_DECODE_DEPTH_MAX + 10).fill(1);
  deep[deep.length - 2] = 0;
  assert.throws(() => decodeExact(Tree, deep), /deeper than 256/);
  const veryDeep = new Uint8Array(1_000_000).fill(1);
  assert.throws(() => decodeExact(Tree, veryDeep), ScaleDecodeError);
});

test("fuzz: random bytes never throw anything but ScaleDecodeError", () => {
  const Sample = T.struct(["Sample"], {
    a: MultiAddress,
    b: T.vec(T.tuple(T.compact(T.u128), T.option(T.str))),
    c: T.vec(T.unit),
    d: AccountInfo,
  });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    try {
      const v = decodeExact(Sample, bytes);
      assert.deepEqual(encode(Sample, v), bytes);
    } catch (e) {
      assert.ok(e instanceof ScaleDecodeError, String(e));
    }
  }), { numRuns: 2000 });
});

test("nested encodings: every layer's bytes once, a fresh result, and errors that name the path to the bad field", () => {
  const Inner = T.struct(["x", "Inner"], { tag: T.fixedBytes(2), data: T.bytes, note: T.option(T.str) });
  const E = T.enumeration(["x", "E"], { Unit: { index: 4 }, Wrap: { index: 1, fields: { inner: Inner } }, Pair: { index: 2, fields: [T.u8, Inner] } });
  const Outer = T.struct(["x", "Outer"], { items: T.vec(E), last: T.array(T.u16, 2), pair: T.tuple(T.bool, T.compact(T.u32)) });
  const data = new Uint8Array(100).fill(7);
  const inner = { tag: Uint8Array.of(1, 2), data, note: "hi" };
  const value = { items: [{ tag: "Wrap", value: { inner } }, { tag: "Unit", value: undefined }, { tag: "Pair", value: [9, { ...inner, note: undefined }] }], last: [1, 2], pair: [true, 70] } as Infer<typeof Outer>;
  const innerBytes = (note: boolean) => [1, 2, 0x91, 0x01, ...data, ...(note ? [1, 8, 0x68, 0x69] : [0])];
  const expected = Uint8Array.of(12, 1, ...innerBytes(true), 4, 2, 9, ...innerBytes(false), 1, 0, 2, 0, 1, 0x19, 0x01);
  const bytes = Outer.codec.enc(value);
  assert.equal(toHex(bytes), toHex(expected));
  assert.deepEqual(decodeExact(Outer, bytes), value);
  // The result is never one of the caller's arrays, even where a layer holds one piece.
  const One = T.struct(["x", "One"], { data: T.fixedBytes(3) });
  const raw = Uint8Array.of(1, 2, 3);
  const out = One.codec.enc({ data: raw });
  out[0] = 9;
  assert.deepEqual(raw, Uint8Array.of(1, 2, 3));
  assert.notEqual(T.bytes.codec.enc(data), data);
  assert.notEqual(E.codec.enc({ tag: "Unit" }), E.codec.enc({ tag: "Unit" }));
  // An error deep inside names each layer on the way.
  const bad = { ...value, items: [{ tag: "Pair", value: [9, { ...inner, note: 5 }] }] } as never;
  assert.throws(() => Outer.codec.enc(bad), (e: unknown) => e instanceof ScaleEncodeError && /^x::Outer\.items: x::E::Pair: x::Inner\.note: cannot encode/.test(e.message));
});
