import { test, before } from "node:test";
import assert from "node:assert/strict";
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { toHex } from "./bytes.ts";
import { DEV_ACCOUNT_NAMES, devAccount, devKeyring } from "./dev-accounts.ts";
import { KEY_TYPES } from "./keys.ts";
import { encodeSs58 } from "./ss58.ts";

before(async () => {
  await cryptoWaitReady();
});

test("Alice sr25519 is the well-known key", () => {
  assert.equal(toHex(devAccount("Alice").publicKey), "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  assert.equal(encodeSs58(devAccount("Bob").accountId, 42), "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
});

for (const type of KEY_TYPES) {
  test(`${type} dev keyring matches @polkadot/keyring at prefixes 42 and 30`, () => {
    const ring = devKeyring(type);
    for (const ss58Format of [42, 30]) {
      const keyring = new Keyring({ type, ss58Format });
      for (const name of DEV_ACCOUNT_NAMES) {
        const theirs = keyring.addFromUri(`//${name}`);
        assert.equal(toHex(ring[name].publicKey), toHex(theirs.publicKey), `${type} ${name}`);
        assert.equal(encodeSs58(ring[name].accountId, ss58Format), theirs.address, `${type} ${name} @${ss58Format}`);
      }
    }
  });
}
