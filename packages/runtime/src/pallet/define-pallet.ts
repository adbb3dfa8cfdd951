import { T, type Type, type Infer } from "../types/index.ts";
import type { AnyStorageItem, StorageEntryMeta } from "../state/storage-item.ts";
import type { DispatchContext, DispatchErrorValue, DispatchResult, Origin } from "./context.ts";
import type { StateReader } from "../state/storage-item.ts";
import type { ValidTransactionValue } from "../executive/validity.ts";

/**
 * Pool and block validity of an unsigned call (Substrate's ValidateUnsigned). Throws
 * TransactionInvalid; `ready: false` means its `requires` tags are not met yet.
 */
export type ValidateUnsigned = (
  state: StateReader,
  call: { tag: string; value: any },
  env: { blockNumber: number },
) => { valid: ValidTransactionValue; ready: boolean };

export type ArgTypes = Record<string, Type<any>>;
export type ArgValues<A extends ArgTypes> = { [K in keyof A]: Infer<A[K]> };

type OriginKind = "signed" | "root" | "none";
type OriginArg<O extends OriginKind> = O extends "signed" ? Uint8Array : undefined;

export interface CallDef<A extends ArgTypes, O extends OriginKind> {
  index: number;
  origin: O;
  args: A;
  /** ref_time weight of the call, a function of its arguments only. */
  weight: (args: ArgValues<A>) => bigint;
  /** Operational calls are charged but not bound by the normal block weight share. */
  class?: "Normal" | "Operational" | "Mandatory";
  docs?: string[];
  handler: (ctx: DispatchContext, who: OriginArg<O>, args: ArgValues<A>) => DispatchResult;
}

/** Helper so each call's handler gets its argument types inferred from its `args`. */
export function call<A extends ArgTypes, O extends OriginKind>(def: CallDef<A, O>): CallDef<A, O> {
  return def;
}

export interface ConstantDef<V> {
  type: Type<V>;
  value: V;
  docs?: string[];
}

export interface PalletDef<
  Calls extends Record<string, CallDef<any, any>>,
  EventV,
  Errors extends readonly string[],
  Consts extends Record<string, ConstantDef<any>>,
> {
  name: string;
  index: number;
  /** Rust crate name, used for scale-info paths (`pallet_balances::pallet::Call`). */
  crate: string;
  docs?: string[];
  storage: AnyStorageItem[];
  calls: Calls;
  events?: Type<EventV>;
  errors: Errors;
  constants: Consts;
  hooks?: {
    onInitialize?: (ctx: DispatchContext) => void;
    onFinalize?: (ctx: DispatchContext) => void;
  };
  /** Required for every call with origin "none" that users may submit (not inherents). */
  validateUnsigned?: ValidateUnsigned;
}

export interface Pallet<
  Calls extends Record<string, CallDef<any, any>> = Record<string, CallDef<any, any>>,
  EventV = any,
  Errors extends readonly string[] = readonly string[],
  Consts extends Record<string, ConstantDef<any>> = Record<string, ConstantDef<any>>,
> {
  readonly def: PalletDef<Calls, EventV, Errors, Consts>;
  readonly name: string;
  readonly index: number;
  readonly callType: Type<any> | undefined;
  readonly errorType: Type<any> | undefined;
  readonly storageMeta: StorageEntryMeta[];
  /** The Module dispatch error for one of this pallet's declared errors. */
  error(name: Errors[number]): DispatchErrorValue;
  /** Deposits one of this pallet's events, wrapped in RuntimeEvent. */
  emit(ctx: DispatchContext, event: EventV): void;
  encodeEvent(event: EventV): Uint8Array;
  /** Checks the origin and runs the handler of a decoded pallet call. */
  dispatch(ctx: DispatchContext, origin: Origin, call: { tag: string; value: any }): DispatchResult;
  weightOf(call: { tag: string; value: any }): bigint;
  classOf(call: { tag: string; value: any }): "Normal" | "Operational" | "Mandatory";
  constant<K extends keyof Consts>(name: K): Consts[K]["value"];
}

/**
 * Declares a pallet once; dispatch, call encoding, errors, events, storage metadata and
 * constants are all derived from this object.
 */
