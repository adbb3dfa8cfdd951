import { test } from "node:test";
import assert from "node:assert/strict";
import { concatBytes, fromHex, toHex, utf8 } from "./bytes.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { KDF_INFO_BYTES_MAX, KdfError, deriveSecret, encryptionKeyFromSecret, hkdfSha256, kdfInfo, signingKeyFromSecret } from "./kdf.ts";
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
  const a = deriveSecret(master, "cluster_key", [new Uint8Array([1])]);
  assert.deepEqual(a, deriveSecret(master, "cluster_key", [new Uint8Array([1])]));
  assert.notDeepEqual(a, deriveSecret(master, "cluster_key", [new Uint8Array([2])]));
  assert.equal(a.length, 32);
  assert.throws(() => deriveSecret(new Uint8Array(31), "x"), (e: unknown) => e instanceof KdfError && e.code === "INVALID_SECRET");
  assert.throws(() => hkdfSha256(master, utf8("x"), 0), KdfError);
});

test("a secret gives an ed25519 key (seed = secret) and an unrelated x25519 key", () => {
  const secret = new Uint8Array(32).fill(9);
  const signing = signingKeyFromSecret(secret);
  const msg = utf8("hello");
  assert.ok(verifyEd25519(signing.publicKey, msg, signing.sign(msg)));
  const enc = encryptionKeyFromSecret(secret);
  assert.deepEqual(enc.privateKey, deriveSecret(secret, "x25519"));
  assert.deepEqual(enc.publicKey, x25519PublicKey(enc.privateKey));
  assert.notDeepEqual(enc.publicKey, signing.publicKey);
});

test("the HKDF info frames the label and every field with its u32le length", () => {
  assert.equal(toHex(kdfInfo("ab", [new Uint8Array([7]), new Uint8Array(0)])), "0x020000006162" + "0100000007" + "00000000");
  assert.equal(toHex(kdfInfo("x25519")), "0x06000000783235353139");
  const master = new Uint8Array(32).fill(7);
  assert.deepEqual(deriveSecret(master, "ab", [new Uint8Array([7])]), hkdfSha256(master, fromHex("0x0200000061620100000007")));
  assert.throws(
    () => kdfInfo("big", [new Uint8Array(KDF_INFO_BYTES_MAX)]),
    (e: unknown) => e instanceof KdfError && e.code === "INFO_TOO_LONG",
  );
});

test("inputs that collided when label and fields were concatenated now derive different secrets", () => {
  const master = new Uint8Array(32).fill(7);
  const id = new Uint8Array(32).fill(3);
  const worker = new Uint8Array(32).fill(4);
  // A prefix label with a field that starts with the rest of the longer label: "cluster_key" ++ ("_share" ++ id ++ worker)
  // spelled exactly the info of "cluster_key_share" ++ id ++ worker.
  const asClusterKey = ["cluster_key", [concatBytes(utf8("_share"), id, worker)]] as const;
  const asShare = ["cluster_key_share", [id, worker]] as const;
  assert.deepEqual(concatBytes(utf8(asClusterKey[0]), ...asClusterKey[1]), concatBytes(utf8(asShare[0]), ...asShare[1]), "the old info collided");
  assert.notDeepEqual(kdfInfo(...asClusterKey), kdfInfo(...asShare));
  assert.notDeepEqual(deriveSecret(master, ...asClusterKey), deriveSecret(master, ...asShare));
  // The same bytes split differently between fields: (id ++ worker[0]) | worker[1..] against id | worker.
  const shifted = [concatBytes(id, worker.subarray(0, 1)), worker.subarray(1)];
  assert.notDeepEqual(deriveSecret(master, "cluster_key_share_nonce", shifted), deriveSecret(master, "cluster_key_share_nonce", [id, worker]));
  // A label against the same label with one empty field.
  assert.notDeepEqual(deriveSecret(master, "contract_key"), deriveSecret(master, "contract_key", [new Uint8Array(0)]));
});
