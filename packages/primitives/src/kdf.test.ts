import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex, utf8 } from "./bytes.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { KdfError, deriveSecret, encryptionKeyFromSecret, hkdfSha256, signingKeyFromSecret } from "./kdf.ts";
import { x25519PublicKey } from "./x25519.ts";

test("RFC 5869 test case 3 (empty salt and info)", () => {
  const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), 42);
  assert.equal(toHex(okm), "0x8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
});

test("RFC 5869 test case 1 (with salt)", () => {
  const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), fromHex("f0f1f2f3f4f5f6f7f8f9"), 42, fromHex("000102030405060708090a0b0c"));
  assert.equal(toHex(okm), "0x3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
});

test("derivation is deterministic and separated by label", () => {
  const master = new Uint8Array(32).fill(7);
  const a = deriveSecret(master, utf8("cluster_key\x01"));
  assert.deepEqual(a, deriveSecret(master, utf8("cluster_key\x01")));
  assert.notDeepEqual(a, deriveSecret(master, utf8("cluster_key\x02")));
  assert.equal(a.length, 32);
  assert.throws(() => deriveSecret(new Uint8Array(31), utf8("x")), (e: unknown) => e instanceof KdfError && e.code === "INVALID_SECRET");
  assert.throws(() => hkdfSha256(master, utf8("x"), 0), KdfError);
});

test("a secret gives an ed25519 key (seed = secret) and an unrelated x25519 key", () => {
  const secret = new Uint8Array(32).fill(9);
  const signing = signingKeyFromSecret(secret);
  const msg = utf8("hello");
  assert.ok(verifyEd25519(signing.publicKey, msg, signing.sign(msg)));
  const enc = encryptionKeyFromSecret(secret);
  assert.deepEqual(enc.privateKey, deriveSecret(secret, utf8("x25519")));
  assert.deepEqual(enc.publicKey, x25519PublicKey(enc.privateKey));
  assert.notDeepEqual(enc.publicKey, signing.publicKey);
});
