import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount } from "@phala-ts/primitives";
import { MockChain } from "../../../test/mock-chain.ts";
import { PHA, EXISTENTIAL_DEPOSIT } from "./constants.ts";
import { BalancesStorage } from "./events.ts";
import { SystemStorage } from "../system/pallet.ts";
import { TransactionInvalid } from "../../executive/validity.ts";
import { inclusionFee } from "../transaction-payment/fees.ts";
import { TRANSFER_WEIGHT } from "./constants.ts";

const alice = devAccount("Alice");
const bob = devAccount("Bob");
const charlie = devAccount("Charlie");
const dave = devAccount("Dave", "ed25519");

function chain() {
  return new MockChain({
    balances: [
      [alice.accountId, 1000n * PHA],
      [bob.accountId, 1000n * PHA],
      [dave.accountId, 1000n * PHA],
    ],
    sudoKey: alice.accountId,
  });
}

const transfer = (to: Uint8Array, amount: bigint, name = "transfer_keep_alive") => ({
  tag: "Balances",
  value: { tag: name, value: { dest: { tag: "Id", value: to }, value: amount } },
});

function free(c: MockChain, who: Uint8Array): bigint {
  return SystemStorage.Account.get(c.backend, who).data.free;
}

function eventNames(c: MockChain, builder: { events: { event: Uint8Array; phase: any }[] }, index: number): string[] {
  return builder.events
    .filter((e) => e.phase.tag === "ApplyExtrinsic" && e.phase.value === index)
    .map((e) => {
      const v = c.runtime.event.codec.dec(e.event);
      return `${v.tag}.${v.value.tag}`;
    });
}

test("transfer_keep_alive moves the exact amount and charges the fee", () => {
  const c = chain();
  const issuance = BalancesStorage.TotalIssuance.get(c.backend);
  const tx = c.sign(alice, transfer(bob.accountId, 5n * PHA), 0);
  const { builder, outcomes } = c.block([tx]);
  assert.deepEqual(outcomes, [{ success: true }]);
  const fee = inclusionFee(tx.length, TRANSFER_WEIGHT);
  assert.equal(free(c, alice.accountId), 1000n * PHA - 5n * PHA - fee);
  assert.equal(free(c, bob.accountId), 1005n * PHA);
  assert.equal(SystemStorage.Account.get(c.backend, alice.accountId).nonce, 1);
  assert.equal(BalancesStorage.TotalIssuance.get(c.backend), issuance - fee);
  assert.deepEqual(eventNames(c, builder, 1), [
    "Balances.Withdraw",
    "Balances.Transfer",
    "TransactionPayment.TransactionFeePaid",
    "System.ExtrinsicSuccess",
  ]);
});

test("an ed25519-signed transfer is accepted", () => {
  const c = chain();
  const { outcomes } = c.block([c.sign(dave, transfer(bob.accountId, PHA), 0)]);
  assert.deepEqual(outcomes, [{ success: true }]);
  assert.equal(free(c, bob.accountId), 1001n * PHA);
});

test("a failed dispatch still charges the fee, bumps the nonce and changes nothing else", () => {
  const c = chain();
  const tx = c.sign(alice, transfer(bob.accountId, 2000n * PHA), 0);
  const { builder, outcomes } = c.block([tx]);
  assert.equal(outcomes[0].success, false);
  assert.deepEqual((outcomes[0] as any).error, { tag: "Module", value: { index: 2, error: new Uint8Array([2, 0, 0, 0]) } });
  assert.equal(free(c, bob.accountId), 1000n * PHA);
  assert.equal(free(c, alice.accountId), 1000n * PHA - inclusionFee(tx.length, TRANSFER_WEIGHT));
  assert.equal(SystemStorage.Account.get(c.backend, alice.accountId).nonce, 1);
  assert.deepEqual(eventNames(c, builder, 1), ["Balances.Withdraw", "TransactionPayment.TransactionFeePaid", "System.ExtrinsicFailed"]);
});

