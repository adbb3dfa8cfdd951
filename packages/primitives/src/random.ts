/** Random bytes from the platform's CSPRNG (OpenSSL's in Node, through a small pool; WebCrypto in browsers). */
import { backend } from "#crypto-backend";
import { PrimitivesError } from "./errors.ts";

export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new PrimitivesError("INVALID_LENGTH", `cannot draw ${length} random bytes; ask for a whole number of bytes`);
  return backend.randomBytes(length);
}
