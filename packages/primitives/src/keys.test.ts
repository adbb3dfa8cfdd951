import { test, before } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { entropyToMnemonic } from "@scure/bip39";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady, signatureVerify } from "@polkadot/util-crypto";
import { toHex, utf8 } from "./bytes.ts";
import { blake2b256 } from "./hashing.ts";
import { KeyError, keyPairFromSeed, keyPairFromUri, KEY_TYPES, type KeyType } from "./keys.ts";
import { MnemonicError } from "./mnemonic.ts";
import { DEV_PHRASE, SecretUriError } from "./secret-uri.ts";
import { encodeSs58 } from "./ss58.ts";

before(async () => {
  await cryptoWaitReady();
});

function oracle(uri: string, type: KeyType, ss58Format = 42) {
  return new Keyring({ type, ss58Format }).addFromUri(uri);
}

const HEX_SEED = "0x" + "42".repeat(32);
const MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow";

const URIS: Record<KeyType, string[]> = {
  sr25519: ["//Alice", "//Alice/foo", `${DEV_PHRASE}/soft`, "//1", "//Alice//stash", "//0/1//2/x", `${DEV_PHRASE}//Alice///pw`, `${MNEMONIC}/a//b`, HEX_SEED, `${HEX_SEED}//x/y`, "//" + "long-junction-".repeat(4)],
  ed25519: ["//Alice", "//1", "//Alice//stash", `${DEV_PHRASE}//Bob///pw`, MNEMONIC, `${MNEMONIC}//0`, HEX_SEED, `${HEX_SEED}//x`, "//" + "long-junction-".repeat(4)],
  ecdsa: ["//Alice", "//1", "//Alice//stash", `${DEV_PHRASE}//Bob///pw`, MNEMONIC, `${MNEMONIC}//0`, HEX_SEED, `${HEX_SEED}//x`, "//" + "long-junction-".repeat(4)],
};

for (const type of KEY_TYPES) {
  test(`${type}: public keys and addresses match polkadot-js for derived URIs`, () => {
    for (const uri of URIS[type]) {
      const ours = keyPairFromUri(uri, type);
      const theirs = oracle(uri, type);
      assert.equal(toHex(ours.publicKey), toHex(theirs.publicKey), uri);
      assert.equal(encodeSs58(ours.accountId, 42), theirs.address, uri);
      assert.equal(encodeSs58(ours.accountId, 30), oracle(uri, type, 30).address, uri);
    }
  });

  test(`${type}: random mnemonics, passwords and hard paths match polkadot-js`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(fc.oneof(fc.nat(), fc.stringMatching(/^[a-z]{1,12}$/)), { maxLength: 3 }),
        fc.option(fc.stringMatching(/^[a-zA-Z0-9]{1,10}$/), { nil: undefined }),
        (entropy, path, password) => {
          const uri = entropyToMnemonic(entropy, english) + path.map((j) => `//${j}`).join("") + (password === undefined ? "" : `///${password}`);
          assert.equal(toHex(keyPairFromUri(uri, type).publicKey), toHex(oracle(uri, type).publicKey));
        },
      ),
      { numRuns: 20 },
    );
  });

  test(`${type}: signatures verify with polkadot-js`, () => {
    const pair = keyPairFromUri("//Alice", type);
    const message = utf8("phala");
    const signature = pair.sign(message);
    assert.equal(signature.length, type === "ecdsa" ? 65 : 64);
    assert.ok(signatureVerify(message, signature, oracle("//Alice", type).address).isValid);
    if (type !== "sr25519") {
      // ed25519 and ecdsa (RFC 6979) are deterministic: the bytes must match exactly.
      assert.equal(toHex(signature), toHex(oracle("//Alice", type).sign(message)));
    }
  });
}

test("ecdsa: accountId is blake2b-256 of the compressed key", () => {
  const pair = keyPairFromUri("//Alice", "ecdsa");
  assert.equal(pair.publicKey.length, 33);
  assert.equal(toHex(pair.accountId), toHex(blake2b256(pair.publicKey)));
});

test("a URI starting with a soft junction uses the dev phrase, as in Substrate", () => {
  // polkadot-js only fills in the dev phrase before `//`; Substrate does it for any path.
  assert.equal(toHex(keyPairFromUri("/soft").publicKey), toHex(keyPairFromUri(`${DEV_PHRASE}/soft`).publicKey));
});

test("keyPairFromSeed equals the hex-seed URI", () => {
  for (const type of KEY_TYPES) {
    const seed = new Uint8Array(32).fill(7);
    assert.equal(toHex(keyPairFromSeed(seed, type).publicKey), toHex(keyPairFromUri(toHex(seed), type).publicKey));
  }
});

test("invalid inputs give typed errors", () => {
  const is = (cls: new (...a: never[]) => Error, code: string) => (e: unknown) => e instanceof cls && (e as { code?: string }).code === code;
  assert.throws(() => keyPairFromUri("//Alice/soft", "ed25519"), is(KeyError, "INVALID_DERIVATION"));
  assert.throws(() => keyPairFromUri("//Alice/soft", "ecdsa"), is(KeyError, "INVALID_DERIVATION"));
  assert.throws(() => keyPairFromUri("0x1234"), is(SecretUriError, "INVALID_SECRET_URI"));
  assert.throws(() => keyPairFromUri("not a real mnemonic phrase at all"), is(MnemonicError, "INVALID_MNEMONIC"));
  assert.throws(() => keyPairFromUri(`${DEV_PHRASE.replace("walk", "bottom")}//Alice`), is(MnemonicError, "INVALID_MNEMONIC"));
  assert.throws(() => keyPairFromSeed(new Uint8Array(31)), is(KeyError, "INVALID_SEED"));
  assert.throws(() => keyPairFromSeed(new Uint8Array(32), "ecdsa"), is(KeyError, "INVALID_SEED"));
});
