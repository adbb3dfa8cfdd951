import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { fromHex, toHex } from "./bytes.ts";
import { decodeSs58, encodeSs58, PHALA_SS58_PREFIX, Ss58Error } from "./ss58.ts";

const ALICE = fromHex("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
const accountId = fc.uint8Array({ minLength: 32, maxLength: 32 });
const prefix = fc.integer({ min: 0, max: 16383 }).filter((p) => p !== 46 && p !== 47);

test("Alice's well-known addresses", () => {
  assert.equal(encodeSs58(ALICE, 42), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
  assert.equal(encodeSs58(ALICE), encodeAddress(ALICE, PHALA_SS58_PREFIX));
  assert.ok(encodeSs58(ALICE).startsWith("4"), "Phala addresses start with 4");
  assert.deepEqual(decodeSs58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), { publicKey: ALICE, prefix: 42 });
});

test("encode matches polkadot-js encodeAddress for any prefix", () => {
  fc.assert(
    fc.property(accountId, prefix, (id, p) => {
      assert.equal(encodeSs58(id, p), encodeAddress(id, p));
    }),
  );
});

test("decode inverts encode and agrees with polkadot-js decodeAddress", () => {
  fc.assert(
    fc.property(accountId, prefix, (id, p) => {
      const address = encodeAddress(id, p);
      const decoded = decodeSs58(address);
      assert.equal(decoded.prefix, p);
      assert.equal(toHex(decoded.publicKey), toHex(decodeAddress(address)));
    }),
  );
});

test("a changed character fails the checksum or the base58 alphabet", () => {
  const address = encodeSs58(ALICE);
  fc.assert(
    fc.property(fc.nat({ max: address.length - 1 }), fc.constantFrom(..."123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl"), (i, c) => {
      fc.pre(address[i] !== c);
      const bad = address.slice(0, i) + c + address.slice(i + 1);
      assert.throws(() => decodeSs58(bad), (e: unknown) => e instanceof Ss58Error && e.code === "INVALID_SS58");
    }),
  );
});

test("errors carry codes and say what is wrong", () => {
  const check = (input: string, pattern: RegExp) =>
    assert.throws(() => decodeSs58(input), (e: unknown) => e instanceof Ss58Error && e.code === "INVALID_SS58" && pattern.test(e.message));
  check("", /empty/);
  check("0xdead", /base58 alphabet/);
  check("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ", /checksum/);
  check(encodeAddress(fromHex("0x" + "11".repeat(33)), 42), /decodes to 36 bytes/);
  check(encodeAddress(fromHex("0x01020304"), 42), /decodes to 6 bytes/);
  assert.throws(() => decodeSs58(encodeSs58(ALICE, 42), { expectedPrefix: 30 }), (e: unknown) => e instanceof Ss58Error && e.code === "INVALID_SS58_PREFIX");
  assert.throws(() => encodeSs58(ALICE, 46), (e: unknown) => e instanceof Ss58Error && e.code === "INVALID_SS58_PREFIX");
  assert.throws(() => encodeSs58(ALICE, 16384), (e: unknown) => e instanceof Ss58Error && e.code === "INVALID_SS58_PREFIX");
  assert.throws(() => encodeSs58(ALICE.subarray(1)), (e: unknown) => e instanceof Ss58Error && /32-byte/.test(e.message));
});

test("decode never throws anything but Ss58Error on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      try {
        decodeSs58(s);
      } catch (e) {
        assert.ok(e instanceof Ss58Error);
      }
    }),
  );
});
