/**
 * What dispatching an included extrinsic did, read from `System.Events` of its block, and
 * the error a failed dispatch becomes: `Pallet.Error` named from the runtime's pallet
 * declarations, with what to do about it.
 */
import { dispatchErrorName, type ComposedRuntime, type DispatchErrorValue } from "@phala-ts/runtime";

export { dispatchErrorName };
import { decodeExact, type EventRecordValue } from "@phala-ts/runtime/types";
import { PhalaSdkError } from "./errors.ts";

/** One runtime event, as the runtime's RuntimeEvent codec decodes it: `{ tag: pallet, value: { tag: event, value } }`. */
export interface ChainEvent {
  pallet: string;
  name: string;
  value: unknown;
}

export type ExtrinsicOutcome =
  | { success: true; events: ChainEvent[] }
  | { success: false; error: DispatchErrorValue; errorName: string; events: ChainEvent[] };

type Tagged = { tag: string; value?: unknown };

function isTagged(v: unknown): v is Tagged {
  return typeof v === "object" && v !== null && typeof (v as Record<string, unknown>).tag === "string";
}


/**
 * The outcome of the extrinsic at `index`, from the SCALE `System.Events` of its block.
 * Undefined when no System event has phase `ApplyExtrinsic(index)`.
 */
export function extrinsicOutcome(runtime: ComposedRuntime, eventsScale: Uint8Array, index: number): ExtrinsicOutcome | undefined {
  // The runtime's own Vec<EventRecord<RuntimeEvent>> codec; the outer enum is composed at run
  // time, so its values are checked by tag here.
  const records: EventRecordValue<unknown>[] = decodeExact(runtime.systemEvents.type, eventsScale);
  const events: ChainEvent[] = [];
  let outcome: { success: true } | { success: false; error: DispatchErrorValue; errorName: string } | undefined;
  for (const r of records) {
    if (r.phase.tag !== "ApplyExtrinsic" || r.phase.value !== index) continue;
    const outer = r.event;
    if (!isTagged(outer) || !isTagged(outer.value)) continue;
    events.push({ pallet: outer.tag, name: outer.value.tag, value: outer.value.value });
    if (outer.tag !== "System") continue;
    const ev = outer.value;
    if (ev.tag === "ExtrinsicSuccess") outcome = { success: true };
    else if (ev.tag === "ExtrinsicFailed") {
      const error = typeof ev.value === "object" && ev.value !== null ? (ev.value as Record<string, unknown>).dispatch_error : undefined;
      // Decoded by System's event codec, so a tagged value here is a DispatchError.
      if (isTagged(error)) outcome = { success: false, error: error as DispatchErrorValue, errorName: dispatchErrorName(runtime, error as DispatchErrorValue) };
    }
  }
  return outcome && { ...outcome, events };
}

/** What to do about the dispatch errors users meet; anything else gets the general advice. */
const DISPATCH_HINTS: Readonly<Record<string, string>> = {
  "PhalaPhatContracts.ClusterNotFound": "check the cluster id (phala contract clusters lists them)",
  "PhalaPhatContracts.CodeNotFound": "upload the code to this cluster first (phala contract deploy uploads and instantiates)",
  "PhalaPhatContracts.CodeTooLarge": "the bundle is over the chain's CodeSizeMax; remove dependencies or split the contract",
  "PhalaPhatContracts.ContractExists": "this deployer already instantiated this code with this salt in this cluster; pick another salt",
  "PhalaPhatContracts.ContractNotFound": "check the contract id; it must be instantiated on this chain",
  "PhalaPhatContracts.ClusterKeyMissing": "the gatekeeper has not published the cluster's key yet; wait a few blocks and try again",
  "PhalaPhatContracts.PayloadTooLarge": "send a smaller input (commands and init args are limited to 16 KiB, salts to 128 bytes)",
  "PhalaPhatContracts.AmountTooSmall": "the amount must be above 0",
  "Balances.InsufficientBalance": "the account has too little free PHA; fund it or use a smaller amount",
  "Token.FundsUnavailable": "the account has too little free PHA; fund it or use a smaller amount",
  BadOrigin: "this call needs another origin (e.g. Sudo for cluster management)",
};

const BALANCE_ERRORS = new Set(["Balances.InsufficientBalance", "Token.FundsUnavailable", "Balances.ExistentialDeposit", "Token.BelowMinimum", "Balances.Expendability", "Token.NotExpendable"]);

/** The SDK error for a failed dispatch: where "gas" when the account could not pay, else where "chain". */
export function dispatchFailure(what: string, errorName: string, details: Record<string, unknown>): PhalaSdkError {
  const hint = DISPATCH_HINTS[errorName] ?? "see the pallet's documentation for this error";
  if (BALANCE_ERRORS.has(errorName)) {
    return new PhalaSdkError("INSUFFICIENT_BALANCE", "gas", `${what} failed on chain with ${errorName}: ${hint}`, { details: { ...details, error: errorName } });
  }
  return new PhalaSdkError("DISPATCH_FAILED", "chain", `${what} failed on chain with ${errorName}: ${hint}`, { details: { ...details, error: errorName } });
}
