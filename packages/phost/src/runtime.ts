import { createPhalaRuntime, type ComposedRuntime } from "@phala-ts/runtime";

let runtime: ComposedRuntime | undefined;

/**
 * The Phala runtime pHost encodes calls and decodes events with, built once on first use:
 * pallet, call, event and error indices all come from the runtime's own declarations.
 */
export function phalaRuntime(): ComposedRuntime {
  return (runtime ??= createPhalaRuntime());
}
