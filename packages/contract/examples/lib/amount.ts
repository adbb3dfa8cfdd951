/**
 * Token amounts for the example contracts: exact `bigint`s from 0 to 2^128 - 1, written by
 * users as decimal strings (or JSON integers up to 2^53) and stored at a fixed width.
 */
import { ContractError } from "@phala-ts/contract";

/** Largest amount: PHA balances are u128 on chain, and so are these. */
export const AMOUNT_MAX = (1n << 128n) - 1n;
/** Decimal digits of `AMOUNT_MAX`; amounts are stored zero-padded to this width (see `encodeAmount`). */
export const AMOUNT_DIGITS = 39;
/** Largest amount accepted as a JSON number: larger numbers are not exact in JSON/IEEE-754 doubles. */
export const AMOUNT_NUMBER_MAX = 2 ** 53;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** An amount given as a decimal string (up to `AMOUNT_MAX`) or as a JSON integer up to 2^53. */
export function parseAmount(x: unknown, what: string): bigint {
  if (typeof x === "number") {
    if (!Number.isInteger(x) || x < 0 || x > AMOUNT_NUMBER_MAX) {
      throw new ContractError(`${what} must be a whole number from 0 to 2^53, or a decimal string`);
    }
    return BigInt(x);
  }
  if (typeof x === "string") {
    if (!DECIMAL.test(x)) throw new ContractError(`${what} must be a non-negative decimal integer`);
    if (x.length > AMOUNT_DIGITS || BigInt(x) > AMOUNT_MAX) throw new ContractError(`${what} is larger than 2^128 - 1`);
    return BigInt(x);
  }
  throw new ContractError(`${what} must be a decimal string or a whole number`);
}

/**
 * Stored form of an amount: always `AMOUNT_DIGITS` digits, so writing one costs the same
 * gas and storage deposit whatever its value, and the size of what is stored does not
 * hint at the amount.
 */
export function encodeAmount(v: bigint): string {
  if (v < 0n || v > AMOUNT_MAX) throw new RangeError("amount out of range"); // callers check first: a broken invariant
  return v.toString().padStart(AMOUNT_DIGITS, "0");
}

export function decodeAmount(s: string): bigint {
  return BigInt(s);
}
