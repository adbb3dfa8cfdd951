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
