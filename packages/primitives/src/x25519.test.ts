import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "./bytes.ts";
import { X25519Error, x25519KeyPair, x25519PublicKey, x25519SharedSecret } from "./x25519.ts";

// RFC 7748 §6.1.
const ALICE = fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const ALICE_PUB = "0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB = fromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const BOB_PUB = "0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED = "0x4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

test("RFC 7748 key agreement vector", () => {
  assert.equal(toHex(x25519PublicKey(ALICE)), ALICE_PUB);
  assert.equal(toHex(x25519PublicKey(BOB)), BOB_PUB);
  assert.equal(toHex(x25519SharedSecret(ALICE, fromHex(BOB_PUB))), SHARED);
  assert.equal(toHex(x25519SharedSecret(BOB, fromHex(ALICE_PUB))), SHARED);
  assert.equal(toHex(x25519KeyPair(ALICE).publicKey), ALICE_PUB);
});

test("small-order peer keys and wrong lengths are refused", () => {
  assert.throws(() => x25519SharedSecret(ALICE, new Uint8Array(32)), (e: unknown) => e instanceof X25519Error && e.code === "WEAK_PUBLIC_KEY");
  assert.throws(() => x25519SharedSecret(ALICE, new Uint8Array(31)), (e: unknown) => e instanceof X25519Error && e.code === "INVALID_KEY");
  assert.throws(() => x25519PublicKey(new Uint8Array(33)), (e: unknown) => e instanceof X25519Error && e.code === "INVALID_KEY");
});
