import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, signingKeyFromSecret, utf8, x25519KeyPair } from "@phala-ts/primitives";
import { ContractStorage } from "../src/contract-storage.ts";
import { CommandResults } from "../src/command-results.ts";
import {
  clusterSecretOf,
  commandResultNonce,
  contractSecretOf,
  decryptClusterKeyShare,
  encryptClusterKeyShare,
  publicKeysOf,
} from "../src/key-shares.ts";
import { NonceCache } from "../src/queries.ts";
import { PruntimeError } from "../src/errors.ts";

const master = blake2b256(utf8("master"));
const cluster = blake2b256(utf8("cluster"));
const worker = blake2b256(utf8("worker"));
const workerEcdh = x25519KeyPair(blake2b256(utf8("worker ecdh")));

test("cluster key shares are deterministic and open only for their worker", () => {
  const secret = clusterSecretOf(master, cluster);
  assert.deepEqual(secret, clusterSecretOf(master, cluster));
  assert.notDeepEqual(secret, clusterSecretOf(master, blake2b256(utf8("other cluster"))));
  const a = encryptClusterKeyShare(master, cluster, worker, workerEcdh.publicKey, secret);
  const b = encryptClusterKeyShare(master, cluster, worker, workerEcdh.publicKey, secret);
  assert.deepEqual(a, b, "every gatekeeper makes the same bytes");
  assert.deepEqual(decryptClusterKeyShare(workerEcdh.privateKey, cluster, a), secret);
  // Another worker's key, another cluster (AAD) or a flipped bit: refused.
  assert.throws(() => decryptClusterKeyShare(x25519KeyPair(blake2b256(utf8("x"))).privateKey, cluster, a));
  assert.throws(() => decryptClusterKeyShare(workerEcdh.privateKey, blake2b256(utf8("other cluster")), a));
  const flipped = { ...a, ciphertext: a.ciphertext.slice() };
  flipped.ciphertext[0] ^= 1;
  assert.throws(() => decryptClusterKeyShare(workerEcdh.privateKey, cluster, flipped));
  // A re-registered worker (new ecdh key) gets another nonce.
  const other = x25519KeyPair(blake2b256(utf8("worker ecdh 2")));
  assert.notDeepEqual(encryptClusterKeyShare(master, cluster, worker, other.publicKey, secret).nonce, a.nonce);
});

test("contract keys derive from the cluster key; public keys are the secret's", () => {
  const clusterSecret = clusterSecretOf(master, cluster);
  const contract = blake2b256(utf8("contract"));
  const secret = contractSecretOf(clusterSecret, contract);
  const keys = publicKeysOf(secret);
  assert.deepEqual(keys.pubkey, signingKeyFromSecret(secret).publicKey);
  assert.notDeepEqual(keys.ecdh_pubkey, keys.pubkey);
  assert.notDeepEqual(contractSecretOf(clusterSecret, blake2b256(utf8("contract 2"))), secret);
  // Result nonces differ per position even for the same command id.
  const id = blake2b256(utf8("cmd"));
  assert.notDeepEqual(commandResultNonce(secret, id, 0n), commandResultNonce(secret, id, 1n));
  assert.equal(commandResultNonce(secret, id, 0n).length, 12);
});

test("contract storage counts bytes and items, and hashes a canonical order", () => {
  const s = new ContractStorage();
  const writes = new Map<string, string | undefined>([
    ["b", "22"],
    ["a", "1"],
  ]);
  assert.deepEqual(s.deltaOf(writes), { bytes: 5, items: 2 });
  s.apply(writes);
  assert.equal(s.bytes, 5);
  assert.equal(s.size, 2);
  const t = new ContractStorage([
    { key: "a", value: "1" },
    { key: "b", value: "22" },
  ]);
  assert.deepEqual(s.stateHash(), t.stateHash(), "insertion order does not matter");
  const shrink = new Map<string, string | undefined>([
    ["b", undefined],
    ["a", "111"],
    ["c", undefined],
  ]);
  assert.deepEqual(s.deltaOf(shrink), { bytes: -1, items: -1 });
  s.apply(shrink);
  assert.deepEqual(s.entries(), [{ key: "a", value: "111" }]);
  assert.equal(s.bytes, 4);
  assert.deepEqual(s.keys("", 10), ["a"]);
  assert.notDeepEqual(s.stateHash(), t.stateHash());
});

test("the result store keeps the newest and forgets the oldest", () => {
  const r = new CommandResults(3);
  const c = blake2b256(utf8("c"));
  const id = (i: number) => blake2b256(utf8(`id ${i}`));
  for (let i = 0; i < 5; i++) r.put(c, id(i), Uint8Array.of(i));
  assert.equal(r.size, 3);
  assert.equal(r.get(c, id(1)), undefined);
  assert.deepEqual(r.get(c, id(4)), Uint8Array.of(4));
  // What the sealed store gets back on restart keeps the age order: the next put evicts id 2.
  const again = new CommandResults(3, r.all().reverse());
  assert.deepEqual(again.all(), r.all());
  again.put(c, id(5), Uint8Array.of(5));
  assert.equal(again.get(c, id(2)), undefined);
  assert.deepEqual(again.get(c, id(3)), Uint8Array.of(3));
});

test("query nonces: refused while their certificate lives, forgotten after, bounded", () => {
  const n = new NonceCache(4);
  const account = blake2b256(utf8("account"));
  const nonce = (i: number) => blake2b256(utf8(`nonce ${i}`)).slice(0, 16);
  n.use(account, nonce(0), 1_000, 0);
  assert.throws(() => n.use(account, nonce(0), 2_000, 500), (e: unknown) => e instanceof PruntimeError && e.code === "NONCE_REPLAYED");
  n.use(blake2b256(utf8("other")), nonce(0), 3_000, 500); // another account may use it
  n.use(account, nonce(0), 3_000, 1_000); // the first certificate expired: a new one may reuse it
  n.use(account, nonce(1), 3_000, 1_000);
  n.use(account, nonce(2), 3_000, 1_000);
  assert.throws(() => n.use(account, nonce(3), 3_000, 1_000), (e: unknown) => e instanceof PruntimeError && e.code === "NONCE_CACHE_FULL");
  // Once entries expire they are swept and room returns.
  n.use(account, nonce(3), 9_000, 5_000);
  assert.ok(n.size <= 4);
});
