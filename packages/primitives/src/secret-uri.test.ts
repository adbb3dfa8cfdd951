import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "./bytes.ts";
import { DEV_PHRASE, junctionChainCode, parseSecretUri, SecretUriError } from "./secret-uri.ts";

test("a bare path applies to the dev phrase", () => {
  const uri = parseSecretUri("//Alice");
  assert.equal(uri.phrase, DEV_PHRASE);
  assert.equal(uri.password, undefined);
  assert.equal(uri.junctions.length, 1);
  assert.equal(uri.junctions[0].hard, true);
  // SCALE("Alice") = compact(5) ++ "Alice", zero padded.
  assert.equal(toHex(uri.junctions[0].chainCode), "0x14416c696365" + "00".repeat(26));
});

test("phrase, soft and hard junctions and password", () => {
  const uri = parseSecretUri(`${DEV_PHRASE}/foo//1///secret pw`);
  assert.equal(uri.phrase, DEV_PHRASE);
  assert.deepEqual(uri.junctions.map((j) => j.hard), [false, true]);
  assert.equal(toHex(uri.junctions[1].chainCode), "0x01" + "00".repeat(31), "numeric junctions are u64 LE");
  assert.equal(uri.password, "secret pw");
});

test("junction chain codes follow DeriveJunction", () => {
  assert.equal(toHex(junctionChainCode("18446744073709551615")), "0x" + "ff".repeat(8) + "00".repeat(24));
  // u64 overflow falls back to a string.
  assert.equal(toHex(junctionChainCode("18446744073709551616").subarray(0, 1)), "0x50");
  // Longer than 32 bytes once encoded: hashed.
  const long = junctionChainCode("a".repeat(40));
  assert.equal(long.length, 32);
  assert.notEqual(long[31], 0);
});

test("malformed URIs are rejected without echoing the secret", () => {
  for (const bad of ["phrase!", "word//", "a/b//"]) {
    assert.throws(
      () => parseSecretUri(bad),
      (e: unknown) => e instanceof SecretUriError && e.code === "INVALID_SECRET_URI" && !e.message.includes(bad),
    );
  }
});
