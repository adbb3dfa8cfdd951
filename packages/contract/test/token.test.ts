import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildExample } from "./examples.ts";
import { ALICE, BOB, CHARLIE, DAVE, contractError, FakeContractHost, ok } from "./fake-host.ts";

const SUPPLY = "1000000000000000000000"; // 10^21: beyond 2^53, so arithmetic must be exact

async function token(supply: string | number = SUPPLY): Promise<FakeContractHost> {
  const c = new FakeContractHost((await buildExample("token")).code);
  ok(c.init({ owner: ALICE, supply }, ALICE));
  return c;
}

const balance = (c: FakeContractHost, who: string): string => (ok(c.query({ op: "balance" }, who)) as { balance: string }).balance;

/** Sum of every stored balance, read straight from storage. */
function storedSum(c: FakeContractHost): bigint {
  let sum = 0n;
  for (const [k, v] of c.storage) if (k.startsWith("balance/")) sum += BigInt(JSON.parse(v) as string);
  return sum;
}

test("init mints the supply to the owner; total supply is public", async () => {
  const c = await token();
  assert.equal(balance(c, ALICE), SUPPLY);
  assert.equal(balance(c, BOB), "0");
  assert.deepEqual(ok(c.query({ op: "totalSupply" }, BOB)), { totalSupply: SUPPLY });
  assert.match(contractError(c.init({ owner: BOB, supply: 5 }, BOB)), /already initialised/);
  const fresh = new FakeContractHost((await buildExample("token")).code);
  assert.match(contractError(fresh.init({ owner: "alice", supply: 5 }, ALICE)), /owner must be an account id/);
  assert.match(contractError(fresh.init({ owner: ALICE, supply: -5 }, ALICE)), /supply must be a whole number/);
});

test("each holder sees only their own balance; transfers move exact amounts", async () => {
  const c = await token();
  assert.deepEqual(ok(c.handle({ op: "transfer", to: BOB, amount: "300000000000000000001" }, ALICE)), { balance: "699999999999999999999" });
  assert.deepEqual(ok(c.handle({ op: "transfer", to: CHARLIE, amount: 7 }, BOB)), { balance: "299999999999999999994" });
  assert.equal(balance(c, ALICE), "699999999999999999999");
  assert.equal(balance(c, BOB), "299999999999999999994");
  assert.equal(balance(c, CHARLIE), "7");
  assert.equal(balance(c, DAVE), "0");
  // Bob's view names no one else's balance, whatever he asks.
  const bobView = JSON.stringify(ok(c.query({ op: "balance", account: ALICE, of: ALICE }, BOB)));
  assert.equal(bobView, JSON.stringify({ balance: "299999999999999999994" }));
  assert.equal(storedSum(c), BigInt(SUPPLY));
  // Stored balances are fixed-width, so their size does not hint at the amount.
  const widths = new Set([...c.storage].filter(([k]) => k.startsWith("balance/")).map(([, v]) => v.length));
  assert.equal(widths.size, 1);
});

test("transfer events go to the sender only", async () => {
  const c = await token();
  const outcome = c.handle({ op: "transfer", to: BOB, amount: "5" }, ALICE);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.events, [{ to: ALICE, topic: "transfer", data: { to: BOB, amount: "5" } }]);
});

test("bad transfers are refused with their reason and change nothing", async () => {
  const c = await token("1000");
  const before = new Map(c.storage);
  const refuse = (command: unknown, from: string, message: RegExp): void => {
    assert.match(contractError(c.handle(command, from)), message);
    assert.deepEqual(c.storage, before);
  };
  refuse({ op: "transfer", to: ALICE, amount: 1 }, BOB, /insufficient balance/);
  refuse({ op: "transfer", to: BOB, amount: "1001" }, ALICE, /insufficient balance/);
  refuse({ op: "transfer", to: BOB, amount: "-1" }, ALICE, /non-negative decimal integer/);
  refuse({ op: "transfer", to: BOB, amount: -1 }, ALICE, /whole number from 0 to 2\^53/);
  refuse({ op: "transfer", to: BOB, amount: 1.5 }, ALICE, /whole number/);
  refuse({ op: "transfer", to: BOB, amount: 2 ** 53 + 2 }, ALICE, /whole number from 0 to 2\^53/);
  refuse({ op: "transfer", to: BOB, amount: "1e3" }, ALICE, /decimal integer/);
  refuse({ op: "transfer", to: BOB, amount: "0012" }, ALICE, /decimal integer/);
  refuse({ op: "transfer", to: BOB, amount: (2n ** 128n).toString() }, ALICE, /larger than 2\^128 - 1/);
  refuse({ op: "transfer", to: BOB, amount: "9".repeat(80) }, ALICE, /larger than 2\^128 - 1/);
  refuse({ op: "transfer", to: BOB, amount: 0 }, ALICE, /greater than zero/);
  refuse({ op: "transfer", to: BOB }, ALICE, /amount must be a decimal string/);
  refuse({ op: "transfer", to: BOB.toUpperCase(), amount: 1 }, ALICE, /to must be an account id/);
  refuse({ op: "mint", to: BOB, amount: 1 }, ALICE, /unknown command "mint"/);
  assert.match(contractError(c.query({ op: "transfer", to: BOB, amount: 1 }, ALICE)), /unknown query/);
  // A transfer to oneself keeps the balance.
  assert.deepEqual(ok(c.handle({ op: "transfer", to: ALICE, amount: 10 }, ALICE)), { balance: "1000" });
  assert.equal(storedSum(c), 1000n);
});

test("the largest supply works and transfers of it cannot overflow", async () => {
  const max = (2n ** 128n - 1n).toString();
  const c = await token(max);
  ok(c.handle({ op: "transfer", to: BOB, amount: max }, ALICE));
  assert.equal(balance(c, BOB), max);
  assert.equal(balance(c, ALICE), "0");
  ok(c.handle({ op: "transfer", to: ALICE, amount: "1" }, BOB));
  assert.equal(storedSum(c), 2n ** 128n - 1n);
});

test("property: any sequence of transfers conserves the supply and never makes a balance negative", async () => {
  const code = (await buildExample("token")).code;
  const accounts = [ALICE, BOB, CHARLIE, DAVE];
  const transfer = fc.record({ from: fc.integer({ min: 0, max: 3 }), to: fc.integer({ min: 0, max: 3 }), amount: fc.bigInt({ min: 0n, max: 2000n }) });
  fc.assert(
    fc.property(fc.array(transfer, { maxLength: 12 }), (transfers) => {
      const c = new FakeContractHost(code);
      ok(c.init({ owner: ALICE, supply: "1000" }, ALICE));
      const model = new Map<string, bigint>([[ALICE, 1000n]]);
      for (const t of transfers) {
        const from = accounts[t.from] as string;
        const to = accounts[t.to] as string;
        const have = model.get(from) ?? 0n;
        const outcome = c.handle({ op: "transfer", to, amount: t.amount.toString() }, from);
        if (t.amount === 0n || have < t.amount) {
          assert.equal(outcome.ok, false);
        } else {
          assert.ok(outcome.ok);
          model.set(from, have - t.amount);
          model.set(to, (model.get(to) ?? 0n) + t.amount);
        }
        assert.equal(storedSum(c), 1000n);
      }
      for (const a of accounts) assert.equal(balance(c, a), (model.get(a) ?? 0n).toString());
    }),
    { numRuns: 40 },
  );
});
