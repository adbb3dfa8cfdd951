import { HexError, fromHex, toHex } from "@phala-ts/primitives";
import { PhalaSdkError } from "./errors.ts";

/** `0x`-prefixed lowercase hex, as the SDK returns ids, hashes and keys. */
export type Hex = `0x${string}`;

/** A 32-byte id (cluster, contract, code hash, worker key) as bytes or hex. */
export type IdLike = Uint8Array | string;

const ID_BYTES = 32;

/** The 32 bytes of an id given as bytes or hex; INVALID_ARGUMENT otherwise. */
export function idBytes(v: IdLike, what: string): Uint8Array {
  let bytes: Uint8Array;
  if (v instanceof Uint8Array) bytes = v;
  else {
    try {
      bytes = fromHex(v);
    } catch (e) {
      if (!(e instanceof HexError)) throw e;
      throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `the ${what} must be 0x followed by ${ID_BYTES * 2} hex digits`, { cause: e });
    }
  }
  if (bytes.length !== ID_BYTES) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `the ${what} must be ${ID_BYTES} bytes (0x followed by ${ID_BYTES * 2} hex digits), got ${bytes.length}`);
  return bytes.slice();
}

export function hex(bytes: Uint8Array): Hex {
  return toHex(bytes);
}
