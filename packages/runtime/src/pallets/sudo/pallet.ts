import { bytesEqual } from "@phala-ts/primitives";
import { T, type Type } from "../../types/index.ts";
import { AccountId32, DispatchError, MultiAddress, Weight } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { call, definePallet, depositPalletEvent, moduleError } from "../../pallet/define-pallet.ts";
import type { DispatchContext } from "../../pallet/context.ts";
import type { DispatchResult } from "../../pallet/context.ts";
import { lookupAddress } from "../balances/logic.ts";

export const SUDO_INDEX = 4;
const SUDO_BASE_WEIGHT = 20_000_000n;
const SUDO_ERRORS = ["RequireSudo"] as const;

const s = palletStorage("Sudo");
export const SudoStorage = {
  Key: s.value("Key", AccountId32, { docs: ["The `AccountId` of the sudo key."] }),
};

const SudoResult = T.result(T.unit, DispatchError);
export const SudoEvent = T.enumeration(["pallet_sudo", "pallet", "Event"], {
  Sudid: { index: 0, fields: { sudo_result: SudoResult }, docs: ["A sudo call just took place."] },
  KeyChanged: { index: 1, fields: { old: T.option(AccountId32), new: AccountId32 }, docs: ["The sudo key has been updated."] },
  KeyRemoved: { index: 2, docs: ["The key was permanently removed."] },
  SudoAsDone: { index: 3, fields: { sudo_result: SudoResult }, docs: ["A sudo call just took place."] },
});

function asResult(r: DispatchResult) {
  return r === undefined ? { tag: "Ok" as const, value: undefined } : { tag: "Err" as const, value: r };
}

export interface SudoOptions {
  /** The runtime's outer call enum (lazy, since it contains Sudo's own calls). */
  runtimeCall: Type<any>;
  weightOf: (call: any) => bigint;
}

/** pallet_sudo: one key may dispatch any call with Root origin. Governance on dev and test chains. */
export function createSudoPallet(opts: SudoOptions) {
  const isKey = (ctx: DispatchContext, who: Uint8Array) => {
    const key = SudoStorage.Key.get(ctx.state);
    return key !== undefined && bytesEqual(key, who);
  };
  return definePallet({
    name: "Sudo",
    index: SUDO_INDEX,
    crate: "pallet_sudo",
    storage: [SudoStorage.Key],
    events: SudoEvent,
    errors: SUDO_ERRORS,
    constants: {},
    calls: {
      sudo: call({
        index: 0,
        origin: "signed",
        args: { call: opts.runtimeCall },
        weight: (a) => SUDO_BASE_WEIGHT + opts.weightOf(a.call),
        docs: ["Authenticates the sudo key and dispatches a function call with `Root` origin."],
        handler: (ctx, who, a) => {
          if (!isKey(ctx, who)) return moduleError(SUDO_INDEX, SUDO_ERRORS, "RequireSudo");
          const r = ctx.dispatchCall(a.call, { kind: "root" });
          depositPalletEvent(ctx, SUDO_INDEX, SudoEvent, { tag: "Sudid", value: { sudo_result: asResult(r) } });
          return undefined;
        },
      }),
      sudo_unchecked_weight: call({
        index: 1,
        origin: "signed",
        args: { call: opts.runtimeCall, weight: Weight },
        weight: (a) => a.weight.ref_time,
        docs: ["Dispatches a call with `Root` origin, with the weight given by the sudo key."],
        handler: (ctx, who, a) => {
          if (!isKey(ctx, who)) return moduleError(SUDO_INDEX, SUDO_ERRORS, "RequireSudo");
          const r = ctx.dispatchCall(a.call, { kind: "root" });
          depositPalletEvent(ctx, SUDO_INDEX, SudoEvent, { tag: "Sudid", value: { sudo_result: asResult(r) } });
          return undefined;
        },
      }),
      set_key: call({
        index: 2,
        origin: "signed",
        args: { new: MultiAddress },
        weight: () => SUDO_BASE_WEIGHT,
        docs: ["Authenticates the current sudo key and sets the given account as the new sudo key."],
        handler: (ctx, who, a) => {
          if (!isKey(ctx, who)) return moduleError(SUDO_INDEX, SUDO_ERRORS, "RequireSudo");
          const next = lookupAddress(a.new);
          if (next === undefined) return { tag: "CannotLookup", value: undefined };
          SudoStorage.Key.set(ctx.state, next);
          depositPalletEvent(ctx, SUDO_INDEX, SudoEvent, { tag: "KeyChanged", value: { old: who, new: next } });
          return undefined;
        },
      }),
      sudo_as: call({
        index: 3,
        origin: "signed",
        args: { who: MultiAddress, call: opts.runtimeCall },
        weight: (a) => SUDO_BASE_WEIGHT + opts.weightOf(a.call),
        docs: ["Dispatches a call with a `Signed` origin of the given account."],
        handler: (ctx, who, a) => {
          if (!isKey(ctx, who)) return moduleError(SUDO_INDEX, SUDO_ERRORS, "RequireSudo");
          const target = lookupAddress(a.who);
          if (target === undefined) return { tag: "CannotLookup", value: undefined };
          const r = ctx.dispatchCall(a.call, { kind: "signed", who: target });
          depositPalletEvent(ctx, SUDO_INDEX, SudoEvent, { tag: "SudoAsDone", value: { sudo_result: asResult(r) } });
          return undefined;
        },
      }),
      remove_key: call({
        index: 4,
        origin: "signed",
        args: {},
        weight: () => SUDO_BASE_WEIGHT,
        docs: ["Permanently removes the sudo key. This cannot be undone."],
        handler: (ctx, who) => {
          if (!isKey(ctx, who)) return moduleError(SUDO_INDEX, SUDO_ERRORS, "RequireSudo");
          SudoStorage.Key.remove(ctx.state);
          depositPalletEvent(ctx, SUDO_INDEX, SudoEvent, { tag: "KeyRemoved", value: undefined });
          return undefined;
        },
      }),
    },
  });
}
