import { test } from "node:test";
import assert from "node:assert/strict";

test("decoding a Node Buffer that is a view into a pooled ArrayBuffer reads its own bytes", async () => {
  const { T } = await import("./index.ts");
  const pooled = Buffer.from([0xe8, 3, 0, 0, 0, 0, 0, 0]);
  assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.length, "Node pools small Buffers");
  assert.equal(T.u64.codec.dec(pooled), 1000n);
});
