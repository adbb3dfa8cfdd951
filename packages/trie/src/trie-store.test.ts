import { test } from "node:test";
import assert from "node:assert/strict";
import { compareBytes, toHex, utf8 } from "@phala-ts/primitives";
import { validateProofs } from "@polkadot-api/substrate-bindings";
import { TrieError } from "./errors.ts";
import { KEY_LENGTH_MAX_BYTES } from "./limits.ts";
import { EMPTY_TRIE_ROOT, decodeNode } from "./node-codec.ts";
import { NodeCache } from "./node-cache.ts";
import { MemoryNodeDb } from "./node-db.ts";
import { oracleView } from "./test-support.ts";
import { trieRoot } from "./trie-root.ts";
import { TrieStore } from "./trie-store.ts";
import { verifyProof } from "./verify-proof.ts";

const isTrieError = (code: string) => (e: unknown) => e instanceof TrieError && e.code === code;
const str = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());

function newStore(pruningDepthBlocks = 10) {
  const db = new MemoryNodeDb();
  return { db, store: new TrieStore({ db, pruningDepthBlocks }) };
}

const SAMPLE: [string, string][] = [
  ["doe", "reindeer"],
  ["dog", "puppy"],
  ["dogglesworth", "cat"],
  ["", "empty key"],
  [":code", "x".repeat(300)],
  ["horse", "stallion, a value longer than thirty-three bytes to be hashed"],
  ["hors", ""],
];
const sampleEntries = () => SAMPLE.map(([k, v]) => [utf8(k), utf8(v)] as const);

function genesis(store: TrieStore): Uint8Array {
  const batch = store.batch();
  for (const [k, v] of sampleEntries()) batch.set(k, v);
  return batch.commit(0).root;
}

test("genesis: committed root equals the from-scratch root, and every key reads back", () => {
  const { store } = newStore();
  const root = genesis(store);
  assert.deepEqual(root, trieRoot(sampleEntries()));
  for (const [k, v] of SAMPLE) assert.equal(str(store.get(root, utf8(k))), v);
  assert.equal(store.get(root, utf8("do")), null);
  assert.equal(store.get(root, utf8("dogg")), null);
  assert.equal(store.get(root, utf8("zebra")), null);
  assert.equal(store.get(EMPTY_TRIE_ROOT, utf8("doe")), null);
  assert.ok(store.hasRoot(root) && store.hasRoot(EMPTY_TRIE_ROOT));
  assert.equal(store.lastCommittedBlock(), 0);
});

test("batch reads see pending writes and fall through to the parent state", () => {
  const { store } = newStore();
  const root = genesis(store);
  const batch = store.batch(root);
  batch.set(utf8("dog"), utf8("hound"));
  batch.delete(utf8("doe"));
  batch.set(utf8("new"), utf8("value"));
  assert.equal(str(batch.get(utf8("dog"))), "hound");
  assert.equal(batch.get(utf8("doe")), null);
  assert.equal(str(batch.get(utf8("new"))), "value");
  assert.equal(str(batch.get(utf8("dogglesworth"))), "cat");
  assert.equal(batch.size, 3);
  // The parent state is untouched.
  assert.equal(str(store.get(root, utf8("dog"))), "puppy");
  // Values are copied in: mutating the caller's array changes nothing.
  const v = utf8("mutable");
  batch.set(utf8("m"), v);
  v[0] = 0;
  assert.equal(str(batch.get(utf8("m"))), "mutable");
});

test("root() is a dry run: it persists nothing, and writes may continue before commit", () => {
  const { db, store } = newStore();
  const root = genesis(store);
  const sizeBefore = db.size;
  const batch = store.batch(root);
  batch.set(utf8("dog"), utf8("hound"));
  const dry = batch.root();
  assert.equal(db.size, sizeBefore);
  const expected = new Map(SAMPLE);
  expected.set("dog", "hound");
  assert.deepEqual(dry, trieRoot([...expected].map(([k, v]) => [utf8(k), utf8(v)])));
  batch.set(utf8("cat"), utf8("tabby"));
  batch.delete(utf8("horse"));
  expected.set("cat", "tabby");
  expected.delete("horse");
  const { root: committed } = batch.commit(1);
  assert.deepEqual(committed, trieRoot([...expected].map(([k, v]) => [utf8(k), utf8(v)])));
  for (const [k, v] of expected) assert.equal(str(store.get(committed, utf8(k))), v);
  assert.equal(store.get(committed, utf8("horse")), null);
  // The parent is still readable (inside the pruning window).
  assert.equal(str(store.get(root, utf8("horse")))?.startsWith("stallion"), true);
});

test("no-op writes keep the root and write no nodes", () => {
  const { db, store } = newStore();
  const root = genesis(store);
  const nodesBefore = db.keys().filter((k) => k.length === 32).length;
  const batch = store.batch(root);
  for (const [k, v] of sampleEntries()) batch.set(k, v);
  batch.delete(utf8("absent"));
  const { root: after } = batch.commit(1);
  assert.deepEqual(after, root);
  assert.equal(db.keys().filter((k) => k.length === 32).length, nodesBefore);
});

