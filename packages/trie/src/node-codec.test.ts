import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { trieNodeDec } from "@polkadot-api/substrate-bindings";
import { blake2b256, fromHex, toHex } from "@phala-ts/primitives";
import {
  EMPTY_TRIE_ROOT,
  decodeNode,
  encodeNode,
  type ChildRef,
  type DecodedNode,
  type NodeValue,
} from "./node-codec.ts";
import { TrieError } from "./errors.ts";
import { oracleView } from "./test-support.ts";

const nib = (...n: number[]) => Uint8Array.from(n);

test("empty trie root is blake2b256([0x00])", () => {
  assert.equal(toHex(EMPTY_TRIE_ROOT), "0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314");
  assert.deepEqual(decodeNode(Uint8Array.of(0)), { kind: "empty" });
});

test("sp-trie golden: single tuple leaf encoding", () => {
  // sp-trie codec_trie_single_tuple: leaf 0x40 | 2 nibbles, key 0xaa, compact(1), 0xbb.
  const enc = encodeNode({ kind: "leaf", partial: nib(0xa, 0xa), value: { kind: "inline", data: Uint8Array.of(0xbb) } });
  assert.equal(toHex(enc), "0x42aa04bb");
});

test("sp-trie golden: two disjoint keys branch encoding", () => {
  // sp-trie codec_trie_two_tuples_disjoint_keys: {0x4819: 0xfe, 0x1314: 0xff}.
  const leaf = (p: number[], v: number) =>
    encodeNode({ kind: "leaf", partial: Uint8Array.from(p), value: { kind: "inline", data: Uint8Array.of(v) } });
  const children: (ChildRef | null)[] = new Array(16).fill(null);
  children[1] = { kind: "inline", encoded: leaf([3, 1, 4], 0xff) };
  children[4] = { kind: "inline", encoded: leaf([8, 1, 9], 0xfe) };
  const enc = encodeNode({ kind: "branch", partial: nib(), value: null, children });
  assert.equal(toHex(enc), "0x80120014430314" + "04ff" + "1443081904fe");
});

test("header nibble counts use continuation bytes exactly as Substrate", () => {
  const leafHeader = (n: number, hashed: boolean) => {
    const value: NodeValue = hashed ? { kind: "hashed", hash: new Uint8Array(32) } : { kind: "inline", data: new Uint8Array(0) };
    return encodeNode({ kind: "leaf", partial: new Uint8Array(n), value });
  };
  assert.equal(leafHeader(62, false)[0], 0x7e);
  assert.deepEqual([...leafHeader(63, false).subarray(0, 2)], [0x7f, 0x00]);
  assert.deepEqual([...leafHeader(64, false).subarray(0, 2)], [0x7f, 0x01]);
  assert.deepEqual([...leafHeader(317, false).subarray(0, 2)], [0x7f, 0xfe]);
  assert.deepEqual([...leafHeader(318, false).subarray(0, 3)], [0x7f, 0xff, 0x00]);
  assert.equal(leafHeader(30, true)[0], 0x3e);
  assert.deepEqual([...leafHeader(31, true).subarray(0, 2)], [0x3f, 0x00]);
  const children: (ChildRef | null)[] = new Array(16).fill(null);
  children[0] = { kind: "hash", hash: new Uint8Array(32) };
  const hb = encodeNode({ kind: "branch", partial: new Uint8Array(15), value: { kind: "hashed", hash: new Uint8Array(32) }, children });
  assert.deepEqual([...hb.subarray(0, 2)], [0x1f, 0x00]);
  for (const n of [0, 1, 62, 63, 64, 317, 318, 319, 600]) {
    for (const hashed of [false, true]) {
      const enc = leafHeader(n, hashed);
      const d = decodeNode(enc);
      assert.equal(d.kind === "leaf" && d.partial.length, n);
      assert.equal(trieNodeDec(enc).partialKey.length, n);
    }
  }
});

