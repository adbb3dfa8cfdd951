import type { Infer } from "../types/index.ts";
import type { DispatchError } from "../types/std.ts";
import type { StateOverlay } from "../state/overlay.ts";

export type Origin = { kind: "root" } | { kind: "signed"; who: Uint8Array } | { kind: "none" };

/** Value of `sp_runtime::DispatchError`, as the std types encode it. */
export type DispatchErrorValue = Infer<typeof DispatchError>;

/** A handler returns nothing on success or the dispatch error it failed with; never throws for user errors. */
export type DispatchResult = DispatchErrorValue | undefined;

export const BadOrigin: DispatchErrorValue = { tag: "BadOrigin", value: undefined };

export interface EventRecordRaw {
  phase: { tag: "ApplyExtrinsic"; value: number } | { tag: "Finalization"; value: undefined } | { tag: "Initialization"; value: undefined };
  /** SCALE of RuntimeEvent: pallet index byte followed by the pallet's event. */
  event: Uint8Array;
  topics: Uint8Array[];
}

/**
 * Everything a pallet handler may touch: state through the transactional overlay, the
 * block environment and event deposit. Time is what the block's timestamp inherent set,
 * never a clock.
 */
export interface DispatchContext {
  readonly state: StateOverlay;
  readonly blockNumber: number;
  depositEvent(event: Uint8Array): void;
  /** Dispatches a whole RuntimeCall (for Sudo) in its own transactional layer. */
  dispatchCall(call: unknown, origin: Origin): DispatchResult;
  /** Runs f in a nested layer, rolling back state and events if it returns an error. */
  transactional(f: () => DispatchResult): DispatchResult;
}
