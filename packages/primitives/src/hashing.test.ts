import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, twox128, twox64 } from "./hashing.ts";
import { toHex, utf8 } from "./bytes.ts";

test("twox128 matches Substrate's pallet prefixes", () => {
  assert.equal(toHex(twox128(utf8("System"))), "0x26aa394eea5630e07c48ae0c9558cef7");
  assert.equal(toHex(twox128(utf8("Account"))), "0xb99d880ec681799c0cf30e8886371da9");
  assert.equal(toHex(twox128(utf8("Balances"))), "0xc2261276cc9d1f8598ea4b6a74b15c2f");
});

test("blake2b-256 of the empty trie node is Substrate's empty root", () => {
  assert.equal(toHex(blake2b256(new Uint8Array([0]))), "0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314");
});

test("twox64 is the first half of twox128", () => {
  const d = utf8("Timestamp");
  assert.deepEqual(twox64(d), twox128(d).slice(0, 8));
});
