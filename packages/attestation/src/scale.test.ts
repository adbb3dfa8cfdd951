import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AttestationError } from "./errors.ts";
import { bool, bytes, compactU32, decode, encode, option, str, struct, taggedUnion, u16, u32, vec } from "./scale.ts";

const SEED = 20260101;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

test("compact integers encode as Substrate does (golden vectors from parity-scale-codec)", () => {
  const vectors: [number, string][] = [
    [0, "00"],
    [1, "04"],
    [63, "fc"],
    [64, "0101"],
    [16383, "fdff"],
    [16384, "02000100"],
    [1073741823, "feffffff"],
    [1073741824, "0300000040"],
    [4294967295, "03ffffffff"],
  ];
  for (const [n, h] of vectors) {
    assert.equal(hex(encode(compactU32, n)), h, `encode ${n}`);
    assert.equal(decode(compactU32, unhex(h), "compact"), n, `decode ${h}`);
  }
});

test("non-canonical compact integers, bools other than 0/1 and bad option tags are refused", () => {
  for (const h of ["0100", "fd00", "02000000", "0300000000", "07000000000000", "0bffffffffffffffff"]) {
    assert.throws(() => decode(compactU32, unhex(h), "compact"), (e: unknown) => e instanceof AttestationError && e.code === "MALFORMED", h);
  }
  assert.throws(() => decode(bool, Uint8Array.of(2), "bool"), AttestationError);
  assert.throws(() => decode(option(u16), Uint8Array.of(2, 0, 0), "option"), AttestationError);
});

test("decode consumes the input exactly", () => {
  assert.deepEqual(decode(u32, unhex("01000000"), "u32"), 1);
  assert.throws(() => decode(u32, unhex("0100000000"), "u32"), /trailing/);
  assert.throws(() => decode(u32, unhex("010000"), "u32"), /needs 4 more bytes|needs/);
});

test("lengths are checked against their bound before anything is read", () => {
  const c = bytes(10, "blob");
  assert.throws(() => decode(c, unhex("2c" + "00".repeat(11)), "blob"), /limit of 10/);
  // A vector claiming 2^30 entries must fail at once, not loop.
  const v = vec(bytes(0, "x"), 5, "list");
  assert.throws(() => decode(v, unhex("03ffffffff"), "list"), /limit of 5/);
  assert.throws(() => encode(c, new Uint8Array(11)), /limit of 10/);
});

test("strings must be UTF-8", () => {
  assert.equal(decode(str(8, "s"), unhex("0c616263"), "s"), "abc");
  assert.throws(() => decode(str(8, "s"), unhex("04ff"), "s"), /UTF-8/);
});

const Demo = taggedUnion(
  "kind",
  {
    a: [0, struct({ x: bytes(100, "x"), flag: bool })],
    b: [3, struct({ n: u16, s: option(str(20, "s")) })],
  },
  "demo",
);

test("tagged unions round-trip and use their declared indices", () => {
  const b = encode(Demo, { kind: "b", n: 258, s: "hi" });
  assert.equal(hex(b), "03020101086869");
  assert.deepEqual(decode(Demo, b, "demo"), { kind: "b", n: 258, s: "hi" });
  assert.throws(() => decode(Demo, Uint8Array.of(1), "demo"), /unknown demo index 1/);
});

test("property: every value round-trips, and random bytes decode or fail with AttestationError only", () => {
  const value = fc.oneof(
    fc.record({ kind: fc.constant("a" as const), x: fc.uint8Array({ maxLength: 100 }), flag: fc.boolean() }),
    fc.record({ kind: fc.constant("b" as const), n: fc.integer({ min: 0, max: 65535 }), s: fc.option(fc.string({ maxLength: 5 }), { nil: null }) }),
  );
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(decode(Demo, encode(Demo, v), "demo"), { ...v }); // fast-check records have a null prototype
    }),
    { seed: SEED, numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        const v = decode(Demo, b, "demo");
        assert.deepEqual(encode(Demo, v), b, "whatever decodes is canonical");
      } catch (e) {
        assert.ok(e instanceof AttestationError, String(e));
      }
    }),
    { seed: SEED, numRuns: 2000 },
  );
});
