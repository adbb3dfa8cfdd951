import { T, type Infer } from "../../types/index.ts";
import { AccountId32, MultiAddress } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { call, definePallet } from "../../pallet/define-pallet.ts";
import { EXISTENTIAL_DEPOSIT, FORCE_WEIGHT, SET_BALANCE_WEIGHT, TRANSFER_WEIGHT } from "./constants.ts";
import { forceSetBalance, lookupAddress, transfer, transferAll } from "./logic.ts";
import { BALANCES_INDEX, BalancesErrors, BalancesEvent, BalancesStorage } from "./events.ts";

export const Balances = definePallet({
  name: "Balances",
  index: BALANCES_INDEX,
  crate: "pallet_balances",
  storage: [BalancesStorage.TotalIssuance, BalancesStorage.InactiveIssuance],
  events: BalancesEvent,
  errors: BalancesErrors,
  constants: {
    ExistentialDeposit: { type: T.u128, value: EXISTENTIAL_DEPOSIT, docs: ["The minimum amount required to keep an account open."] },
    MaxLocks: { type: T.u32, value: 50 },
    MaxReserves: { type: T.u32, value: 50 },
  },
  calls: {
    transfer_allow_death: call({
      index: 0,
      origin: "signed",
      args: { dest: MultiAddress, value: T.compact(T.u128) },
      weight: () => TRANSFER_WEIGHT,
      docs: ["Transfer some liquid free balance to another account; the sender may be reaped."],
      handler: (ctx, who, a) => {
        const dest = lookupAddress(a.dest);
        return dest === undefined ? { tag: "CannotLookup", value: undefined } : transfer(ctx, who, dest, a.value, false);
      },
    }),
    force_transfer: call({
      index: BALANCES_INDEX,
      origin: "root",
      args: { source: MultiAddress, dest: MultiAddress, value: T.compact(T.u128) },
      weight: () => FORCE_WEIGHT,
      docs: ["Exactly as `transfer_allow_death`, except the origin must be root and the source account may be specified."],
      handler: (ctx, _who, a) => {
        const source = lookupAddress(a.source);
        const dest = lookupAddress(a.dest);
        if (source === undefined || dest === undefined) return { tag: "CannotLookup", value: undefined };
        return transfer(ctx, source, dest, a.value, false);
      },
    }),
    transfer_keep_alive: call({
      index: 3,
      origin: "signed",
      args: { dest: MultiAddress, value: T.compact(T.u128) },
      weight: () => TRANSFER_WEIGHT,
      docs: ["Same as `transfer_allow_death`, but refuses to kill the sender's account."],
      handler: (ctx, who, a) => {
        const dest = lookupAddress(a.dest);
        return dest === undefined ? { tag: "CannotLookup", value: undefined } : transfer(ctx, who, dest, a.value, true);
      },
    }),
    transfer_all: call({
      index: 4,
      origin: "signed",
      args: { dest: MultiAddress, keep_alive: T.bool },
      weight: () => TRANSFER_WEIGHT,
      docs: ["Transfer the entire transferable balance from the caller account."],
      handler: (ctx, who, a) => {
        const dest = lookupAddress(a.dest);
        return dest === undefined ? { tag: "CannotLookup", value: undefined } : transferAll(ctx, who, dest, a.keep_alive);
      },
    }),
    force_set_balance: call({
      index: 8,
      origin: "root",
      args: { who: MultiAddress, new_free: T.compact(T.u128) },
      weight: () => SET_BALANCE_WEIGHT,
      docs: ["Set the regular balance of a given account."],
      handler: (ctx, _w, a) => {
        const who = lookupAddress(a.who);
        return who === undefined ? { tag: "CannotLookup", value: undefined } : forceSetBalance(ctx, who, a.new_free);
      },
    }),
  },
});
