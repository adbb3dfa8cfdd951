/**
 * Adversarial: a regular expression with exponential backtracking. Matching
 * `/^(a+)+$/` against n "a"s followed by "!" takes about 2^n steps, all inside one
 * native regex call. The VM must stop it at the gas limit (its interrupt handler is
 * also polled by the regex engine), charge the sender, and keep serving other contracts.
 *
 * - `{ op: "ping" }` answers `"pong"`.
 * - `{ op: "match", n }` runs the match with `n` "a"s (default 40, at most 64) and
 *   answers whether it matched (it never does).
 */
import { ContractError, defineContract } from "@phala-ts/contract";

/** Default length of the run of "a"s: 2^40 steps, far beyond any gas limit. */
const RUN_LENGTH_DEFAULT = 40;
/** Longest run accepted; bounds the input, not the work. */
const RUN_LENGTH_MAX = 64;

const EVIL = /^(a+)+$/;

function run(input: unknown): unknown {
  const fields = typeof input === "object" && input !== null ? (input as { op?: unknown; n?: unknown }) : {};
  if (fields.op !== "match") return "pong";
  const n = fields.n ?? RUN_LENGTH_DEFAULT;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > RUN_LENGTH_MAX) throw new ContractError(`n must be a whole number from 1 to ${RUN_LENGTH_MAX}`);
  return { matched: EVIL.test("a".repeat(n) + "!") };
}

export default defineContract({
  handle: (command: unknown) => run(command),
  query: (request: unknown) => run(request),
});
