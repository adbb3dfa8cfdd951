export { blake2b128, blake2b256, blake2b512, blake2b256Keyed, twox64, twox128, twox256 } from "./hashing.ts";
export { toHex, fromHex, HexError, concatBytes, bytesEqual, compareBytes, utf8 } from "./bytes.ts";