export function definePallet<
  Calls extends Record<string, CallDef<any, any>>,
  EventV,
  const Errors extends readonly string[],
  Consts extends Record<string, ConstantDef<any>>,
>(def: PalletDef<Calls, EventV, Errors, Consts>): Pallet<Calls, EventV, Errors, Consts> {
  for (const item of def.storage) {
    if (item.pallet !== def.name) throw new Error(`storage item ${item.pallet}.${item.name} declared in pallet ${def.name}`);
  }
  const callNames = Object.keys(def.calls);
  const seen = new Set<number>();
  for (const n of callNames) {
    const i = def.calls[n].index;
    if (seen.has(i)) throw new Error(`pallet ${def.name}: call index ${i} used twice`);
    seen.add(i);
  }
  const callType =
    callNames.length === 0
      ? undefined
      : T.enumeration(
          [def.crate, "pallet", "Call"],
          Object.fromEntries(
            callNames.map((n) => [n, { index: def.calls[n].index, fields: def.calls[n].args, docs: def.calls[n].docs }]),
          ),
          { docs: ["Contains a variant per dispatchable extrinsic that this pallet has."] },
        );
  const errorType =
    def.errors.length === 0
      ? undefined
      : T.enumeration(
          [def.crate, "pallet", "Error"],
          Object.fromEntries(def.errors.map((n, i) => [n, { index: i }])),
          { docs: ["The `Error` enum of this pallet."] },
        );
  const errorIndex = new Map(def.errors.map((n, i) => [n, i]));

  const encodeEvent = (event: EventV): Uint8Array => {
    if (!def.events) throw new Error(`pallet ${def.name} declares no events`);
    const body = def.events.codec.enc(event);
    const out = new Uint8Array(body.length + 1);
    out[0] = def.index;
    out.set(body, 1);
    return out;
  };

  const lookupCall = (call: { tag: string }) => {
    const c = def.calls[call.tag];
    if (!c) throw new Error(`pallet ${def.name} has no call ${call.tag}`);
    return c;
  };

  return {
    def,
    name: def.name,
    index: def.index,
    callType,
    errorType,
    storageMeta: def.storage.map((s) => s.meta),
    error(name) {
      const i = errorIndex.get(name);
      if (i === undefined) throw new Error(`pallet ${def.name} declares no error ${name}`);
      return { tag: "Module", value: { index: def.index, error: new Uint8Array([i, 0, 0, 0]) } };
    },
    emit(ctx, event) {
      ctx.depositEvent(encodeEvent(event));
    },
    encodeEvent,
    dispatch(ctx, origin, call) {
      const c = lookupCall(call);
      if (c.origin === "signed") {
        if (origin.kind !== "signed") return { tag: "BadOrigin", value: undefined };
        return c.handler(ctx, origin.who, call.value ?? {});
      }
      if (c.origin === "root") {
        if (origin.kind !== "root") return { tag: "BadOrigin", value: undefined };
        return c.handler(ctx, undefined, call.value ?? {});
      }
      if (origin.kind !== "none") return { tag: "BadOrigin", value: undefined };
      return c.handler(ctx, undefined, call.value ?? {});
    },
    weightOf: (call) => lookupCall(call).weight(call.value ?? {}),
    classOf: (call) => lookupCall(call).class ?? "Normal",
    constant: (name) => def.constants[name].value,
  };
}

/** Module error for a pallet, usable from logic modules that must not import the pallet object. */
export function moduleError<E extends readonly string[]>(palletIndex: number, errors: E, name: E[number]): DispatchErrorValue {
  const i = errors.indexOf(name);
  if (i < 0) throw new Error(`error ${name} is not declared`);
  return { tag: "Module", value: { index: palletIndex, error: new Uint8Array([i, 0, 0, 0]) } };
}

/** Deposits an event of the pallet at `palletIndex`, wrapped as RuntimeEvent. */
export function depositPalletEvent<V>(ctx: DispatchContext, palletIndex: number, type: Type<V>, event: NoInfer<V>): void {
  const body = type.codec.enc(event);
  const out = new Uint8Array(body.length + 1);
  out[0] = palletIndex;
  out.set(body, 1);
  ctx.depositEvent(out);
}