test("deleting every key gives the empty root", () => {
  const { store } = newStore();
  const root = genesis(store);
  const batch = store.batch(root);
  for (const [k] of SAMPLE) batch.delete(utf8(k));
  assert.deepEqual(batch.commit(1).root, EMPTY_TRIE_ROOT);
});

test("deletePrefix removes keys from the parent and from pending writes", () => {
  const { store } = newStore();
  const root = genesis(store);
  const batch = store.batch(root);
  batch.set(utf8("dodo"), utf8("extinct"));
  batch.delete(utf8("dog"));
  assert.equal(batch.deletePrefix(utf8("do")), 3); // doe, dogglesworth, dodo
  assert.equal(batch.get(utf8("doe")), null);
  assert.equal(batch.get(utf8("dodo")), null);
  const { root: after } = batch.commit(1);
  assert.deepEqual(store.keys(after, { limit: 100 }).map((k) => Buffer.from(k).toString()), ["", ":code", "hors", "horse"]);
});

test("errors: closed batch, non-increasing block numbers, bad arguments", () => {
  const { store } = newStore();
  const root = genesis(store);
  const batch = store.batch(root);
  batch.set(utf8("a"), utf8("1"));
  assert.throws(() => batch.commit(0), isTrieError("BLOCK_NUMBER_NOT_INCREASING"));
  batch.commit(1);
  assert.throws(() => batch.set(utf8("a"), utf8("2")), isTrieError("BATCH_CLOSED"));
  assert.throws(() => batch.root(), isTrieError("BATCH_CLOSED"));
  assert.throws(() => store.batch(new Uint8Array(31)), isTrieError("INVALID_ARGUMENT"));
  assert.throws(() => store.get(root, new Uint8Array(KEY_LENGTH_MAX_BYTES + 1)), isTrieError("INVALID_ARGUMENT"));
  assert.throws(() => store.keys(root, { limit: 0 }), isTrieError("INVALID_ARGUMENT"));
  assert.throws(() => store.batch(root).commit(-1), isTrieError("INVALID_ARGUMENT"));
  assert.throws(() => new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: 1.5 }), isTrieError("INVALID_ARGUMENT"));
  assert.throws(() => store.get(new Uint8Array(32).fill(1), utf8("a")), isTrieError("MISSING_NODE"));
});

test("keys: lexicographic, by prefix, strictly after startKey, limited (state_getKeysPaged)", () => {
  const { store } = newStore();
  const root = genesis(store);
  const keys = (o: { prefix?: string; startKey?: string; limit: number }) =>
    store
      .keys(root, {
        prefix: o.prefix === undefined ? undefined : utf8(o.prefix),
        startKey: o.startKey === undefined ? undefined : utf8(o.startKey),
        limit: o.limit,
      })
      .map((k) => Buffer.from(k).toString());
  assert.deepEqual(keys({ limit: 100 }), ["", ":code", "doe", "dog", "dogglesworth", "hors", "horse"]);
  assert.deepEqual(keys({ prefix: "do", limit: 100 }), ["doe", "dog", "dogglesworth"]);
  assert.deepEqual(keys({ prefix: "do", limit: 2 }), ["doe", "dog"]);
  assert.deepEqual(keys({ prefix: "do", startKey: "dog", limit: 2 }), ["dogglesworth"]);
  assert.deepEqual(keys({ prefix: "do", startKey: "doe", limit: 100 }), ["dog", "dogglesworth"]);
  assert.deepEqual(keys({ startKey: "", limit: 2 }), [":code", "doe"]);
  assert.deepEqual(keys({ startKey: "dog\u0000", limit: 100 }), ["dogglesworth", "hors", "horse"]);
  assert.deepEqual(keys({ prefix: "do", startKey: "a", limit: 1 }), ["doe"]);
  assert.deepEqual(keys({ prefix: "do", startKey: "e", limit: 1 }), []);
  assert.deepEqual(keys({ prefix: "dogglesworth", limit: 5 }), ["dogglesworth"]);
  assert.deepEqual(keys({ prefix: "dogglesworthy", limit: 5 }), []);
  assert.deepEqual(keys({ prefix: "x", limit: 5 }), []);
  const entries = [...store.entries(root, utf8("hors"))].map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]);
  assert.deepEqual(entries, [
    ["hors", ""],
    ["horse", "stallion, a value longer than thirty-three bytes to be hashed"],
  ]);
  assert.deepEqual([...store.entries(EMPTY_TRIE_ROOT)], []);
});

