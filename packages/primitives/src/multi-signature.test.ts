import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { concatBytes, utf8 } from "./bytes.ts";
import { blake2b256 } from "./hashing.ts";
import { devAccount } from "./dev-accounts.ts";
import { keyPairFromSeed, KEY_TYPES, type KeyType } from "./keys.ts";
import { signingPayload, verifyMultiSignature } from "./multi-signature.ts";

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((s) => secp256k1.utils.isValidSecretKey(s));
const message = fc.uint8Array({ maxLength: 300 });
const keyType = fc.constantFrom<KeyType>(...KEY_TYPES);

/** ecdsa recovery ids v and v+27 are the same id to Substrate, so that one tamper is not a forgery. */
function sameRecoveryId(type: KeyType, index: number, a: number, b: number): boolean {
  if (type !== "ecdsa" || index !== 64) return false;
  const norm = (v: number) => (v > 26 ? v - 27 : v);
  return norm(a) === norm(b);
}

test("sign then verify round-trips for every scheme", () => {
  fc.assert(
    fc.property(keyType, seed, message, (type, s, msg) => {
      const pair = keyPairFromSeed(s, type);
      assert.ok(verifyMultiSignature({ type, signature: pair.sign(msg) }, msg, pair.accountId));
    }),
    { numRuns: 150 },
  );
});

test("tampering any byte of the signature, message or signer makes verification fail", () => {
  fc.assert(
    fc.property(keyType, seed, message, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom("signature", "message", "signer"), (type, s, msg, at, xor, what) => {
      const pair = keyPairFromSeed(s, type);
      let signature = pair.sign(msg);
      let m = msg;
      let signer = pair.accountId;
      if (what === "signature") {
        const i = at % signature.length;
        fc.pre(!sameRecoveryId(type, i, signature[i], signature[i] ^ xor));
        signature = signature.slice();
        signature[i] ^= xor;
      } else if (what === "message") {
        fc.pre(msg.length > 0);
        m = msg.slice();
        m[at % m.length] ^= xor;
      } else {
        signer = signer.slice();
        signer[at % 32] ^= xor;
      }
      assert.equal(verifyMultiSignature({ type, signature }, m, signer), false);
    }),
    { numRuns: 300 },
  );
});

test("a signature for one scheme does not verify as another", () => {
  const msg = utf8("cross");
  for (const type of KEY_TYPES) {
    const pair = devAccount("Alice", type);
    const signature = pair.sign(msg);
    for (const other of KEY_TYPES) {
      if (other !== type) assert.equal(verifyMultiSignature({ type: other, signature }, msg, pair.accountId), false, `${type} as ${other}`);
    }
  }
});

test("malformed input returns false and never throws", () => {
  fc.assert(
    fc.property(keyType, fc.uint8Array({ maxLength: 70 }), message, fc.uint8Array({ minLength: 30, maxLength: 34 }), (type, signature, msg, signer) => {
      assert.equal(verifyMultiSignature({ type, signature }, msg, signer), false);
    }),
    { numRuns: 500 },
  );
  const alice = devAccount("Alice").accountId;
  assert.equal(verifyMultiSignature({ type: "sr25519", signature: new Uint8Array(64).fill(0xff) }, utf8("x"), alice), false);
  assert.equal(verifyMultiSignature({ type: "ed25519", signature: new Uint8Array(64).fill(0xff) }, utf8("x"), new Uint8Array(32).fill(0xff)), false);
  assert.equal(verifyMultiSignature({ type: "ecdsa", signature: new Uint8Array(65).fill(0xff) }, utf8("x"), alice), false);
  assert.equal(verifyMultiSignature({ type: "ecdsa", signature: new Uint8Array(65) }, utf8("x"), alice), false);
  assert.equal(verifyMultiSignature({ type: "bogus" as KeyType, signature: new Uint8Array(64) }, utf8("x"), alice), false);
});

test("ecdsa accepts Ethereum-style recovery ids and high-s twins, as Substrate's recovery does", () => {
  const pair = devAccount("Alice", "ecdsa");
  const msg = utf8("eth style");
  const signature = pair.sign(msg);
  const eth = signature.slice();
  eth[64] += 27;
  assert.ok(verifyMultiSignature({ type: "ecdsa", signature: eth }, msg, pair.accountId));
  const bad = signature.slice();
  bad[64] = 4;
  assert.equal(verifyMultiSignature({ type: "ecdsa", signature: bad }, msg, pair.accountId), false);
  // (r, n - s) with the flipped parity recovers the same key.
  const n = secp256k1.Point.CURVE().n;
  const s = BigInt("0x" + Buffer.from(signature.subarray(32, 64)).toString("hex"));
  const highS = Uint8Array.from(Buffer.from((n - s).toString(16).padStart(64, "0"), "hex"));
  const twin = concatBytes(signature.subarray(0, 32), highS, Uint8Array.of(signature[64] ^ 1));
  assert.ok(verifyMultiSignature({ type: "ecdsa", signature: twin }, msg, pair.accountId));
});

test("signingPayload hashes payloads over 256 bytes only", () => {
  const short = new Uint8Array(256).fill(1);
  const long = new Uint8Array(257).fill(1);
  assert.equal(signingPayload(short), short);
  assert.deepEqual(signingPayload(long), blake2b256(long));
});
