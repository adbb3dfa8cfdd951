import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { entropyToMnemonic } from "@scure/bip39";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { mnemonicToMiniSecret as oracleMiniSecret } from "@polkadot/util-crypto";
import { toHex } from "./bytes.ts";
import { isValidMnemonic, MnemonicError, mnemonicToMiniSecret } from "./mnemonic.ts";
import { DEV_PHRASE } from "./secret-uri.ts";

test("dev phrase mini secret (Substrate's well-known value)", () => {
  assert.equal(toHex(mnemonicToMiniSecret(DEV_PHRASE)), "0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e");
});

test("matches polkadot-js for any entropy size and password", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 20, 24, 28, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      fc.string({ maxLength: 12 }),
      (entropy, password) => {
        const phrase = entropyToMnemonic(entropy, english);
        assert.equal(toHex(mnemonicToMiniSecret(phrase, password)), toHex(oracleMiniSecret(phrase, password)));
      },
    ),
    { numRuns: 30 },
  );
});

test("extra whitespace between words is ignored", () => {
  assert.deepEqual(mnemonicToMiniSecret(`  ${DEV_PHRASE.replaceAll(" ", "   ")} `), mnemonicToMiniSecret(DEV_PHRASE));
});

test("bad phrases give MnemonicError without the phrase in the message", () => {
  const bad = DEV_PHRASE.replace("walk", "bottom");
  assert.equal(isValidMnemonic(bad), false);
  assert.throws(() => mnemonicToMiniSecret(bad), (e: unknown) => e instanceof MnemonicError && e.code === "INVALID_MNEMONIC" && !e.message.includes("bottom"));
});
