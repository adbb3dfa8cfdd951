import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "./bytes.ts";
import { EnvelopeError, EnvelopeKeyCache, aesGcmDecrypt, aesGcmEncrypt, openEnvelope, openWithKey, sealEnvelope, sealWithKey } from "./envelope.ts";
import { X25519Error } from "./x25519.ts";
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

test("kept envelope keys seal and open the same envelopes as one-off ones, in both directions", () => {
  const client = x25519KeyPair(new Uint8Array(32).fill(7));
  const clientKeys = new EnvelopeKeyCache(8);
  const workerKeys = new EnvelopeKeyCache(8);
  // Client to worker with a kept key; the worker opens it either way.
  const toWorker = sealWithKey(clientKeys.key(client, recipient.publicKey, label, "to"), client.publicKey, aad, utf8("ask"));
  assert.deepEqual(openEnvelope({ recipientPrivateKey: recipient.privateKey, label, associatedData: aad, envelope: toWorker }), utf8("ask"));
  assert.deepEqual(openWithKey(workerKeys.key(recipient, client.publicKey, label, "from"), aad, toWorker), utf8("ask"));
  // Worker to client, sealed one-off, opened with the kept key.
  const back = sealEnvelope({ recipientPublicKey: client.publicKey, label, associatedData: aad, plaintext: utf8("answer"), senderPrivateKey: recipient.privateKey });
  assert.deepEqual(openWithKey(clientKeys.key(client, recipient.publicKey, label, "from"), aad, back), utf8("answer"));
  // Direction and label are part of the key: the "to" key does not open what comes back.
  assert.throws(() => openWithKey(clientKeys.key(client, recipient.publicKey, label, "to"), aad, back), isDecryptFailed);
  assert.throws(() => openWithKey(clientKeys.key(client, recipient.publicKey, utf8("other"), "from"), aad, back), isDecryptFailed);
  // The same pair, label and direction give the cache's one key.
  assert.equal(clientKeys.key(client, recipient.publicKey, label, "to"), clientKeys.key(client, recipient.publicKey, label, "to"));
});

test("an envelope key cache is bounded, and wipes the keys it evicts or clears", () => {
  const cache = new EnvelopeKeyCache(2);
  const me = x25519KeyPair(new Uint8Array(32).fill(9));
  const peers = [11, 12, 13].map((b) => x25519KeyPair(new Uint8Array(32).fill(b)).publicKey);
  const first = cache.key(me, peers[0], label, "to");
  const second = cache.key(me, peers[1], label, "to");
  assert.equal(cache.key(me, peers[0], label, "to"), first); // now most recently used
  cache.key(me, peers[2], label, "to");
  assert.equal(cache.size, 2);
  assert.deepEqual(second, new Uint8Array(32), "the least recently used key is wiped on eviction");
  assert.notDeepEqual(first, new Uint8Array(32));
  cache.clear();
  assert.equal(cache.size, 0);
  assert.deepEqual(first, new Uint8Array(32));
  assert.throws(() => cache.key(me, new Uint8Array(31), label, "to"), (e: unknown) => e instanceof EnvelopeError && e.code === "INVALID_ARGUMENT");
  assert.throws(() => cache.key(me, new Uint8Array(32), label, "to"), X25519Error, "a small-order peer key is refused");
  assert.equal(cache.size, 0);
  assert.throws(() => new EnvelopeKeyCache(0), EnvelopeError);
  assert.throws(() => new EnvelopeKeyCache(1), EnvelopeError, "one key each way needs two");
});

test("forgetting an own key wipes its keys to every peer and keeps the others", () => {
  const cache = new EnvelopeKeyCache(8);
  const [a, b] = [21, 22].map((x) => x25519KeyPair(new Uint8Array(32).fill(x)));
  const peer = x25519KeyPair(new Uint8Array(32).fill(23)).publicKey;
  const aTo = cache.key(a, peer, label, "to");
  const aFrom = cache.key(a, peer, label, "from");
  const bTo = cache.key(b, peer, label, "to");
  cache.forget(a.publicKey);
  assert.equal(cache.size, 1);
  assert.deepEqual(aTo, new Uint8Array(32));
  assert.deepEqual(aFrom, new Uint8Array(32));
  assert.notDeepEqual(bTo, new Uint8Array(32));
  // Asked again, the key is derived afresh and is the same key as before.
  const again = cache.key(a, peer, label, "to");
  assert.deepEqual(openWithKey(again, aad, sealWithKey(new EnvelopeKeyCache(2).key(a, peer, label, "to"), a.publicKey, aad, utf8("x"))), utf8("x"));
});
