import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "./bytes.ts";
import { ED25519_KEY_CACHE_SIZE_MAX, ed25519DeriveHard, ed25519PublicKeyFromSeed, ed25519Sign, verifyEd25519 } from "./ed25519.ts";

// RFC 8032 §7.1, TEST 2.
const SEED = fromHex("0x4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
const PUBLIC = "0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const SIGNATURE =
  "0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

test("RFC 8032 test vector", () => {
  assert.equal(toHex(ed25519PublicKeyFromSeed(SEED)), PUBLIC);
  assert.equal(toHex(ed25519Sign(SEED, fromHex("0x72"))), SIGNATURE);
  assert.ok(verifyEd25519(fromHex(PUBLIC), fromHex("0x72"), fromHex(SIGNATURE)));
  assert.equal(verifyEd25519(fromHex(PUBLIC), fromHex("0x73"), fromHex(SIGNATURE)), false);
});

test("verifyEd25519 returns false for wrong lengths", () => {
  assert.equal(verifyEd25519(fromHex(PUBLIC).subarray(1), fromHex("0x72"), fromHex(SIGNATURE)), false);
  assert.equal(verifyEd25519(fromHex(PUBLIC), fromHex("0x72"), fromHex(SIGNATURE).subarray(1)), false);
});

test("hard derivation rejects wrong-size chain codes", () => {
  assert.throws(() => ed25519DeriveHard(SEED, new Uint8Array(31)), RangeError);
});

test("verification stays correct past the public-key cache limit", () => {
  const message = fromHex("0x01");
  for (let i = 0; i < ED25519_KEY_CACHE_SIZE_MAX + 8; i++) {
    const seed = new Uint8Array(32);
    new DataView(seed.buffer).setUint32(0, i);
    const pub = ed25519PublicKeyFromSeed(seed);
    assert.ok(verifyEd25519(pub, message, ed25519Sign(seed, message)));
  }
  assert.ok(verifyEd25519(fromHex(PUBLIC), fromHex("0x72"), fromHex(SIGNATURE)));
});
