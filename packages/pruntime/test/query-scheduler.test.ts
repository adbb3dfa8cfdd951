import { test } from "node:test";
import assert from "node:assert/strict";
import { PruntimeError } from "../src/errors.ts";
import { QueryScheduler, sourceOfAddress, type QueryJob } from "../src/query-scheduler.ts";

/** A job that records its turn in `order` and answers its name. */
function job(order: string[], source: string, lane: string, name: string, extra: Partial<QueryJob> = {}): QueryJob {
  return {
    source,
    lane,
    cost: 1,
    bytes: 10,
    abandoned: () => false,
    run: () => {
      order.push(name);
      return new TextEncoder().encode(name);
    },
    ...extra,
  };
}

/**
 * Holds the scheduler's only worker until `release()`, so later submissions queue up behind it;
 * `started` resolves once it holds it.
 */
function blocker(order: string[]): { job: QueryJob; started: Promise<void>; release: () => void } {
  let release!: () => void;
  let running!: () => void;
  const gate = new Promise<Uint8Array>((resolve) => (release = () => resolve(new Uint8Array())));
  const started = new Promise<void>((resolve) => (running = resolve));
  const run = () => {
    running();
    return gate;
  };
  return { job: { ...job(order, "blocker", "", "blocker"), run }, started, release };
}

test("one account flooding does not delay another account's query behind its backlog", async () => {
  const order: string[] = [];
  const s = new QueryScheduler();
  const b = blocker(order);
  const all = [s.submit(b.job)];
  await b.started;
  for (let i = 0; i < 50; i++) all.push(s.submit(job(order, "10.0.0.1", "A", `A${i}`)));
  all.push(s.submit(job(order, "10.0.0.1", "B", "B0")));
  b.release();
  await Promise.all(all);
  // Round-robin between the lanes of one source: B runs right after A's first query, not after all 50.
  assert.ok(order.indexOf("B0") <= 2, `B0 ran at position ${order.indexOf("B0")} of ${order.join(",")}`);
});

test("sources take turns, and a batch is charged one turn per query", async () => {
  const order: string[] = [];
  const s = new QueryScheduler();
  const b = blocker(order);
  const all = [s.submit(b.job)];
  await b.started;
  // Source X sends batches of 8; source Y single queries.
  for (let i = 0; i < 4; i++) all.push(s.submit(job(order, "X", "a", `X${i}`, { cost: 8 })));
  for (let i = 0; i < 24; i++) all.push(s.submit(job(order, "Y", "b", `Y${i}`)));
  b.release();
  await Promise.all(all);
  const firstX1 = order.indexOf("X1");
  const ysBefore = order.slice(0, firstX1).filter((n) => n.startsWith("Y")).length;
  // X's first batch costs 8 turns: Y gets 8 queries in (as many) before X's second batch.
  assert.equal(ysBefore, 8, order.join(","));
});

test("a full queue refuses with clear codes, per source (429) and in total (503), and serves the rest", async () => {
  const order: string[] = [];
  const s = new QueryScheduler({ perSourceMax: 3, requestsMax: 5 });
  const b = blocker(order);
  const all = [s.submit(b.job)];
  await b.started;
  for (let i = 0; i < 3; i++) all.push(s.submit(job(order, "X", "a", `X${i}`)));
  await assert.rejects(s.submit(job(order, "X", "a", "X3")), (e: unknown) => e instanceof PruntimeError && e.code === "TOO_MANY_QUERIES");
  all.push(s.submit(job(order, "Y", "a", "Y0")), s.submit(job(order, "Z", "a", "Z0")));
  await assert.rejects(s.submit(job(order, "W", "a", "W0")), (e: unknown) => e instanceof PruntimeError && e.code === "QUERY_QUEUE_FULL");
  const bytes = new QueryScheduler({ bytesMax: 100 });
  const b2 = blocker(order);
  const held = bytes.submit(b2.job);
  await b2.started;
  const big = bytes.submit(job(order, "X", "a", "big", { bytes: 90 }));
  await assert.rejects(bytes.submit(job(order, "Y", "a", "more", { bytes: 20 })), (e: unknown) => e instanceof PruntimeError && e.code === "QUERY_QUEUE_FULL");
  b.release();
  b2.release();
  await Promise.all([...all, held, big]);
  assert.equal(s.queued, 0);
});

test("a query whose client left is dropped, one that waited too long is refused, and a failing one does not stop the queue", async () => {
  const order: string[] = [];
  let now = 0;
  const s = new QueryScheduler({ waitMaxMs: 100 }, () => now);
  const b = blocker(order);
  const all: Promise<unknown>[] = [s.submit(b.job)];
  await b.started;
  const gone = s.submit(job(order, "X", "a", "gone", { abandoned: () => true }));
  const late = s.submit(job(order, "Y", "a", "late"));
  now = 101;
  const failing = s.submit({
    ...job(order, "Z", "a", "fail"),
    run: () => {
      throw new PruntimeError("BAD_REQUEST", "nope");
    },
  });
  const fresh = s.submit(job(order, "W", "a", "fresh"));
  b.release();
  await assert.rejects(gone, (e: unknown) => e instanceof PruntimeError && e.code === "BAD_REQUEST");
  await assert.rejects(late, (e: unknown) => e instanceof PruntimeError && e.code === "QUERY_QUEUE_FULL");
  await assert.rejects(failing, (e: unknown) => e instanceof PruntimeError && e.message === "nope");
  assert.deepEqual(new TextDecoder().decode(await fresh), "fresh");
  await Promise.all(all);
  assert.deepEqual(order, ["fresh"]);
});

test("sources are addresses, IPv6 by /64", () => {
  assert.equal(sourceOfAddress("203.0.113.7"), "203.0.113.7");
  assert.equal(sourceOfAddress("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(sourceOfAddress("2001:db8:0:1:aaaa::1"), "2001:db8:0:1::/64");
  assert.equal(sourceOfAddress("2001:db8:0:1:bbbb:cccc:dddd:eeee"), "2001:db8:0:1::/64");
  assert.equal(sourceOfAddress("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(sourceOfAddress("::1"), "0:0:0:0::/64");
  assert.equal(sourceOfAddress(undefined), "unknown");
});
