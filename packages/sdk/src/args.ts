/** Checks of numeric arguments shared by the client and contract handles. */
import { COMMAND_GAS_MAX } from "@phala-ts/runtime/phala";
import { PhalaSdkError } from "./errors.ts";

export function bigintArg(v: bigint | number, what: string): bigint {
  if (typeof v === "bigint" ? v < 0n : !Number.isSafeInteger(v) || v < 0) {
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `${what} must be a non-negative integer, got ${String(v)}`);
  }
  return BigInt(v);
}

export function gasLimitArg(v: bigint | number | undefined): bigint {
  if (v === undefined) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "say how much gas the call may use: gasLimit");
  const g = bigintArg(v, "gasLimit");
  if (g === 0n || g >= 1n << 64n) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `gasLimit must be from 1 to 2^64-1, got ${g}`);
  // The chain and the workers refuse a larger limit; refusing here costs not even the fee.
  if (g > COMMAND_GAS_MAX) {
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `gasLimit ${g} is above the chain's CommandGasMax of ${COMMAND_GAS_MAX} gas per call; ask for at most that`, {
      details: { gasLimit: g, commandGasMax: COMMAND_GAS_MAX },
    });
  }
  return g;
}

