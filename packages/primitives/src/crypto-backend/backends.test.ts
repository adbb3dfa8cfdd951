/**
 * The Node (OpenSSL) and portable (@noble, for browsers) backends must agree bit for bit:
 * a browser seals what a worker opens, and a worker signs what a browser verifies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { backend as nodeBackend } from "./node.ts";
import { backend as portableBackend } from "./portable.ts";
import type { CryptoBackend } from "./types.ts";

const BACKENDS: [CryptoBackend, CryptoBackend][] = [
  [nodeBackend, portableBackend],
  [portableBackend, nodeBackend],
];
const id = (key: Uint8Array) => Buffer.from(key).toString("hex");
const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const RUNS = 64;

test("ed25519: same public keys and signatures; each verifies the other's and refuses tampering", () => {
  fc.assert(
    fc.property(bytes(32), fc.uint8Array({ maxLength: 300 }), fc.nat(511), (seed, message, flip) => {
      const pub = nodeBackend.ed25519PublicKey(seed);
      assert.deepEqual(portableBackend.ed25519PublicKey(seed), pub);
      const sig = nodeBackend.ed25519Signer(seed)(message);
      assert.deepEqual(portableBackend.ed25519Signer(seed)(message), sig);
      for (const [, verifier] of BACKENDS) {
        assert.ok(verifier.ed25519Verify(pub, message, sig));
        const bad = sig.slice();
        bad[flip % 64] ^= 1 << (flip % 8);
        assert.equal(verifier.ed25519Verify(pub, message, bad), false);
      }
    }),
    { numRuns: RUNS },
  );
});

test("ed25519: a key that is no curve point verifies nothing, in both backends", () => {
  // y = 2 has no x on edwards25519.
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  for (const b of [nodeBackend, portableBackend]) assert.equal(b.ed25519Verify(notAPoint, new Uint8Array(1), new Uint8Array(64)), false);
});

test("x25519: same public keys and shared secrets", () => {
  fc.assert(
    fc.property(bytes(32), bytes(32), (a, b) => {
      const pubA = nodeBackend.x25519PublicKey(a, id(a));
      assert.deepEqual(portableBackend.x25519PublicKey(a, id(a)), pubA);
      const pubB = portableBackend.x25519PublicKey(b, id(b));
      assert.deepEqual(nodeBackend.x25519SharedSecret(a, id(a), pubB), portableBackend.x25519SharedSecret(b, id(b), pubA));
    }),
    { numRuns: RUNS },
  );
  for (const b of [nodeBackend, portableBackend]) {
    const pair = b.x25519Generate(id);
    assert.deepEqual(nodeBackend.x25519PublicKey(pair.privateKey, id(pair.privateKey)), pair.publicKey);
  }
});

test("x25519: both refuse a small-order peer key", () => {
  const priv = new Uint8Array(32).fill(7);
  // 0 and 1 are points of small order; agreeing with them gives the all-zero secret.
  for (const small of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
    for (const b of [nodeBackend, portableBackend]) assert.equal(b.x25519SharedSecret(priv, id(priv), small), "WEAK_PUBLIC_KEY");
  }
});

test("AES-256-GCM: same ciphertext; each opens the other's and refuses tampering", () => {
  fc.assert(
    fc.property(bytes(32), bytes(12), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), fc.nat(), (key, nonce, aad, plaintext, at) => {
      const sealed = nodeBackend.aesGcmEncrypt(key, nonce, aad, plaintext);
      assert.deepEqual(portableBackend.aesGcmEncrypt(key, nonce, aad, plaintext), sealed);
      for (const [, opener] of BACKENDS) {
        assert.deepEqual(opener.aesGcmDecrypt(key, nonce, aad, sealed), plaintext);
        const bad = sealed.slice();
        bad[at % bad.length] ^= 0x80;
        assert.equal(opener.aesGcmDecrypt(key, nonce, aad, bad), undefined);
      }
    }),
    { numRuns: RUNS },
  );
});

test("HKDF-SHA256 and PBKDF2-SHA512 agree", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 255 * 32 }), (ikm, salt, info, length) => {
      assert.deepEqual(portableBackend.hkdfSha256(ikm, salt, info, length), nodeBackend.hkdfSha256(ikm, salt, info, length));
    }),
    { numRuns: RUNS },
  );
  const password = new TextEncoder().encode("entropy");
  const salt = new TextEncoder().encode("mnemonic");
  assert.deepEqual(portableBackend.pbkdf2Sha512(password, salt, 2048, 64), nodeBackend.pbkdf2Sha512(password, salt, 2048, 64));
});

test("random bytes are as long as asked and not constant", () => {
  for (const b of [nodeBackend, portableBackend]) {
    const big = b.randomBytes(100_000);
    assert.equal(big.length, 100_000);
    assert.notDeepEqual(big.subarray(90_000), new Uint8Array(10_000));
    assert.notDeepEqual(b.randomBytes(32), b.randomBytes(32));
    // Small draws (served from a pool in Node) across several refills: never the same twice.
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(Buffer.from(b.randomBytes(12)).toString("hex"));
    assert.equal(seen.size, 2000);
    assert.equal(b.randomBytes(0).length, 0);
  }
});
