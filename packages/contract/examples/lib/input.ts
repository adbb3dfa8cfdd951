/**
 * Input checks shared by the example contracts. Commands and queries are JSON sent by
 * users, so every field is checked before use, and each refusal is a `ContractError`
 * whose message tells the sender what was wrong and nothing about anyone else.
 */
import { ContractError, type Origin } from "@phala-ts/contract";

const ACCOUNT_ID = /^0x[0-9a-f]{64}$/;

/** A plain JSON object (not null, not an array). */
export function asObject(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw new ContractError(`${what} must be a JSON object`);
  return x as Record<string, unknown>;
}

/** The `op` field of a command or query. */
export function opOf(x: unknown, what: string): { op: string; fields: Record<string, unknown> } {
  const fields = asObject(x, what);
  if (typeof fields.op !== "string") throw new ContractError(`${what} needs a string "op"`);
  return { op: fields.op, fields };
}

/** An account id: `0x` and 64 lower-case hex digits, as in `Origin.id`. */
export function accountId(x: unknown, what: string): string {
  if (typeof x !== "string" || !ACCOUNT_ID.test(x)) throw new ContractError(`${what} must be an account id (0x and 64 lower-case hex digits)`);
  return x;
}

/** The sender's account; contracts calling contracts are reserved and refused here. */
export function senderAccount(origin: Origin): string {
  if (origin.kind !== "account") throw new ContractError("only accounts can use this contract");
  return accountId(origin.id, "origin");
}
