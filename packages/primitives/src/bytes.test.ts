import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromHex, HexError, toHex, toHexPortable, u32le, u64le, writeU32le } from "./bytes.ts";

test("hex round-trips any bytes and agrees with Buffer's encoding, with and without Buffer, for views too", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (whole, skip) => {
      const bytes = whole.subarray(Math.min(skip, whole.length));
      const hex = toHex(bytes);
      assert.equal(hex, `0x${Buffer.from(bytes).toString("hex")}`);
      assert.equal(toHexPortable(bytes), hex);
      assert.deepEqual(fromHex(hex), bytes);
      assert.deepEqual(fromHex(hex.toUpperCase().replace("0X", "0x")), bytes);
      assert.deepEqual(fromHex(hex.slice(2)), bytes);
    }),
  );
});

test("fromHex refuses odd lengths and every character that is not a hex digit", () => {
  assert.throws(() => fromHex("0xabc"), (e: unknown) => e instanceof HexError && /odd length 3/.test(e.message));
  for (const bad of ["0xzz", "0x0g", "0x 1", "0x-1", "0x+1", "0x１２", "0xéé", "0x\u0000a", "0x0x"]) {
    assert.throws(() => fromHex(bad), HexError, bad);
  }
  // Every code unit outside [0-9a-fA-F] in either position of a byte.
  for (let c = 0; c < 0x3000; c++) {
    const ch = String.fromCharCode(c);
    if (/[0-9a-fA-F]/.test(ch)) continue;
    assert.throws(() => fromHex(`0x0${ch}`), HexError);
    assert.throws(() => fromHex(`0x${ch}0`), HexError);
  }
  assert.throws(() => fromHex(42 as unknown as string), HexError);
});

test("little-endian integers give DataView's bytes, wrapping as it does", () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer()), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (n, b) => {
      const want32 = new Uint8Array(4);
      new DataView(want32.buffer).setUint32(0, n, true);
      assert.deepEqual(u32le(n), want32);
      const into = new Uint8Array(7).fill(9);
      writeU32le(into, 2, n);
      assert.deepEqual(into, Uint8Array.of(9, 9, ...want32, 9));
      const want64 = new Uint8Array(8);
      new DataView(want64.buffer).setBigUint64(0, BigInt.asUintN(64, b), true);
      assert.deepEqual(u64le(b), want64);
    }),
  );
});
