import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "./bytes.ts";
import { EnvelopeError, aesGcmDecrypt, aesGcmEncrypt, openEnvelope, sealEnvelope } from "./envelope.ts";
import { x25519KeyPair } from "./x25519.ts";

const recipient = x25519KeyPair(new Uint8Array(32).fill(3));
const label = utf8("phala/test/v1");
const aad = utf8("contract-1");
const isDecryptFailed = (e: unknown) => e instanceof EnvelopeError && e.code === "DECRYPT_FAILED";

test("an envelope opens only for its recipient, label and associated data", () => {
  const env = sealEnvelope({ recipientPublicKey: recipient.publicKey, label, associatedData: aad, plaintext: utf8("secret") });
  assert.deepEqual(openEnvelope({ recipientPrivateKey: recipient.privateKey, label, associatedData: aad, envelope: env }), utf8("secret"));
  const other = x25519KeyPair(new Uint8Array(32).fill(4));
  assert.throws(() => openEnvelope({ recipientPrivateKey: other.privateKey, label, associatedData: aad, envelope: env }), isDecryptFailed);
  assert.throws(() => openEnvelope({ recipientPrivateKey: recipient.privateKey, label: utf8("x"), associatedData: aad, envelope: env }), isDecryptFailed);
  assert.throws(() => openEnvelope({ recipientPrivateKey: recipient.privateKey, label, associatedData: utf8("contract-2"), envelope: env }), isDecryptFailed);
  const flipped = env.ciphertext.slice();
  flipped[0] ^= 1;
  assert.throws(() => openEnvelope({ recipientPrivateKey: recipient.privateKey, label, associatedData: aad, envelope: { ...env, ciphertext: flipped } }), isDecryptFailed);
  assert.throws(() => openEnvelope({ recipientPrivateKey: recipient.privateKey, label, associatedData: aad, envelope: { ...env, ciphertext: env.ciphertext.subarray(0, 10) } }), isDecryptFailed);
});

test("a derived sender key and nonce give identical bytes every time", () => {
  const params = { recipientPublicKey: recipient.publicKey, label, associatedData: aad, plaintext: utf8("same"), senderPrivateKey: new Uint8Array(32).fill(5), nonce: new Uint8Array(12).fill(6) };
  assert.deepEqual(sealEnvelope(params), sealEnvelope(params));
});

test("raw AES-GCM round-trips and rejects bad lengths", () => {
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12);
  const ct = aesGcmEncrypt(key, nonce, aad, utf8("x"));
  assert.equal(ct.length, 17);
  assert.deepEqual(aesGcmDecrypt(key, nonce, aad, ct), utf8("x"));
  assert.throws(() => aesGcmEncrypt(new Uint8Array(16), nonce, aad, utf8("x")), EnvelopeError);
});
