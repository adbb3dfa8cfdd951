import { test } from "node:test";
import assert from "node:assert/strict";
import { T } from "../types/index.ts";
import { StateOverlay } from "./overlay.ts";
import { appendToVecValue, palletStorage, vecValueLength } from "./storage-item.ts";

const Entry = T.struct(["test", "Entry"], { id: T.u32, data: T.bytes });
const List = T.vec(Entry);
const Store = palletStorage("Test");
const Items = Store.value("Items", List, { default: [] });

test("appending to a stored Vec gives the bytes of storing the whole Vec, across every length-prefix width", () => {
  const state = new StateOverlay({ get: () => undefined });
  const all: { id: number; data: Uint8Array }[] = [];
  assert.equal(vecValueLength(state, Items), 0);
  // 64 and 16,384 elements are where the compact length prefix grows from 1 to 2 and 2 to 4 bytes.
  for (let i = 0; i < 16_390; i++) {
    const e = { id: i, data: new Uint8Array(i % 3).fill(i & 0xff) };
    all.push(e);
    assert.equal(appendToVecValue(state, Items, Entry, e), all.length);
    if ([1, 63, 64, 65, 16_383, 16_384, 16_385].includes(all.length)) {
      assert.deepEqual(state.get(Items.key()), List.codec.enc(all), `after ${all.length}`);
      assert.equal(vecValueLength(state, Items), all.length);
    }
  }
  assert.deepEqual(Items.get(state), all);
});

test("appends in nested transactional layers, rolled back or committed and mixed with writes, read as if the whole value were stored", () => {
  const base = new Map<string, Uint8Array>();
  const keys = [Store.value("A", List, { default: [] }), Store.value("B", List, { default: [] })];
  base.set(Buffer.from(keys[1].key()).toString("latin1"), List.codec.enc([{ id: 7, data: Uint8Array.of(7) }]));
  const backend = { get: (k: Uint8Array) => base.get(Buffer.from(k).toString("latin1")) };
  const fast = new StateOverlay(backend);
  // The oracle: the same overlay seen only through get/set/delete, so appends re-encode the whole value.
  const slowOverlay = new StateOverlay(backend);
  const slow = { get: (k: Uint8Array) => slowOverlay.get(k), set: (k: Uint8Array, v: Uint8Array) => slowOverlay.set(k, v), delete: (k: Uint8Array) => slowOverlay.delete(k) };
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 8) % n;
  };
  for (let step = 0; step < 5000; step++) {
    const item = keys[rand(2)];
    const op = rand(10);
    if (op < 5) {
      const e = { id: step, data: new Uint8Array(rand(4)).fill(step & 0xff) };
      assert.equal(appendToVecValue(fast, item, Entry, e), appendToVecValue(slow, item, Entry, e));
    } else if (op === 5 && fast.depth < 4) {
      fast.begin();
      slowOverlay.begin();
    } else if (op === 6 && fast.depth > 1) {
      fast.commit();
      slowOverlay.commit();
    } else if (op === 7 && fast.depth > 1) {
      fast.rollback();
      slowOverlay.rollback();
    } else if (op === 8 && rand(8) === 0) {
      const v = List.codec.enc([{ id: -step >>> 0, data: new Uint8Array(0) }]);
      fast.set(item.key(), v);
      slowOverlay.set(item.key(), v);
    } else if (op === 9 && rand(8) === 0) {
      fast.delete(item.key());
      slowOverlay.delete(item.key());
    }
    assert.deepEqual(fast.get(item.key()), slowOverlay.get(item.key()), `step ${step}`);
    assert.equal(vecValueLength(fast, item), vecValueLength(slow, item));
  }
  while (fast.depth > 1) {
    fast.commit();
    slowOverlay.commit();
  }
  const changes = (o: StateOverlay) => [...o.changes()].map(([k, v]) => [k, v.value]).sort();
  assert.deepEqual(changes(fast), changes(slowOverlay));
});
