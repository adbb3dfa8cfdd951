import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { blake2b256 } from "@phala-ts/primitives";
import { NodeCache } from "./node-cache.ts";
import { StoredRef } from "./node-source.ts";

const hashOf = (i: number) => blake2b256(Uint8Array.of(i & 0xff, i >> 8));
const bytesOf = (i: number) => new Uint8Array(1 + (i % 90)).fill(i & 0xff);

function read(cache: NodeCache, hash: Uint8Array): Uint8Array | null {
  const e = cache.find(hash, 0);
  if (e < 0) return null;
  const ref = new StoredRef();
  cache.fill(e, ref);
  return ref.buf.slice(ref.off, ref.off + ref.len);
}

test("node cache: property: hits return the bytes added, deletes stick, size stays within capacity", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), i: fc.nat(40) }),
    fc.record({ kind: fc.constant("find" as const), i: fc.nat(40) }),
    fc.record({ kind: fc.constant("delete" as const), i: fc.nat(40) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
      const cache = new NodeCache(capacity, 1024);
      const present = new Set<number>();
      for (const { kind, i } of ops) {
        const h = hashOf(i);
        if (kind === "add") {
          // Hashes may sit inside a larger array, as child references do.
          const framed = new Uint8Array(40);
          framed.set(h, 5);
          cache.add(framed, 5, bytesOf(i), 0, bytesOf(i).length);
          present.add(i);
          assert.deepEqual(read(cache, h), bytesOf(i), "just added");
        } else if (kind === "delete") {
          cache.delete(h, 0);
          present.delete(i);
          assert.equal(read(cache, h), null, "deleted");
        } else {
          const got = read(cache, h);
          if (got !== null) assert.deepEqual(got, bytesOf(i));
          if (!present.has(i)) assert.equal(got, null, "never added (or deleted) is never found");
        }
        assert.ok(cache.size <= capacity);
      }
    }),
    { seed: 7, numRuns: 300 },
  );
});

test("node cache: grows to its capacity, then evicts what was not read since the hand last passed", () => {
  const cache = new NodeCache(3000, 1024);
  for (let i = 0; i < 3000; i++) cache.add(hashOf(i), 0, bytesOf(i), 0, bytesOf(i).length);
  assert.equal(cache.size, 3000);
  for (let i = 0; i < 3000; i++) assert.deepEqual(read(cache, hashOf(i)), bytesOf(i));
  for (let i = 0; i < 3000; i += 2) cache.delete(hashOf(i), 0);
  assert.equal(cache.size, 1500);
  for (let i = 0; i < 3000; i++) assert.equal(read(cache, hashOf(i)) !== null, i % 2 === 1);
  // Refill the freed entries, then one more: the first entry not used since the hand passed goes.
  for (let i = 3000; i < 4500; i++) cache.add(hashOf(i), 0, bytesOf(i), 0, bytesOf(i).length);
  assert.equal(cache.size, 3000);
  cache.add(hashOf(5000), 0, bytesOf(5000), 0, bytesOf(5000).length);
  assert.equal(cache.size, 3000);
  let found = 0;
  for (let i = 0; i < 4500; i++) if (read(cache, hashOf(i)) !== null) found++;
  assert.equal(found, 2999);
  assert.deepEqual(read(cache, hashOf(5000)), bytesOf(5000));
});
