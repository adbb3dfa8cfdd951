import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryContractStorage, StorageOverlay } from "../../src/contract-vm/index.ts";

test("the overlay reads through, buffers writes, and commits them in key order", () => {
  const base = new MemoryContractStorage();
  base.set("a", "1");
  base.set("b", "2");
  const applied: string[] = [];
  const spy = {
    get: (k: string) => base.get(k),
    keys: (p: string, l: number) => base.keys(p, l),
    set: (k: string, v: string) => (applied.push(`set ${k}`), base.set(k, v)),
    remove: (k: string) => (applied.push(`remove ${k}`), base.remove(k)),
  };
  const overlay = new StorageOverlay(spy);
  overlay.set("c", "3");
  overlay.remove("a");
  overlay.set("b", "22");
  assert.equal(overlay.get("a"), undefined);
  assert.equal(overlay.get("b"), "22");
  assert.equal(base.get("b"), "2");
  assert.equal(overlay.size, 3);
  assert.deepEqual(overlay.keys("", 10), ["b", "c"]);
  overlay.commit();
  assert.deepEqual(applied, ["remove a", "set b", "set c"]);
  assert.deepEqual(base.entries(), [["b", "22"], ["c", "3"]]);
  assert.equal(overlay.size, 0);
  overlay.set("z", "9");
  overlay.discard();
  overlay.commit();
  assert.equal(base.get("z"), undefined);
});

test("keys(prefix, limit) through an overlay equals keys of the committed state (property)", () => {
  const key = fc.constantFrom("a", "ab", "abc", "b", "ba", "k/1", "k/2", "k/10", "é", "");
  const op = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), key, value: fc.string({ maxLength: 3 }) }),
    fc.record({ kind: fc.constant("remove" as const), key }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), fc.constantFrom("", "a", "k/", "b", "x"), fc.integer({ min: 0, max: 12 }), (before, during, prefix, limit) => {
      const base = new MemoryContractStorage();
      const reference = new MemoryContractStorage();
      for (const o of before) for (const s of [base, reference]) o.kind === "set" ? s.set(o.key, o.value) : s.remove(o.key);
      const overlay = new StorageOverlay(base);
      for (const o of during) {
        if (o.kind === "set") {
          overlay.set(o.key, o.value);
          reference.set(o.key, o.value);
        } else {
          overlay.remove(o.key);
          reference.remove(o.key);
        }
      }
      assert.deepEqual(overlay.keys(prefix, limit), reference.keys(prefix, limit));
      for (const o of during) assert.equal(overlay.get(o.key), reference.get(o.key));
      overlay.commit();
      assert.deepEqual(base.entries(), reference.entries());
    }),
    { seed: 4242, numRuns: 300 },
  );
});
