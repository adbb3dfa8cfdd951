/**
 * The adversarial contracts are for the VM's limits (gas, memory), which the fake host
 * does not have; here they only need to build, answer `ping`, and misbehave as designed,
 * bounded by node:vm's timeout. The unbounded allocator is not run in this process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildExample } from "./examples.ts";
import { ALICE, contractError, FakeContractHost, ok } from "./fake-host.ts";

test("each adversarial contract answers ping", async () => {
  for (const name of ["adversarial/infinite-loop", "adversarial/unbounded-alloc", "adversarial/catastrophic-regex"] as const) {
    const c = new FakeContractHost((await buildExample(name)).code);
    assert.equal(ok(c.handle({ op: "ping" }, ALICE)), "pong", name);
    assert.equal(ok(c.query({ op: "ping" }, ALICE)), "pong", name);
  }
});

test("the infinite loops never return, and the interrupted call leaves no state", async () => {
  const c = new FakeContractHost((await buildExample("adversarial/infinite-loop")).code, { timeoutMs: 100 });
  for (const op of ["loop", "loopCatching"]) {
    const outcome = c.handle({ op }, ALICE);
    assert.equal(outcome.ok, false, op);
    assert.ok(!outcome.ok && outcome.kind === "trap" && /timed out/.test(outcome.message), op);
  }
  assert.equal(c.storage.size, 0, "the write before the loop was discarded");
  assert.equal(c.query({ op: "loop" }, ALICE).ok, false);
});

test("the catastrophic regex runs past any budget for large n and is refused for bad n", async () => {
  const c = new FakeContractHost((await buildExample("adversarial/catastrophic-regex")).code, { timeoutMs: 100 });
  assert.deepEqual(ok(c.handle({ op: "match", n: 8 }, ALICE)), { matched: false });
  const outcome = c.handle({ op: "match" }, ALICE);
  assert.ok(!outcome.ok && outcome.kind === "trap" && /timed out/.test(outcome.message));
  assert.match(contractError(c.handle({ op: "match", n: 65 }, ALICE)), /n must be a whole number from 1 to 64/);
});
