import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bytesEqual } from "@phala-ts/primitives";
import { MemoryNodeDb, TrieStore, closestDescendantMerkleValue } from "./index.ts";

const SEED = 20261123;

function build(entries: Map<string, Uint8Array>) {
  const store = new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: Infinity });
  const batch = store.batch();
  for (const [k, v] of entries) batch.set(Buffer.from(k, "hex"), v);
  const { root } = batch.commit(0);
  return { store, root };
}

const key = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b).toString("hex"));
const value = fc.uint8Array({ minLength: 1, maxLength: 40 });

test("the closest-descendant merkle value changes exactly when something under the prefix changes", () => {
  fc.assert(
    fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 30 }), fc.uint8Array({ minLength: 0, maxLength: 2 }), value, (dict, prefix, newValue) => {
      const entries = new Map(Object.entries(dict).map(([k, v]) => [k, v]));
      const { store, root } = build(entries);
      const p = Buffer.from(prefix).toString("hex");
      const under = [...entries.keys()].filter((k) => k.startsWith(p));
      const mv = closestDescendantMerkleValue(store, root, prefix);
      assert.equal(mv === null, under.length === 0, "null exactly when nothing is stored under the prefix");
      if (prefix.length === 0) assert.ok(bytesEqual(mv!, root), "the empty prefix names the root");
      const outside = [...entries.keys()].find((k) => !k.startsWith(p));
      if (outside && mv) {
        const changed = new Map(entries).set(outside, newValue);
        const b = build(changed);
        if (!bytesEqual(changed.get(outside)!, entries.get(outside)!)) {
          assert.ok(bytesEqual(closestDescendantMerkleValue(b.store, b.root, prefix)!, mv), "a change outside the prefix leaves it alone");
        }
      }
      if (under.length && mv) {
        const target = under[0];
        if (!bytesEqual(entries.get(target)!, newValue)) {
          const b = build(new Map(entries).set(target, newValue));
          assert.ok(!bytesEqual(closestDescendantMerkleValue(b.store, b.root, prefix)!, mv), "a change under the prefix changes it");
        }
      }
    }),
    { seed: SEED, numRuns: 300 },
  );
});
