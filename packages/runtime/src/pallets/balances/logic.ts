import { bytesEqual } from "@phala-ts/primitives";
import type { Infer } from "../../types/index.ts";
import type { MultiAddress } from "../../types/std.ts";
import type { DispatchContext, DispatchResult } from "../../pallet/context.ts";
import type { StateAccess, StateReader } from "../../state/storage-item.ts";
import { readAccount, writeAccount, type AccountInfoValue } from "../system/accounts.ts";
import { SystemStorage } from "../system/pallet.ts";
import { EXISTENTIAL_DEPOSIT } from "./constants.ts";
import { BalancesStorage, balancesError, emitBalances } from "./events.ts";

export type MultiAddressValue = Infer<typeof MultiAddress>;

/** AccountIdLookup: only `Id` (and the equivalent `Address32`) name an account on this chain. */
export function lookupAddress(a: MultiAddressValue): Uint8Array | undefined {
  if (a.tag === "Id" || a.tag === "Address32") return a.value;
  return undefined;
}

function total(a: AccountInfoValue): bigint {
  return a.data.free + a.data.reserved;
}

/** Free balance that is not frozen. */
export function spendable(a: AccountInfoValue): bigint {
  const s = a.data.free - a.data.frozen;
  return s > 0n ? s : 0n;
}

function withFree(a: AccountInfoValue, free: bigint): AccountInfoValue {
  return { ...a, data: { ...a.data, free } };
}

/** Writes new balances for an account, creating or reaping it per the existential deposit. */
function settle(ctx: DispatchContext, who: Uint8Array, before: AccountInfoValue, after: AccountInfoValue): void {
  let next = after;
  if (before.providers === 0 && total(next) >= EXISTENTIAL_DEPOSIT) {
    next = { ...next, providers: next.providers + 1 };
    writeAccount(ctx, who, before, next);
    emitBalances(ctx, { tag: "Endowed", value: { account: who, free_balance: next.data.free } });
    return;
  }
  if (before.providers > 0 && total(next) < EXISTENTIAL_DEPOSIT) {
    const dust = total(next);
    next = { ...next, providers: next.providers - 1, data: { ...next.data, free: 0n, reserved: 0n } };
    writeAccount(ctx, who, before, next);
    if (dust > 0n) {
      BalancesStorage.TotalIssuance.mutate(ctx.state, (t) => ({ value: t - dust, result: undefined }));
      emitBalances(ctx, { tag: "DustLost", value: { account: who, amount: dust } });
    }
    return;
  }
  writeAccount(ctx, who, before, next);
}

export function transfer(ctx: DispatchContext, from: Uint8Array, to: Uint8Array, amount: bigint, keepAlive: boolean): DispatchResult {
  if (amount === 0n || bytesEqual(from, to)) return undefined;
  const src = readAccount(ctx.state, from);
  if (spendable(src) < amount) return balancesError("InsufficientBalance");
  const srcAfter = withFree(src, src.data.free - amount);
  const reaping = src.providers > 0 && total(srcAfter) < EXISTENTIAL_DEPOSIT;
  if (reaping && keepAlive) return balancesError("Expendability");
  if (reaping && src.consumers > 0) return { tag: "ConsumerRemaining", value: undefined };
  const dst = readAccount(ctx.state, to);
  if (dst.providers === 0 && amount < EXISTENTIAL_DEPOSIT) return balancesError("ExistentialDeposit");
  settle(ctx, from, src, srcAfter);
  settle(ctx, to, dst, withFree(dst, dst.data.free + amount));
  emitBalances(ctx, { tag: "Transfer", value: { from, to, amount } });
  return undefined;
}

export function transferAll(ctx: DispatchContext, from: Uint8Array, to: Uint8Array, keepAlive: boolean): DispatchResult {
  const src = readAccount(ctx.state, from);
  let amount = spendable(src);
  if (keepAlive) amount = amount > EXISTENTIAL_DEPOSIT ? amount - EXISTENTIAL_DEPOSIT : 0n;
  return transfer(ctx, from, to, amount, keepAlive);
}

export function forceSetBalance(ctx: DispatchContext, who: Uint8Array, newFree: bigint): DispatchResult {
  const before = readAccount(ctx.state, who);
  const free = before.data.reserved + newFree < EXISTENTIAL_DEPOSIT ? 0n : newFree;
  const delta = free - before.data.free;
  BalancesStorage.TotalIssuance.mutate(ctx.state, (t) => ({ value: t + delta, result: undefined }));
  settle(ctx, who, before, withFree(before, free));
  emitBalances(ctx, { tag: "BalanceSet", value: { who, free } });
  return undefined;
}

/** Whether `who` can pay `amount` and stay above the existential deposit (fees never reap). */
export function canWithdrawKeepAlive(s: StateReader, who: Uint8Array, amount: bigint): boolean {
  const a = readAccount(s, who);
  if (a.providers === 0) return false;
  return spendable(a) >= amount && total(a) - amount >= EXISTENTIAL_DEPOSIT;
}

/** Withdraws and burns a fee; the caller has checked `canWithdrawKeepAlive`. */
export function withdrawFee(ctx: DispatchContext, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const a = readAccount(ctx.state, who);
  if (!(spendable(a) >= amount && total(a) - amount >= EXISTENTIAL_DEPOSIT)) throw new Error("withdrawFee called without a successful canWithdrawKeepAlive");
  writeAccount(ctx, who, a, withFree(a, a.data.free - amount));
  BalancesStorage.TotalIssuance.mutate(ctx.state, (t) => ({ value: t - amount, result: undefined }));
  emitBalances(ctx, { tag: "Withdraw", value: { who, amount } });
}

/** Moves free balance to reserved (used by deposits of other pallets). */
export function reserve(ctx: DispatchContext, who: Uint8Array, amount: bigint): DispatchResult {
  const a = readAccount(ctx.state, who);
  if (spendable(a) < amount) return balancesError("InsufficientBalance");
  writeAccount(ctx, who, a, { ...a, data: { ...a.data, free: a.data.free - amount, reserved: a.data.reserved + amount } });
  emitBalances(ctx, { tag: "Reserved", value: { who, amount } });
  return undefined;
}

/** Moves up to `amount` back from reserved to free; returns what could not be unreserved. */
export function unreserve(ctx: DispatchContext, who: Uint8Array, amount: bigint): bigint {
  const a = readAccount(ctx.state, who);
  const moved = amount < a.data.reserved ? amount : a.data.reserved;
  if (moved > 0n) {
    writeAccount(ctx, who, a, { ...a, data: { ...a.data, free: a.data.free + moved, reserved: a.data.reserved - moved } });
    emitBalances(ctx, { tag: "Unreserved", value: { who, amount: moved } });
  }
  return amount - moved;
}

/** Genesis endowment: creates the account and adds to the total issuance, without events. */
export function endow(s: StateAccess, who: Uint8Array, amount: bigint): void {
  const a = readAccount(s, who);
  const providers = a.providers === 0 && amount >= EXISTENTIAL_DEPOSIT ? 1 : a.providers;
  SystemStorage.Account.set(s, who, { ...a, providers, data: { ...a.data, free: a.data.free + amount } });
  BalancesStorage.TotalIssuance.set(s, BalancesStorage.TotalIssuance.get(s) + amount);
}
