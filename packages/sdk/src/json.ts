import { utf8 } from "@phala-ts/primitives";
import { PhalaSdkError } from "./errors.ts";

/** A JSON value: what contracts take and return (contract ABI, "Values"). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** UTF-8 JSON text of `value`; refuses what JSON cannot carry (undefined, functions, cycles, bigint). */
export function jsonBytes(value: unknown, what: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `the ${what} is not JSON: ${(e as Error).message}; pass plain objects, arrays, strings, numbers, booleans and null`, { cause: e });
  }
  if (text === undefined) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `the ${what} is not JSON (got ${typeof value}); pass plain objects, arrays, strings, numbers, booleans and null`);
  return utf8(text);
}

/** Parses a contract's JSON output; a contract answering anything else is a contract bug. */
export function parseJsonOutput(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new PhalaSdkError("CONTRACT_BAD_OUTPUT", "contract", `the contract's ${what} is not JSON; the contract or its VM is broken`, { cause: e, details: { output: text.slice(0, 200) } });
  }
}
