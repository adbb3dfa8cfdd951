import { laneNextSequence } from "@phala-ts/runtime/phala";
import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, devAccount, toHex } from "@phala-ts/primitives";
import { BlockBuilder, PHA, SystemStorage } from "@phala-ts/runtime";
import { MockChain } from "../../../runtime/test/mock-chain.ts";
import { PoolError, TxPool, POOL_FUTURE_TX_COUNT_MAX, type TxStatus } from "./tx-pool.ts";

const alice = devAccount("Alice", "ed25519");
const bob = devAccount("Bob", "ed25519");

function setup() {
  const chain = new MockChain({ balances: [[alice.accountId, 1000n * PHA], [bob.accountId, 1000n * PHA]] });
  const pool = new TxPool({
    validate: (bytes) => new BlockBuilder(chain.runtime, chain.backend, { number: chain.number + 1, parentHash: chain.hashes[chain.number] }).validate(bytes),
    chainNonce: (who) => SystemStorage.Account.get(chain.backend, who).nonce,
    laneSequence: (lane) => laneNextSequence(chain.backend, lane),
    bestNumber: () => chain.number,
  });
  const transfer = (from: typeof alice, nonce: number, tip = 0n, amount = PHA) =>
    chain.sign(from, { tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: devAccount("Charlie").accountId }, value: amount } } }, nonce, { tip });
  return { chain, pool, transfer };
}

const rpcCode = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PoolError, String(e));
    return e.rpcCode;
  }
  return 0;
};

test("future nonces wait, fill in, and come out in nonce order per sender", () => {
  const { pool, transfer } = setup();
  assert.equal(pool.submit(transfer(alice, 2)).status, "future");
  assert.equal(pool.submit(transfer(alice, 1)).status, "future");
  assert.equal(pool.hasReady(), false);
  assert.equal(pool.submit(transfer(alice, 0)).status, "ready");
  const order = [...pool.readyForBlock()].map((t) => t.nonce);
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(pool.nextNonce(alice.accountId, 0), 3);
});

test("duplicates and stale transactions are refused; a higher tip replaces the same nonce", () => {
  const { pool, transfer } = setup();
  const tx = transfer(alice, 0);
  const statuses: TxStatus["type"][] = [];
  pool.submit(tx, (s) => statuses.push(s.type));
  assert.equal(rpcCode(() => pool.submit(tx)), 1013);
  assert.equal(rpcCode(() => pool.submit(transfer(alice, 0, 0n, 2n * PHA))), 1014);
  pool.submit(transfer(alice, 0, 5n, 3n * PHA));
  assert.deepEqual(statuses, ["ready", "usurped"]);
  assert.equal(pool.size, 1);
});

test("transactions with a higher tip are taken first across senders", () => {
  const { pool, transfer } = setup();
  pool.submit(transfer(alice, 0, 1n));
  pool.submit(transfer(bob, 0, 100n));
  pool.submit(transfer(alice, 1, 1000n));
  const order = [...pool.readyForBlock()].map((t) => `${t.who === toHex(bob.accountId) ? "bob" : "alice"}${t.nonce}`);
  // Alice's nonce 1 has the biggest tip but must wait for her nonce 0.
  assert.deepEqual(order, ["bob0", "alice0", "alice1"]);
});

test("included transactions are reported and stale ones dropped after a block", () => {
  const { chain, pool, transfer } = setup();
  const a0 = transfer(alice, 0);
  const a1 = transfer(alice, 1);
  const seen: string[] = [];
  pool.submit(a0, (s) => seen.push(`a0:${s.type}`));
  pool.submit(a1, (s) => seen.push(`a1:${s.type}`));
  chain.block([a0]);
  const hashes = [toHex(blake2b256(a0))];
  pool.onBlockFinalized({ hash: chain.hashes[1], number: 1, extrinsicHashes: hashes });
  assert.deepEqual(seen, ["a0:ready", "a1:ready", "a0:inBlock", "a0:finalized"]);
  assert.equal(pool.size, 1);
  assert.equal(rpcCode(() => pool.submit(a0)), 1013);
});

test("the future queue is bounded", () => {
  const { pool, transfer } = setup();
  for (let n = 1; n <= POOL_FUTURE_TX_COUNT_MAX; n++) pool.submit(transfer(alice, n));
  assert.equal(rpcCode(() => pool.submit(transfer(alice, POOL_FUTURE_TX_COUNT_MAX + 1))), 1016);
  assert.equal(pool.submit(transfer(alice, 0)).status, "ready");
});
