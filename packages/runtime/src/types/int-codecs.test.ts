import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { T } from "./index.ts";

const SEED = 20261123;

function reference(bits: number, v: bigint): Uint8Array {
  const out = new Uint8Array(bits / 8);
  let x = v < 0n ? v + (1n << BigInt(bits)) : v;
  for (let i = 0; i < out.length; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

test("fixed-width integers encode little-endian two's complement and round-trip", () => {
  const small = [
    ["u8", 8, false],
    ["u16", 16, false],
    ["u32", 32, false],
    ["i8", 8, true],
    ["i16", 16, true],
    ["i32", 32, true],
  ] as const;
  for (const [name, bits, signed] of small) {
    const min = signed ? -(2 ** (bits - 1)) : 0;
    const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    fc.assert(
      fc.property(fc.integer({ min, max }), (v) => {
        const enc = (T as any)[name].codec.enc(v) as Uint8Array;
        assert.deepEqual(enc, reference(bits, BigInt(v)));
        assert.equal((T as any)[name].codec.dec(enc), v);
      }),
      { seed: SEED, numRuns: 500 },
    );
    assert.throws(() => (T as any)[name].codec.enc(max + 1));
  }
  for (const [name, bits] of [["u64", 64], ["u128", 128], ["u256", 256]] as const) {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }), (v) => {
        const enc = (T as any)[name].codec.enc(v) as Uint8Array;
        assert.deepEqual(enc, reference(bits, v));
        assert.equal((T as any)[name].codec.dec(enc), v);
      }),
      { seed: SEED, numRuns: 500 },
    );
  }
});
