import { T, type Infer } from "../../types/index.ts";
import { AccountId32 } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { depositPalletEvent, moduleError } from "../../pallet/define-pallet.ts";
import type { DispatchContext, DispatchErrorValue } from "../../pallet/context.ts";

export const BALANCES_INDEX = 2;

export const BalancesEvent = T.enumeration(["pallet_balances", "pallet", "Event"], {
  Endowed: { index: 0, fields: { account: AccountId32, free_balance: T.u128 }, docs: ["An account was created with some free balance."] },
  DustLost: { index: 1, fields: { account: AccountId32, amount: T.u128 }, docs: ["An account was removed whose balance was non-zero but below ExistentialDeposit."] },
  Transfer: { index: 2, fields: { from: AccountId32, to: AccountId32, amount: T.u128 }, docs: ["Transfer succeeded."] },
  BalanceSet: { index: 3, fields: { who: AccountId32, free: T.u128 }, docs: ["A balance was set by root."] },
  Reserved: { index: 4, fields: { who: AccountId32, amount: T.u128 }, docs: ["Some balance was reserved (moved from free to reserved)."] },
  Unreserved: { index: 5, fields: { who: AccountId32, amount: T.u128 }, docs: ["Some balance was unreserved (moved from reserved to free)."] },
  Deposit: { index: 7, fields: { who: AccountId32, amount: T.u128 }, docs: ["Some amount was deposited (e.g. for transaction fees)."] },
  Withdraw: { index: 8, fields: { who: AccountId32, amount: T.u128 }, docs: ["Some amount was withdrawn from the account (e.g. for transaction fees)."] },
});
export type BalancesEventValue = Infer<typeof BalancesEvent>;

const s = palletStorage("Balances");
export const BalancesStorage = {
  TotalIssuance: s.value("TotalIssuance", T.u128, { default: 0n, docs: ["The total units issued in the system."] }),
  InactiveIssuance: s.value("InactiveIssuance", T.u128, { default: 0n, docs: ["The total units of outstanding deactivated balance in the system."] }),
};

export const BalancesErrors = [
  "VestingBalance",
  "LiquidityRestrictions",
  "InsufficientBalance",
  "ExistentialDeposit",
  "Expendability",
  "ExistingVestingSchedule",
  "DeadAccount",
  "TooManyReserves",
] as const;


export function emitBalances(ctx: DispatchContext, e: BalancesEventValue): void {
  depositPalletEvent(ctx, BALANCES_INDEX, BalancesEvent, e);
}

export function balancesError(name: (typeof BalancesErrors)[number]): DispatchErrorValue {
  return moduleError(BALANCES_INDEX, BalancesErrors, name);
}