test("prove: polkadot-api's validateProofs accepts our proofs and decodes our nodes as we do", () => {
  const { store } = newStore();
  const batch = store.batch();
  const model = new Map<string, Uint8Array>();
  for (let i = 0; i < 300; i++) {
    const k = utf8(`key-${(i * 7919) % 1000}`);
    const v = new Uint8Array(i % 70).fill(i & 0xff);
    batch.set(k, v);
    model.set(toHex(k), v);
  }
  const { root } = batch.commit(0);
  // Present keys with short (inline) and long (hashed) values, then absent ones.
  const present = [1, 35, 40, 69].map((i) => utf8(`key-${(i * 7919) % 1000}`));
  const asked = [...present, utf8("absent"), utf8("key-"), utf8("key-1000"), utf8("key-9190")];
  const proof = store.prove(root, asked);
  // Deduplicated and sorted by bytes, as state_getReadProof returns them.
  for (let i = 1; i < proof.length; i++) assert.ok(compareBytes(proof[i - 1], proof[i]) < 0);

  const oracle = validateProofs(proof.map(toHex));
  assert.ok(oracle !== null, "oracle accepts the proof");
  assert.equal(oracle.rootHash, toHex(root));
  let valueNodes = 0;
  for (const bytes of proof) {
    const node = Object.values(oracle.proofs).find((p) => p.type === "Raw" && "value" in p && p.value === toHex(bytes));
    if (node !== undefined) {
      valueNodes++;
      continue;
    }
    const ours = decodeNode(bytes);
    assert.ok(ours.kind !== "empty");
    const theirs = Object.values(oracle.proofs).find((p) => p.type !== "Raw" && oracleMatches(p, oracleView(ours)));
    assert.ok(theirs !== undefined, `oracle decodes ${toHex(bytes)} as we do`);
  }
  assert.ok(valueNodes > 0, "the proof carries hashed values");
  for (const k of present) assert.ok(model.has(toHex(k)));
  for (const k of asked) {
    const expected = model.get(toHex(k)) ?? null;
    assert.deepEqual(verifyProof(root, proof, k), expected);
  }
  assert.deepEqual(store.prove(EMPTY_TRIE_ROOT, [utf8("a")]), []);
});

function oracleMatches(p: Record<string, unknown>, view: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(view)) {
    if (JSON.stringify(p[k]) !== JSON.stringify(v)) return false;
  }
  return true;
}

test("a proof for one key proves nothing about keys off its path", () => {
  const { store } = newStore();
  const root = genesis(store);
  const proof = store.prove(root, [utf8("doe")]);
  assert.equal(str(verifyProof(root, proof, utf8("doe"))), "reindeer");
  assert.throws(() => verifyProof(root, proof, utf8(":code")), isTrieError("INCOMPLETE_PROOF"));
});

test("node cache: a tiny cache (evicting all the time) reads and commits exactly like the default one", () => {
  const tiny = newStore(2);
  (tiny.store as unknown as { cache: NodeCache }).cache = new NodeCache(3, 16 * 1024);
  const big = newStore(2);
  const model = new Map<string, [Uint8Array, Uint8Array]>();
  let rootTiny = EMPTY_TRIE_ROOT;
  let rootBig = EMPTY_TRIE_ROOT;
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
  for (let n = 0; n < 12; n++) {
    const a = tiny.store.batch(rootTiny);
    const b = big.store.batch(rootBig);
    for (let i = 0; i < 40; i++) {
      const key = Uint8Array.of(next() % 7, next() % 5, next() % 3);
      if (next() % 4 === 0) {
        a.delete(key);
        b.delete(key);
        model.delete(toHex(key));
      } else {
        const value = new Uint8Array(next() % 60).fill(next() & 0xff);
        a.set(key, value);
        b.set(key, value);
        model.set(toHex(key), [key, value]);
      }
    }
    rootTiny = a.commit(n).root;
    rootBig = b.commit(n).root;
    assert.deepEqual(rootTiny, rootBig);
    assert.deepEqual(rootTiny, trieRoot(model.values()));
    for (const [k, v] of model.values()) assert.deepEqual(tiny.store.get(rootTiny, k), v);
  }
  assert.deepEqual(tiny.db.size, big.db.size);
});

test("entries larger than the node cache takes (a 20 KiB value, a 20 KiB key) read, prove and iterate", () => {
  const { store } = newStore();
  const bigValue = new Uint8Array(20 * 1024).map((_, i) => i & 0xff);
  const bigKey = new Uint8Array(20 * 1024).fill(7); // its leaf's partial key alone is 20 KiB
  const batch = store.batch();
  batch.set(utf8("code"), bigValue);
  batch.set(bigKey, utf8("small"));
  batch.set(utf8("other"), utf8("x"));
  const { root } = batch.commit(0);
  assert.deepEqual(root, trieRoot([[utf8("code"), bigValue], [bigKey, utf8("small")], [utf8("other"), utf8("x")]]));
  for (let pass = 0; pass < 2; pass++) {
    assert.deepEqual(store.get(root, utf8("code")), bigValue);
    assert.equal(str(store.get(root, bigKey)), "small");
  }
  const proof = store.prove(root, [utf8("code"), bigKey]);
  assert.deepEqual(verifyProof(root, proof, utf8("code")), bigValue);
  assert.equal(str(verifyProof(root, proof, bigKey)), "small");
  assert.deepEqual([...store.entries(root)].map(([k]) => k.length).sort((x, y) => x - y), [4, 5, 20 * 1024]);
  const next = store.batch(root);
  next.set(bigKey, utf8("changed"));
  const { root: root1 } = next.commit(1);
  assert.equal(str(store.get(root1, bigKey)), "changed");
  assert.deepEqual(store.get(root1, utf8("code")), bigValue);
});