test("odd partial keys put the first nibble alone in the low bits", () => {
  const enc = encodeNode({ kind: "leaf", partial: nib(1, 2, 3), value: { kind: "inline", data: Uint8Array.of(7) } });
  assert.equal(toHex(enc), "0x4301230407");
});

const nibbleArb = fc.integer({ min: 0, max: 15 });
const partialArb = fc.oneof(
  fc.array(nibbleArb, { maxLength: 70 }),
  fc.integer({ min: 0, max: 700 }).chain((n) => fc.array(nibbleArb, { minLength: n, maxLength: n })),
).map((a) => Uint8Array.from(a));
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const valueArb: fc.Arbitrary<NodeValue> = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((data) => ({ kind: "inline" as const, data })),
  hashArb.map((hash) => ({ kind: "hashed" as const, hash })),
);
const childArb: fc.Arbitrary<ChildRef | null> = fc.oneof(
  fc.constant(null),
  hashArb.map((hash) => ({ kind: "hash" as const, hash })),
  fc.uint8Array({ minLength: 1, maxLength: 31 }).map((encoded) => ({ kind: "inline" as const, encoded })),
);
const nodeArb: fc.Arbitrary<Exclude<DecodedNode, { kind: "empty" }>> = fc.oneof(
  fc.record({ kind: fc.constant("leaf" as const), partial: partialArb, value: valueArb }).map((r) => ({ ...r })),
  fc
    .record({
      kind: fc.constant("branch" as const),
      partial: partialArb,
      value: fc.option(valueArb, { nil: null }),
      children: fc.array(childArb, { minLength: 16, maxLength: 16 }),
      forced: fc.integer({ min: 0, max: 15 }),
      forcedChild: hashArb,
    })
    .map(({ kind, partial, value, children, forced, forcedChild }) => {
      const slots: (ChildRef | null)[] = [...children];
      if (!slots.some((c) => c !== null)) slots[forced] = { kind: "hash", hash: forcedChild };
      return { kind, partial, value, children: slots };
    }),
);

test("property: decode(encode(node)) == node, and polkadot-api's trieNodeDec agrees", () => {
  fc.assert(
    fc.property(nodeArb, (node) => {
      const enc = encodeNode(node);
      const dec = decodeNode(enc);
      assert.deepEqual(dec, node);
      assert.deepEqual(encodeNode(dec), enc);
      assert.deepEqual(trieNodeDec(enc), oracleView(node));
    }),
    { seed: 0x7e1e, numRuns: 2000 },
  );
});

function assertInvalid(hex: string): void {
  assert.throws(() => decodeNode(fromHex(hex)), (e: unknown) => e instanceof TrieError && e.code === "INVALID_NODE", hex);
}

test("strict decoding rejects malformed nodes", () => {
  assertInvalid("0x"); // nothing
  assertInvalid("0x08"); // reserved header 0b0000_1xxx
  assertInvalid("0x0000"); // empty node with trailing bytes
  assertInvalid("0x411000"); // odd partial key with non-zero padding nibble
  assertInvalid("0x800000"); // branch with an empty bitmap
  assertInvalid("0x42aa04bb00"); // trailing byte
  assertInvalid("0x42aa08bb"); // value shorter than its length prefix
  assertInvalid("0x42aa0500"); // non-canonical compact length
  assertInvalid("0x800100" + "84" + "00".repeat(33)); // child reference longer than a hash
  assertInvalid("0x2200"); // hashed leaf cut short
  assertInvalid("0x7f"); // missing continuation byte
});

test("a node at the value threshold: 32 bytes inline, 33 bytes hashed (layout V1)", () => {
  // Only the codec's shape is checked here; which values get hashed is the trie's decision (see trie-root tests).
  const v33 = new Uint8Array(33).fill(1);
  const enc = encodeNode({ kind: "leaf", partial: nib(0xa, 0xa), value: { kind: "hashed", hash: blake2b256(v33) } });
  assert.equal(enc[0], 0x22);
  assert.equal(enc.length, 2 + 32);
});
