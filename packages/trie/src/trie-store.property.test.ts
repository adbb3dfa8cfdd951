/**
 * Model-based tests of the store: random blocks of writes against a plain Map, checking roots,
 * reads, key order, pruning windows and the refcount invariant after every block.
 * fast-check runs are seeded; a failure prints the seed and the shrunk counterexample.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes } from "@phala-ts/primitives";
import { TrieError } from "./errors.ts";
import { EMPTY_TRIE_ROOT } from "./node-codec.ts";
import { MemoryNodeDb } from "./node-db.ts";
import { dbContents, hex, occurrences } from "./test-support.ts";
import { trieRoot } from "./trie-root.ts";
import { TrieStore } from "./trie-store.ts";

type Op =
  | { kind: "set"; key: Uint8Array; value: Uint8Array }
  | { kind: "delete"; key: Uint8Array }
  | { kind: "deletePrefix"; key: Uint8Array }
  | { kind: "dryRoot" };

// A small alphabet makes keys share prefixes, split and merge branches, and collide across blocks.
const keyArb = fc.array(fc.constantFrom(0x00, 0x01, 0x10, 0xab, 0xff), { maxLength: 4 }).map((a) => Uint8Array.from(a));
// Values around the 33-byte threshold, so nodes switch between inline and hashed values.
const valueArb = fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ minLength: 31, maxLength: 40 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), key: keyArb, value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deletePrefix" as const),
      key: fc.array(fc.constantFrom(0x00, 0x01, 0x10, 0xab, 0xff), { maxLength: 2 }).map((a) => Uint8Array.from(a)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "dryRoot" as const }) },
);

type Model = Map<string, Uint8Array>;

function entriesOf(model: Model): [Uint8Array, Uint8Array][] {
  return [...model.values()].map((v, i) => [Buffer.from([...model.keys()][i], "hex"), v]);
}

function sortedKeys(model: Model): string[] {
  return [...model.keys()].sort((a, b) => compareBytes(Buffer.from(a, "hex"), Buffer.from(b, "hex")));
}

function checkState(store: TrieStore, root: Uint8Array, model: Model): void {
  for (const [k, v] of model) assert.deepEqual(store.get(root, Buffer.from(k, "hex")), v, `value of ${k}`);
}

/** Stored nodes are exactly those of the states in the window, and refcounts match the invariant. */
function checkStorage(db: MemoryNodeDb, windowRoots: Uint8Array[], latest: Uint8Array): void {
  const contents = dbContents(db);
  const reachable = new Set<string>();
  for (const r of windowRoots) for (const h of occurrences(db, r).keys()) reachable.add(h);
  assert.deepEqual([...contents.nodes].sort(), [...reachable].sort(), "stored nodes == nodes of readable states");
  const occ = occurrences(db, latest);
  assert.deepEqual([...contents.refcounts.keys()].sort(), [...contents.nodes].sort(), "one refcount per node");
  for (const [h, rc] of contents.refcounts) {
    assert.equal(rc, (occ.get(h) ?? 0) + (contents.journaled.get(h) ?? 0), `refcount of ${h}`);
  }
}

function runChain(blocks: Op[][], depth: number): void {
  const db = new MemoryNodeDb();
  const store = new TrieStore({ db, pruningDepthBlocks: depth });
  const roots: Uint8Array[] = [];
  const models: Model[] = [];
  let model: Model = new Map();
  let parent = EMPTY_TRIE_ROOT;
  blocks.forEach((ops, n) => {
    model = new Map(model);
    const batch = store.batch(parent);
    for (const op of ops) {
      if (op.kind === "set") {
        batch.set(op.key, op.value);
        model.set(hex(op.key), op.value);
      } else if (op.kind === "delete") {
        batch.delete(op.key);
        model.delete(hex(op.key));
      } else if (op.kind === "deletePrefix") {
        const removed = batch.deletePrefix(op.key);
        const doomed = [...model.keys()].filter((k) => k.startsWith(hex(op.key)));
        assert.equal(removed, doomed.length, "deletePrefix count");
        for (const k of doomed) model.delete(k);
      } else {
        assert.deepEqual(batch.root(), trieRoot(entriesOf(model)), "dry-run root mid-batch");
      }
    }
    const { root } = batch.commit(n);
    assert.deepEqual(root, trieRoot(entriesOf(model)), `root of block ${n}`);
    roots.push(root);
    models.push(model);
    parent = root;

    checkState(store, root, model);
    assert.deepEqual(store.keys(root, { limit: 10_000 }).map(hex), sortedKeys(model), "key order");

    const oldest = depth === Infinity ? 0 : Math.max(0, n - depth);
    const window = roots.slice(oldest);
    for (let b = oldest; b <= n; b++) {
      assert.ok(store.hasRoot(roots[b]), `state ${b} readable at block ${n}`);
      checkState(store, roots[b], models[b]);
    }
    const windowHex = new Set(window.map(hex));
    for (let b = 0; b < oldest; b++) {
      if (windowHex.has(hex(roots[b])) || hex(roots[b]) === hex(EMPTY_TRIE_ROOT)) continue; // same state again
      assert.equal(store.hasRoot(roots[b]), false, `state ${b} pruned at block ${n}`);
      if (models[b].size > 0) {
        const [k] = models[b].keys();
        assert.throws(
          () => store.get(roots[b], Buffer.from(k, "hex")),
          (e: unknown) => e instanceof TrieError && e.code === "MISSING_NODE",
        );
      }
    }
    if (depth !== Infinity) checkStorage(db, window, root);
  });
}