test("invalid transactions are refused with Substrate's reasons and leave the block untouched", () => {
  const c = chain();
  const good = c.sign(alice, transfer(bob.accountId, PHA), 0);
  const tampered = good.slice();
  tampered[tampered.length - 1] ^= 1;
  const cases: Array<[Uint8Array, string]> = [
    [tampered, "Transaction has a bad signature"],
    [c.sign(alice, transfer(bob.accountId, PHA), 5), "Transaction will be valid in the future"],
    [c.sign(charlie, transfer(bob.accountId, PHA), 0), "Inability to pay some fees"],
    [new Uint8Array([1, 2, 3, 4]), "could not decode"],
  ];
  const before = new Map(c.state);
  for (const [tx, text] of cases) {
    assert.throws(
      () => c.block([tx]),
      (e: unknown) => e instanceof TransactionInvalid && e.message.includes(text),
      text,
    );
    c.state.clear();
    for (const [k, v] of before) c.state.set(k, v);
    c.number = 0;
    c.hashes = c.hashes.slice(0, 1);
  }
  c.block([good]);
  assert.throws(() => c.block([good]), (e: unknown) => e instanceof TransactionInvalid && e.message.includes("Transaction is outdated"));
});

test("existential deposit: new accounts need it, keep_alive refuses to reap, allow_death reaps", () => {
  const c = chain();
  const small = c.sign(alice, transfer(charlie.accountId, EXISTENTIAL_DEPOSIT - 1n), 0);
  const r1 = c.block([small]).outcomes[0];
  assert.deepEqual((r1 as any).error, { tag: "Module", value: { index: 2, error: new Uint8Array([3, 0, 0, 0]) } });

  const all = free(c, bob.accountId);
  const keep = c.sign(bob, transfer(charlie.accountId, all - EXISTENTIAL_DEPOSIT / 2n), 0);
  const r2 = c.block([keep]).outcomes[0];
  assert.deepEqual((r2 as any).error, { tag: "Module", value: { index: 2, error: new Uint8Array([4, 0, 0, 0]) } });

  const fee = c.sign(bob, transfer(charlie.accountId, 1n, "transfer_allow_death"), 1).length;
  const bobFree = free(c, bob.accountId);
  const amount = bobFree - inclusionFee(fee, TRANSFER_WEIGHT) - EXISTENTIAL_DEPOSIT / 2n;
  const { builder, outcomes } = c.block([c.sign(bob, transfer(charlie.accountId, amount, "transfer_allow_death"), 1)]);
  assert.deepEqual(outcomes, [{ success: true }]);
  assert.equal(SystemStorage.Account.exists(c.backend, bob.accountId), false, "Bob is reaped");
  const names = eventNames(c, builder, 1);
  assert.ok(names.includes("System.KilledAccount") && names.includes("Balances.DustLost") && names.includes("System.NewAccount"), names.join());
});

test("sudo dispatches root calls for the key holder only", () => {
  const c = chain();
  const setBalance = {
    tag: "Balances",
    value: { tag: "force_set_balance", value: { who: { tag: "Id", value: charlie.accountId }, new_free: 7n * PHA } },
  };
  const bySudo = c.sign(alice, { tag: "Sudo", value: { tag: "sudo", value: { call: setBalance } } }, 0);
  const byBob = c.sign(bob, { tag: "Sudo", value: { tag: "sudo", value: { call: setBalance } } }, 0);
  const direct = c.sign(bob, setBalance, 1);
  const { outcomes } = c.block([bySudo, byBob, direct]);
  assert.equal(outcomes[0].success, true);
  assert.equal(free(c, charlie.accountId), 7n * PHA);
  assert.deepEqual((outcomes[1] as any).error, { tag: "Module", value: { index: 4, error: new Uint8Array([0, 0, 0, 0]) } });
  assert.deepEqual((outcomes[2] as any).error, { tag: "BadOrigin", value: undefined });
});
