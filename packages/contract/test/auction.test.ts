import { test } from "node:test";
import assert from "node:assert/strict";
import { buildExample } from "./examples.ts";
import { ALICE, BOB, CHARLIE, DAVE, EVE, contractError, FakeContractHost, ok } from "./fake-host.ts";

const SELLER = DAVE;
const END_BLOCK = 100;

async function auction(): Promise<FakeContractHost> {
  const c = new FakeContractHost((await buildExample("auction")).code);
  c.blockNumber = 10;
  ok(c.init({ seller: SELLER, endBlock: END_BLOCK }, SELLER));
  return c;
}

const myBid = (c: FakeContractHost, who: string): unknown => ok(c.query({ op: "myBid" }, who));
const bidAt = (c: FakeContractHost, block: number, who: string, amount: string | number) => {
  c.blockNumber = block;
  return c.handle({ op: "bid", amount }, who);
};

test("bids stay secret: each bidder sees only their own, the result is hidden until closed", async () => {
  const c = await auction();
  ok(bidAt(c, 20, ALICE, "500"));
  ok(bidAt(c, 30, BOB, 700));
  ok(bidAt(c, 40, CHARLIE, "700"));
  assert.deepEqual(myBid(c, ALICE), { amount: "500" });
  assert.deepEqual(myBid(c, BOB), { amount: "700" });
  assert.deepEqual(myBid(c, EVE), { amount: null });
  assert.deepEqual(myBid(c, SELLER), { amount: null });
  // Asking about someone else still answers only for the signer.
  assert.deepEqual(ok(c.query({ op: "myBid", bidder: BOB }, ALICE)), { amount: "500" });
  for (const who of [ALICE, BOB, SELLER, EVE]) {
    assert.deepEqual(ok(c.query({ op: "result" }, who)), { closed: false, endBlock: END_BLOCK });
  }
  // Stored bids have one width, so their size does not hint at the amounts.
  const widths = new Set([...c.storage].filter(([k]) => k.startsWith("bid/")).map(([, v]) => v.length));
  assert.equal(widths.size, 1);
});

test("close before the end is refused; bids at or after the end are refused; anyone closes after", async () => {
  const c = await auction();
  ok(bidAt(c, 20, ALICE, "500"));
  ok(bidAt(c, 30, BOB, "700"));
  ok(bidAt(c, 40, CHARLIE, "700"));
  c.blockNumber = 99;
  assert.match(contractError(c.handle({ op: "close" }, EVE)), /bidding is open until block 100/);
  assert.match(contractError(bidAt(c, 100, EVE, "10000")), /bidding ended at block 100/);
  assert.match(contractError(bidAt(c, 150, ALICE, "10000")), /bidding ended at block 100/);
  assert.deepEqual(myBid(c, ALICE), { amount: "500" }, "the late bid changed nothing");

  c.blockNumber = 100;
  const closed = c.handle({ op: "close" }, EVE);
  assert.ok(closed.ok);
  // Tie at 700: Bob bid first and wins, at his price.
  assert.deepEqual(closed.value, { winner: BOB, price: "700" });
  assert.deepEqual(closed.events, [{ to: EVE, topic: "closed", data: { winner: BOB, price: "700" } }]);
  for (const who of [ALICE, BOB, CHARLIE, SELLER, EVE]) {
    const result = ok(c.query({ op: "result" }, who));
    assert.deepEqual(result, { closed: true, winner: BOB, price: "700" });
    assert.ok(!JSON.stringify(result).includes("500"), "losing bids are never published");
  }
  assert.match(contractError(c.handle({ op: "close" }, ALICE)), /already closed/);
  assert.match(contractError(bidAt(c, 101, ALICE, "1")), /bidding ended/);
  assert.deepEqual(myBid(c, CHARLIE), { amount: "700" });
});

test("ties go to the earliest bid; changing a bid places it anew, repeating it does not", async () => {
  const c = await auction();
  ok(bidAt(c, 20, ALICE, "700"));
  ok(bidAt(c, 21, BOB, "700"));
  ok(bidAt(c, 22, ALICE, "700")); // same amount: keeps its place
  c.blockNumber = 100;
  assert.deepEqual(ok(c.handle({ op: "close" }, EVE)), { winner: ALICE, price: "700" });

  const d = await auction();
  ok(bidAt(d, 20, ALICE, "700"));
  ok(bidAt(d, 21, BOB, "700"));
  ok(bidAt(d, 22, ALICE, "650"));
  ok(bidAt(d, 23, ALICE, "700")); // placed anew, after Bob
  d.blockNumber = 100;
  assert.deepEqual(ok(d.handle({ op: "close" }, EVE)), { winner: BOB, price: "700" });

  const e = await auction();
  ok(bidAt(e, 20, ALICE, "1"));
  ok(bidAt(e, 21, BOB, (2n ** 100n).toString()));
  ok(bidAt(e, 22, CHARLIE, (2n ** 100n - 1n).toString()));
  e.blockNumber = 100;
  assert.deepEqual(ok(e.handle({ op: "close" }, EVE)), { winner: BOB, price: (2n ** 100n).toString() });
});

test("an auction without bids closes with no winner", async () => {
  const c = await auction();
  c.blockNumber = 200;
  assert.deepEqual(ok(c.handle({ op: "close" }, ALICE)), { winner: null, price: null });
  assert.deepEqual(ok(c.query({ op: "result" }, BOB)), { closed: true, winner: null, price: null });
});

test("bad inits and bids are refused with their reason", async () => {
  const code = (await buildExample("auction")).code;
  const fresh = new FakeContractHost(code);
  fresh.blockNumber = 50;
  assert.match(contractError(fresh.init({ seller: SELLER, endBlock: 50 }, SELLER)), /endBlock must be in the future/);
  assert.match(contractError(fresh.init({ seller: SELLER, endBlock: "60" }, SELLER)), /endBlock must be a block number/);
  assert.match(contractError(fresh.init({ seller: "dave", endBlock: 60 }, SELLER)), /seller must be an account id/);
  assert.match(contractError(fresh.handle({ op: "bid", amount: 1 }, ALICE)), /not initialised/);

  const c = await auction();
  assert.match(contractError(c.init({ seller: SELLER, endBlock: 500 }, SELLER)), /already initialised/);
  assert.match(contractError(bidAt(c, 20, SELLER, "900")), /the seller cannot bid/);
  assert.match(contractError(bidAt(c, 20, ALICE, "0")), /greater than zero/);
  assert.match(contractError(bidAt(c, 20, ALICE, "-3")), /non-negative decimal integer/);
  assert.match(contractError(bidAt(c, 20, ALICE, 2.5)), /whole number/);
  assert.match(contractError(c.handle({ op: "withdraw" }, ALICE)), /unknown command "withdraw"/);
  assert.match(contractError(c.query({ op: "bids" }, ALICE)), /unknown query "bids"/);
  assert.equal([...c.storage.keys()].some((k) => k.startsWith("bid/")), false);
});
