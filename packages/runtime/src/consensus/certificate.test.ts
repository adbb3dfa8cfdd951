import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, devAccount, utf8 } from "@phala-ts/primitives";
import {
  CertificateError,
  decodeCertificate,
  encodeCertificate,
  signPrecommit,
  verifyCertificate,
  type CommitCertificateValue,
  type ValidatorSetValue,
} from "./certificate.ts";

const genesis = blake2b256(utf8("genesis"));
const block = blake2b256(utf8("block 7"));
const keys = (["Alice", "Bob", "Charlie", "Dave"] as const).map((n) => devAccount(n, "ed25519"));
const set: ValidatorSetValue = { set_id: 3n, validators: keys.map((k) => ({ public_key: k.publicKey, power: 10n })) };

function cert(signers: number[], over: Partial<CommitCertificateValue> = {}): CommitCertificateValue {
  return {
    height: 7,
    round: 1,
    block_hash: block,
    set_id: 3n,
    precommits: signers.map((i) => ({ validator: i, signature: signPrecommit(keys[i], genesis, 7, 1, block) })),
    ...over,
  };
}

const code = (f: () => void) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CertificateError, String(e));
    return e.code;
  }
  return "OK";
};
const check = (c: CommitCertificateValue) => code(() => verifyCertificate(c, set, genesis, { height: 7, blockHash: block }));

test("more than two thirds of the voting power finalizes; two thirds or less does not", () => {
  assert.equal(check(cert([0, 1, 2])), "OK");
  assert.equal(check(cert([0, 1, 2, 3])), "OK");
  assert.equal(check(cert([1, 3])), "INSUFFICIENT_POWER");
  assert.equal(check(cert([])), "INSUFFICIENT_POWER");
});

test("forged, misplaced and duplicated precommits are rejected", () => {
  const bad = cert([0, 1, 2]);
  bad.precommits[1].signature = bad.precommits[1].signature.slice();
  bad.precommits[1].signature[5] ^= 1;
  assert.equal(check(bad), "BAD_SIGNATURE");
  assert.equal(check(cert([0, 0, 1, 2])), "DUPLICATE_VOTE");
  assert.equal(check(cert([2, 1, 0])), "DUPLICATE_VOTE");
  assert.equal(check({ ...cert([0, 1, 2]), precommits: [...cert([0, 1, 2]).precommits, { validator: 9, signature: new Uint8Array(64) }] }), "UNKNOWN_VALIDATOR");
  assert.equal(check(cert([0, 1, 2], { set_id: 2n })), "WRONG_SET");
  assert.equal(check(cert([0, 1, 2], { height: 8 })), "WRONG_BLOCK");
  // A signature for another round does not count for this one.
  const otherRound = cert([0, 1, 2]);
  otherRound.round = 2;
  assert.equal(check(otherRound), "BAD_SIGNATURE");
  // Nor does one made for another chain.
  const otherChain = { ...cert([]), precommits: [0, 1, 2].map((i) => ({ validator: i, signature: signPrecommit(keys[i], blake2b256(utf8("other")), 7, 1, block) })) };
  assert.equal(check(otherChain), "BAD_SIGNATURE");
});

test("certificates round-trip through SCALE and garbage is a typed error", () => {
  const c = cert([0, 1, 2]);
  assert.deepEqual(decodeCertificate(encodeCertificate(c)), c);
  assert.equal(code(() => decodeCertificate(new Uint8Array([1, 2, 3]))), "MALFORMED");
  const bytes = encodeCertificate(c);
  assert.equal(code(() => decodeCertificate(new Uint8Array([...bytes, 0]))), "MALFORMED");
});
