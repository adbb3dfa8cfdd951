import { T, type Type, type Infer } from "../types/index.ts";
import { decodeExact } from "../types/index.ts";
import type { RuntimeVersion } from "../types/std.ts";
import type { Pallet } from "../pallet/define-pallet.ts";
import type { DispatchContext, DispatchResult, Origin } from "../pallet/context.ts";
import type { StateReader, StorageValue } from "../state/storage-item.ts";
import type { ValidTransactionValue } from "./validity.ts";

export type RuntimeVersionValue = Infer<typeof RuntimeVersion>;

export interface ComposedRuntime {
  readonly version: RuntimeVersionValue;
  /** Pallets ordered by index. */
  readonly pallets: Pallet[];
  readonly call: Type<any>;
  readonly event: Type<any>;
  readonly error: Type<any>;
  readonly systemEvents: StorageValue<any, boolean>;
  decodeCall(bytes: Uint8Array): any;
  dispatch(ctx: DispatchContext, origin: Origin, call: { tag: string; value: any }): DispatchResult;
  weightOf(call: { tag: string; value: any }): bigint;
  classOf(call: { tag: string; value: any }): "Normal" | "Operational" | "Mandatory";
  pallet(name: string): Pallet | undefined;
  /** The pallet's ValidateUnsigned for an unsigned call, or undefined when the pallet has none. */
  validateUnsigned(state: StateReader, call: { tag: string; value: any }, env: { blockNumber: number }): { valid: ValidTransactionValue; ready: boolean } | undefined;
}

/**
 * Builds the outer RuntimeCall, RuntimeEvent and RuntimeError enums (variant index =
 * pallet index) and the dispatch table from a list of pallets.
 */
export function composeRuntime(input: {
  version: RuntimeVersionValue;
  pallets: Pallet[];
  systemEvents: StorageValue<any, boolean>;
  /** Lazy references handed to pallets that embed the outer enums (System, Sudo). */
  callRef: { set(t: Type<any>): void };
  eventRef: { set(t: Type<any>): void };
}): ComposedRuntime {
  const pallets = [...input.pallets].sort((a, b) => a.index - b.index);
  const byName = new Map(pallets.map((p) => [p.name, p]));
  if (byName.size !== pallets.length) throw new Error("two pallets share a name");
  const outer = (name: string, pick: (p: Pallet) => Type<any> | undefined) =>
    T.enumeration(
      ["phala_runtime", name],
      Object.fromEntries(pallets.flatMap((p) => (pick(p) ? [[p.name, { index: p.index, fields: [pick(p)!] }]] : []))),
    );
  const call = outer("RuntimeCall", (p) => p.callType);
  const event = outer("RuntimeEvent", (p) => p.def.events);
  const error = outer("RuntimeError", (p) => p.errorType);
  input.callRef.set(call);
  input.eventRef.set(event);

  const palletOf = (c: { tag: string }) => {
    const p = byName.get(c.tag);
    if (!p) throw new Error(`no pallet ${c.tag}`);
    return p;
  };
  return {
    version: input.version,
    pallets,
    call,
    event,
    error,
    systemEvents: input.systemEvents,
    decodeCall: (bytes) => decodeExact(call, bytes),
    dispatch: (ctx, origin, c) => palletOf(c).dispatch(ctx, origin, c.value),
    weightOf: (c) => palletOf(c).weightOf(c.value),
    classOf: (c) => palletOf(c).classOf(c.value),
    pallet: (name) => byName.get(name),
    validateUnsigned: (state, c, env) => palletOf(c).def.validateUnsigned?.(state, c.value, env),
  };
}

/** A settable forward reference, for the outer enums that pallets embed before they exist. */
export function forwardType<V>(): { type: Type<V>; set(t: Type<V>): void } {
  let target: Type<V> | undefined;
  return {
    type: T.lazy(() => {
      if (!target) throw new Error("outer runtime type used before the runtime was composed");
      return target;
    }),
    set(t) {
      target = t;
    },
  };
}
