import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, concatBytes, fromHex, toHex, utf8 } from "@phala-ts/primitives";
import { EMPTY_TRIE_ROOT } from "./node-codec.ts";
import { orderedTrieRoot, trieRoot } from "./trie-root.ts";

test("golden: empty trie", () => {
  assert.equal(toHex(trieRoot([])), toHex(EMPTY_TRIE_ROOT));
  // An empty block's extrinsics root is the empty trie root.
  assert.equal(toHex(orderedTrieRoot([])), "0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314");
});

test("golden: one node (smoldot trie_root_one_node, V0 and V1 agree)", () => {
  assert.equal(
    toHex(trieRoot([[utf8("abcd"), utf8("hello world")]])),
    "0x7ab18659d3b2789ef2400d107104c7d4fb93d06d9ab6a8b641a5de7c3fecc851",
  );
});

test("golden: doe/dog/dogglesworth (sp-state-machine BasicExternalities commit_should_work)", () => {
  const root = trieRoot([
    [utf8("doe"), utf8("reindeer")],
    [utf8("dog"), utf8("puppy")],
    [utf8("dogglesworth"), utf8("cat")],
  ]);
  assert.equal(toHex(root), "0x39245109cef3758c2eed2ccba8d9b370a917850af3824bc8348d505df2c298fa");
});

test("golden: small root nodes are hashed (sp-trie single tuple / two tuples)", () => {
  assert.deepEqual(trieRoot([[Uint8Array.of(0xaa), Uint8Array.of(0xbb)]]), blake2b256(fromHex("0x42aa04bb")));
  const root = trieRoot([
    [Uint8Array.of(0x48, 0x19), Uint8Array.of(0xfe)],
    [Uint8Array.of(0x13, 0x14), Uint8Array.of(0xff)],
  ]);
  assert.deepEqual(root, blake2b256(fromHex("0x80120014430314" + "04ff" + "1443081904fe")));
});

test("layout V1: values of 33+ bytes become value nodes referenced by hash, 32 bytes stay inline", () => {
  const key = Uint8Array.of(0xaa);
  const v32 = new Uint8Array(32).fill(7);
  const v33 = new Uint8Array(33).fill(7);
  // Leaf 0x40|2 nibbles, key, compact(32) = 0x80, value.
  assert.deepEqual(trieRoot([[key, v32]]), blake2b256(concatBytes(fromHex("0x42aa80"), v32)));
  // Hashed-value leaf 0x20|2 nibbles, key, blake2b256(value).
  assert.deepEqual(trieRoot([[key, v33]]), blake2b256(concatBytes(fromHex("0x22aa"), blake2b256(v33))));
  // Branch with hashed value: 0x10|0 nibbles, bitmap, hash(value), child.
  const root = trieRoot([
    [Uint8Array.of(), v33],
    [Uint8Array.of(0x10), Uint8Array.of(1)],
  ]);
  const child = fromHex("0x410004" + "01"); // leaf, 1 nibble (0), value 0x01
  const branch = concatBytes(fromHex("0x100200"), blake2b256(v33), Uint8Array.of(child.length << 2), child);
  assert.deepEqual(root, blake2b256(branch));
});

test("orderedTrieRoot keys values by SCALE compact index", () => {
  const values = [utf8("a"), utf8("b"), new Uint8Array(100).fill(3)];
  assert.deepEqual(
    orderedTrieRoot(values),
    trieRoot([
      [Uint8Array.of(0), values[0]],
      [Uint8Array.of(4), values[1]],
      [Uint8Array.of(8), values[2]],
    ]),
  );
});

test("later duplicates win and input order does not matter", () => {
  const a = trieRoot([
    [utf8("k1"), utf8("old")],
    [utf8("k2"), utf8("v2")],
    [utf8("k1"), utf8("new")],
  ]);
  const b = trieRoot([
    [utf8("k2"), utf8("v2")],
    [utf8("k1"), utf8("new")],
  ]);
  assert.deepEqual(a, b);
});
