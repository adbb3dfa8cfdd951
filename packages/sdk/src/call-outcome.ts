/**
 * A decrypted CallOutcome, turned into what the caller gets: the parsed output, gas and fee,
 * or a PhalaSdkError that says whether the contract, gas or the worker failed.
 */
import type { CallOutcomeValue } from "@phala-ts/runtime/phala";
import { PhalaSdkError, type PhalaSdkErrorCode, type PhalaSdkErrorWhere } from "./errors.ts";
import { parseJsonOutput, type Json } from "./json.ts";

export interface ContractEventOut {
  topic: string;
  data: Json;
}

export interface CallResult {
  output: Json;
  gasUsed: bigint;
  /** PHA (plancks) charged from the sender's balance inside the cluster. */
  fee: bigint;
  /** Events the contract emitted, delivered encrypted to the sender only. */
  events: ContractEventOut[];
}

/** How each VM error kind (wire.ts CallError.kind) is reported. */
const KINDS: Readonly<Record<string, { code: PhalaSdkErrorCode; where: PhalaSdkErrorWhere; advice: string }>> = {
  gas: { code: "OUT_OF_GAS", where: "gas", advice: "it ran out of gas; send it again with a higher gas limit (--gas)" },
  "gas-limit-too-high": {
    code: "INVALID_ARGUMENT",
    where: "gas",
    advice: "its gas limit is above the chain's CommandGasMax, so no worker ran it and nothing was charged; send it again with a lower gas limit (--gas)",
  },
  "insufficient-balance": {
    code: "INSUFFICIENT_BALANCE",
    where: "gas",
    advice: "the sender's balance inside the cluster cannot pay for the gas limit; deposit PHA into the cluster (phala account deposit, or --deposit with the call)",
  },
  contract: { code: "CONTRACT_ERROR", where: "contract", advice: "the contract refused the input" },
  memory: { code: "CONTRACT_LIMIT", where: "contract", advice: "the contract exceeded its memory limit" },
  stack: { code: "CONTRACT_LIMIT", where: "contract", advice: "the contract exceeded its stack limit (too deep recursion)" },
  timeout: { code: "CONTRACT_LIMIT", where: "contract", advice: "the query ran past the worker's time limit; ask for less at once" },
  "invalid-code": { code: "CONTRACT_INVALID", where: "contract", advice: "the contract's code does not load; rebuild it with phala contract build and deploy again" },
  "invalid-input": { code: "CONTRACT_INVALID", where: "contract", advice: "the VM could not read the input; check that it is JSON the contract accepts" },
  "storage-full": { code: "CONTRACT_LIMIT", where: "contract", advice: "the contract's storage is full; nothing was stored" },
  decrypt: { code: "WORKER_INTERNAL", where: "worker", advice: "the cluster could not decrypt the input; its key may have changed since it was read from chain — send again" },
  internal: { code: "WORKER_INTERNAL", where: "worker", advice: "the worker failed inside; try again or ask its operator" },
};

/** `what` names the call in messages: "command", "query" or "init". */
export function callResult(outcome: CallOutcomeValue, what: string): CallResult {
  const gasUsed = outcome.gas_used;
  const fee = outcome.fee;
  const events = outcome.events.map((e) => ({ topic: e.topic, data: parseJsonOutput(e.data, `event "${e.topic}"`) }));
  if (outcome.ok) return { output: parseJsonOutput(outcome.output, `${what} output`), gasUsed, fee, events };
  const kind = outcome.error?.kind ?? "internal";
  const message = outcome.error?.message ?? "";
  const k = KINDS[kind] ?? { code: "CONTRACT_ERROR" as const, where: "contract" as const, advice: `the call failed (${kind})` };
  const text = `the ${what} failed: ${k.advice}${message ? `: ${message}` : ""} (gas used ${gasUsed}, fee ${fee})`;
  throw new PhalaSdkError(k.code, k.where, text, { details: { kind, contractMessage: message, gasUsed, fee, events } });
}