test("property: random blocks against a Map model, with pruning windows 0, 1, 3 and archive", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 20 }),
      fc.constantFrom(0, 1, 3, Infinity),
      (blocks, depth) => runChain(blocks, depth),
    ),
    { seed: 20240611, numRuns: 150 },
  );
});

test("property: many blocks of overwrites keep the latest state intact and storage bounded", () => {
  const keys = Array.from({ length: 40 }, (_, i) => Uint8Array.of(i * 6, i));
  const blockArb = fc.array(
    fc.record({ key: fc.constantFrom(...keys), value: valueArb, del: fc.boolean() }).map(
      ({ key, value, del }): Op => (del ? { kind: "delete", key } : { kind: "set", key, value }),
    ),
    { minLength: 1, maxLength: 8 },
  );
  fc.assert(
    fc.property(fc.array(blockArb, { minLength: 150, maxLength: 200 }), (blocks) => runChain(blocks, 4)),
    { seed: 77, numRuns: 4 },
  );
});

test("pruning window: after block 9 with depth 3, states 6..9 are readable and 5 is gone", () => {
  const db = new MemoryNodeDb();
  const store = new TrieStore({ db, pruningDepthBlocks: 3 });
  const key = Buffer.from("balance");
  const roots: Uint8Array[] = [];
  let parent = EMPTY_TRIE_ROOT;
  for (let n = 0; n <= 9; n++) {
    const batch = store.batch(parent);
    batch.set(key, Buffer.from(`value at block ${n}`));
    batch.set(Buffer.from("static"), new Uint8Array(64).fill(1)); // shared value node, never rewritten
    parent = batch.commit(n).root;
    roots.push(parent);
  }
  for (let n = 6; n <= 9; n++) assert.equal(Buffer.from(store.get(roots[n], key) as Uint8Array).toString(), `value at block ${n}`);
  for (let n = 0; n <= 5; n++) {
    assert.equal(store.hasRoot(roots[n]), false);
    assert.throws(() => store.get(roots[n], key), (e: unknown) => e instanceof TrieError && e.code === "MISSING_NODE");
  }
  assert.equal(store.get(roots[9], Buffer.from("static"))?.length, 64);
  assert.deepEqual(dbContents(db).journalBlocks, [7, 8, 9]);

  // A new store over the same database picks up the journals and keeps pruning.
  const reopened = new TrieStore({ db, pruningDepthBlocks: 3 });
  const b = reopened.batch(roots[9]);
  b.set(key, Buffer.from("value at block 10"));
  const { root } = b.commit(10);
  assert.equal(reopened.hasRoot(roots[6]), false);
  assert.ok(reopened.hasRoot(roots[7]));
  assert.deepEqual(dbContents(db).journalBlocks, [8, 9, 10]);
  assert.throws(() => reopened.batch(root).commit(10), (e: unknown) => e instanceof TrieError && e.code === "BLOCK_NUMBER_NOT_INCREASING");
});

test("archive mode keeps every state and writes no journals", () => {
  const db = new MemoryNodeDb();
  const store = new TrieStore({ db, pruningDepthBlocks: Infinity });
  const roots: Uint8Array[] = [];
  let parent = EMPTY_TRIE_ROOT;
  for (let n = 0; n < 20; n++) {
    const batch = store.batch(parent);
    batch.set(Buffer.from("k"), Buffer.from(`v${n}`));
    parent = batch.commit(n).root;
    roots.push(parent);
  }
  roots.forEach((r, n) => assert.equal(Buffer.from(store.get(r, Buffer.from("k")) as Uint8Array).toString(), `v${n}`));
  assert.deepEqual(dbContents(db).journalBlocks, []);
});
