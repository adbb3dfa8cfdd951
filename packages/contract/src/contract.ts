import type { Origin } from "./env.ts";

/**
 * A contract: optional `init` (run once at instantiation), `handle` (commands, which may
 * change state) and `query` (read-only requests). Inputs arrive as parsed JSON and results
 * must be JSON values; inputs come from users, so validate them before trusting their shape.
 */
export interface ContractDefinition<I = unknown, C = unknown, CR = unknown, Q = unknown, QR = unknown> {
  init?(args: I): void;
  handle?(command: C, origin: Origin): CR;
  query?(request: Q, origin: Origin): QR;
}

/** Declares the contract; the module must `export default` what this returns. */
export function defineContract<I, C, CR, Q, QR>(c: { init?(args: I): void; handle?(command: C, origin: Origin): CR; query?(request: Q, origin: Origin): QR }): typeof c {
  for (const name of ["init", "handle", "query"] as const) {
    if (c[name] !== undefined && typeof c[name] !== "function") throw new TypeError(`defineContract: ${name} must be a function`);
  }
  return c;
}

/**
 * A user error: the call fails, its state changes are discarded, and the VM reports
 * `message` to the sender as a contract error. Recognised by `name === "ContractError"`.
 * Put in the message only what the caller may learn.
 */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContractError";
  }
}
