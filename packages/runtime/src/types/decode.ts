/** Whole-input decoding with one error type, and encoding by declared type. */
import { withCursor } from "./codecs.ts";
import { ScaleDecodeError } from "./errors.ts";
import type { Type } from "./type.ts";

function run<X>(type: Type<X>, bytes: Uint8Array): { value: X; consumed: number; length: number } {
  if (!(bytes instanceof Uint8Array)) throw new ScaleDecodeError("expected a Uint8Array to decode");
  try {
    return withCursor(bytes, (c) => type.codec.dec(c));
  } catch (e) {
    if (e instanceof ScaleDecodeError) throw e;
    // RangeError: a foreign scale-ts codec read past the end, or the stack ran out.
    if (e instanceof RangeError) throw new ScaleDecodeError(`malformed input: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Decodes `bytes` as exactly one value of `type`; throws ScaleDecodeError if malformed, truncated or followed by extra bytes. */
export function decodeExact<X>(type: Type<X>, bytes: Uint8Array): X {
  const { value, consumed, length } = run(type, bytes);
  if (consumed !== length) {
    throw new ScaleDecodeError(`${length - consumed} trailing bytes after the value`, { details: { consumed, length } });
  }
  return value;
}

/** Decodes one value of `type` from the start of `bytes`, returning it and the number of bytes it took. */
export function decodePrefix<X>(type: Type<X>, bytes: Uint8Array): { value: X; length: number } {
  const { value, consumed } = run(type, bytes);
  return { value, length: consumed };
}

/** SCALE-encodes `value` as `type`; throws ScaleEncodeError if the value does not fit. */
export function encode<X>(type: Type<X>, value: X): Uint8Array {
  return type.codec.enc(value);
}
