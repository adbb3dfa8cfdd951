import { dispatchErrorName, type ComposedRuntime, type DispatchErrorValue } from "@phala-ts/runtime";

export { dispatchErrorName };
import { decodeExact, type EventRecordValue } from "@phala-ts/runtime/types";
import type { ChainClient } from "./chain-client.ts";

/** What dispatching one included extrinsic did, as its `System.ExtrinsicSuccess` or `ExtrinsicFailed` event says. */
export type ExtrinsicOutcome = { success: true } | { success: false; error: DispatchErrorValue; errorName: string };


type Tagged = { tag: string; value: unknown };

function isTagged(v: unknown): v is Tagged {
  return typeof v === "object" && v !== null && typeof (v as Record<string, unknown>).tag === "string";
}

/**
 * Reads `System.Events` at `blockHash` and returns the outcome of the extrinsic at `index`
 * in that block: the System event of phase `ApplyExtrinsic(index)`. Undefined when the
 * node has no events there (pruned state) or none for that index. Throws the chain
 * client's errors, or ScaleDecodeError when the events do not decode with this runtime.
 */
export async function readExtrinsicOutcome(chain: ChainClient, runtime: ComposedRuntime, blockHash: Uint8Array, index: number): Promise<ExtrinsicOutcome | undefined> {
  const raw = await chain.storage(runtime.systemEvents.key(), blockHash);
  if (raw === undefined) return undefined;
  // The runtime's own `Vec<EventRecord<RuntimeEvent>>` codec decoded these; the outer event
  // enum is composed at run time, so its type is checked here by tag.
  const records: EventRecordValue<unknown>[] = decodeExact(runtime.systemEvents.type, raw);
  for (const r of records) {
    if (r.phase.tag !== "ApplyExtrinsic" || r.phase.value !== index) continue;
    const outer = r.event;
    if (!isTagged(outer) || outer.tag !== "System" || !isTagged(outer.value)) continue;
    const ev = outer.value;
    if (ev.tag === "ExtrinsicSuccess") return { success: true };
    if (ev.tag === "ExtrinsicFailed") {
      const error = typeof ev.value === "object" && ev.value !== null ? (ev.value as Record<string, unknown>).dispatch_error : undefined;
      // Decoded by System's event codec, so a tagged value here is a DispatchError.
      if (!isTagged(error)) return undefined;
      return { success: false, error: error as DispatchErrorValue, errorName: dispatchErrorName(runtime, error as DispatchErrorValue) };
    }
  }
  return undefined;
}
