import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount, toHex } from "@phala-ts/primitives";
import { SystemStorage } from "../pallets/system/pallet.ts";
import { BalancesStorage } from "../pallets/balances/events.ts";
import { TimestampStorage } from "../pallets/timestamp/pallet.ts";
import { SudoStorage } from "../pallets/sudo/pallet.ts";
import { TransactionPaymentStorage } from "../pallets/transaction-payment/pallet.ts";

// Keys as Substrate computes them (twox128(pallet) ++ twox128(item) ++ hasher(key)); the
// System.Account key of //Alice is the one every Substrate chain and explorer uses.
test("storage keys match Substrate's, byte for byte", () => {
  const alice = devAccount("Alice").accountId;
  assert.equal(
    toHex(SystemStorage.Account.key(alice)),
    "0x26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9de1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
  );
  assert.equal(toHex(SystemStorage.Number.key()), "0x26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac");
  assert.equal(toHex(SystemStorage.ParentHash.key()), "0x26aa394eea5630e07c48ae0c9558cef78a42f33323cb5ced3b44dd825fda9fcc");
  assert.equal(toHex(SystemStorage.BlockHash.key(0)), "0x26aa394eea5630e07c48ae0c9558cef7a44704b568d21667356a5a050c118746b4def25cfda6ef3a00000000");
  assert.equal(toHex(BalancesStorage.TotalIssuance.key()), "0xc2261276cc9d1f8598ea4b6a74b15c2f57c875e4cff74148e4628f264b974c80");
  assert.equal(toHex(TimestampStorage.Now.key()), "0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb");
  assert.equal(toHex(SudoStorage.Key.key()), "0x5c0d1176a568c1f92944340dbfed9e9c530ebca703c85910e7164cb7d1c9e47b");
  assert.equal(toHex(TransactionPaymentStorage.NextFeeMultiplier.key()), "0x3f1467a096bcd71a5b6a0c8155e208103f2edf3bdf381debe331ab7446addfdc");
});
