import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount, utf8, verifyEd25519 } from "@phala-ts/primitives";
import { egressSigningPayload, type MessageValue } from "@phala-ts/runtime/phala";
import { Dispatcher } from "../src/dispatcher.ts";
import { EgressQueue } from "../src/egress.ts";
import { silentLogger } from "../src/logger.ts";
import { EGRESS_PENDING_PER_ORIGIN_MAX } from "../src/limits.ts";

const genesis = new Uint8Array(32).fill(9);
const key = devAccount("Alice", "ed25519");
const me = { tag: "Worker" as const, value: key.publicKey };
const gk = { tag: "Gatekeeper" as const };
const msg = (sender: MessageValue["sender"], s: string): MessageValue => ({ sender, destination: utf8("t"), payload: utf8(s) });

test("worker egress is numbered from 0, signed, and purged as the chain accepts it", () => {
  const q = new EgressQueue(genesis, [me, gk], silentLogger);
  for (const s of ["a", "b", "c"]) q.push(msg(me, s), q.nextSequence(me), (p) => key.sign(p));
  const pending = q.pending();
  assert.deepEqual(pending.map((m) => m.sequence), [0n, 1n, 2n]);
  for (const m of pending) assert.ok(verifyEd25519(key.publicKey, egressSigningPayload(genesis, m.message, m.sequence), m.signature));
  // The chain carries the first two (sequence is not part of the carried message).
  assert.equal(q.observe(msg(me, "a")), true);
  assert.equal(q.observe(msg(me, "b")), true);
  assert.equal(q.observe(msg({ tag: "Worker", value: new Uint8Array(32) }, "x")), false, "another worker's message is not ours");
  assert.deepEqual(q.pending().map((m) => m.sequence), [2n]);
  assert.equal(q.nextSequence(me), 3n);
  // Snapshots restore the same queue.
  const restored = new EgressQueue(genesis, [me, gk], silentLogger, q.snapshot());
  assert.deepEqual(restored.pending(), q.pending());
  assert.equal(restored.chainCount(me), 2n);
});

test("replicated gatekeeper egress may skip sequences and never re-queues what the chain holds", () => {
  const q = new EgressQueue(genesis, [me, gk], silentLogger);
  q.observe(msg(gk, "from another gatekeeper"));
  q.observe(msg(gk, "from another gatekeeper"));
  assert.equal(q.push(msg(gk, "late"), 1n, (p) => key.sign(p)), undefined, "sequence 1 is already on chain");
  assert.ok(q.push(msg(gk, "new"), 5n, (p) => key.sign(p)));
  assert.deepEqual(q.pending().map((m) => m.sequence), [5n]);
  assert.throws(() => q.push(msg(gk, "old"), 4n, (p) => key.sign(p)), /only grow/);
});

test("the dispatcher routes by topic and counts what nobody handles", () => {
  const d = new Dispatcher();
  const seen: string[] = [];
  d.on("a/b", (m, b) => {
    seen.push(`${Buffer.from(m.payload).toString()}@${b.number}:${b.timestampMs}`);
  });
  assert.throws(() => d.on("a/b", () => {}), /already registered/);
  assert.equal(d.dispatch({ sender: gk, destination: utf8("a/b"), payload: utf8("x") }, { number: 7, timestampMs: 70n }), true);
  assert.equal(d.dispatch({ sender: gk, destination: utf8("c"), payload: utf8("y") }, { number: 8, timestampMs: 80n }), false);
  assert.deepEqual(seen, ["x@7:70"]);
  assert.equal(d.unrouted, 1);
});

test("a message refused by a full queue gives its sequence back, so the next one is what the chain expects", () => {
  const q = new EgressQueue(genesis, [me, gk], silentLogger);
  // Signing is the caller's; a constant signature keeps filling the queue cheap.
  const sign = (): Uint8Array => new Uint8Array(64);
  for (let i = 0; i < EGRESS_PENDING_PER_ORIGIN_MAX; i++) assert.ok(q.push(msg(me, `m${i}`), q.nextSequence(me), sign));
  const full = BigInt(EGRESS_PENDING_PER_ORIGIN_MAX);
  assert.equal(q.push(msg(me, "refused"), q.nextSequence(me), sign), undefined, "the queue is full");
  assert.equal(q.snapshot().find((s) => s.origin.tag === "Worker")?.dropped, 1n);
  assert.equal(q.nextSequence(me), full, "the refused message did not use up its sequence");
  // pHost submits everything pending; the chain accepts them in order and expects `full` next.
  for (let i = 0; i < EGRESS_PENDING_PER_ORIGIN_MAX; i++) q.observe(msg(me, `m${i}`));
  assert.equal(q.chainCount(me), full);
  const next = q.push(msg(me, "after"), q.nextSequence(me), (p) => key.sign(p));
  assert.equal(next?.sequence, full, "the next message carries the sequence the chain expects");
  assert.deepEqual(q.pending().map((m) => m.sequence), [full]);
});
