import { createPhalaRuntime, type ComposedRuntime } from "@phala-ts/runtime";

let runtime: ComposedRuntime | undefined;

/**
 * The Phala runtime the SDK encodes calls and decodes events and errors with, built once
 * on first use: pallet, call, event and error indices come from the pallets' own declarations.
 */
export function phalaRuntime(): ComposedRuntime {
  return (runtime ??= createPhalaRuntime());
}

/** SCALE bytes of `Pallet.call { args }` as a RuntimeCall. */
export function encodeCall(pallet: string, call: string, args: Record<string, unknown>): Uint8Array {
  return phalaRuntime().call.codec.enc({ tag: pallet, value: { tag: call, value: args } });
}
