/**
 * SS58 addresses for AccountId32, byte-compatible with Substrate's `Ss58Codec`
 * and polkadot-js `encodeAddress` / `decodeAddress`.
 *
 * Layout: base58(prefix ++ accountId ++ checksum), where prefix is one byte for
 * network ids 0..63 and two bytes for 64..16383, and checksum is the first two
 * bytes of blake2b-512("SS58PRE" ++ prefix ++ accountId).
 */
import { decodeBase58, encodeBase58 } from "./base58.ts";
import { bytesEqual, concatBytes, utf8 } from "./bytes.ts";
import { PrimitivesError } from "./errors.ts";
import { blake2b512 } from "./hashing.ts";

/** Phala's registered SS58 network id. */
export const PHALA_SS58_PREFIX = 30;
/** The generic Substrate network id, used by polkadot-js when none is configured. */
export const SUBSTRATE_SS58_PREFIX = 42;
/** Largest network id the two-byte SS58 prefix can carry (14 bits). */
export const SS58_PREFIX_MAX = 16383;
/** Network ids reserved by the SS58 registry; Substrate refuses them. */
const RESERVED_PREFIXES: readonly number[] = [46, 47];
/** Only AccountId32 payloads are handled here. */
const ACCOUNT_ID_LENGTH = 32;
/** Substrate uses a 2-byte checksum for 32-byte payloads. */
const CHECKSUM_LENGTH = 2;
/** Longest text a valid address can have: base58 of 2 + 32 + 2 bytes is at most 50 characters. */
const ADDRESS_LENGTH_MAX = 64;
const SS58_CONTEXT = utf8("SS58PRE");

export type Ss58ErrorCode = "INVALID_SS58" | "INVALID_SS58_PREFIX";

export class Ss58Error extends PrimitivesError<Ss58ErrorCode> {
  constructor(code: Ss58ErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, { details });
    this.name = "Ss58Error";
  }
}

export interface DecodedSs58 {
  /** The 32-byte AccountId (public key for sr25519/ed25519, blake2b-256 of the key for ecdsa). */
  publicKey: Uint8Array;
  /** The network id the address was encoded for. */
  prefix: number;
}

export interface DecodeSs58Options {
  /** When set, an address for any other network is rejected. */
  expectedPrefix?: number;
}

function checksum(data: Uint8Array): Uint8Array {
  return blake2b512(concatBytes(SS58_CONTEXT, data)).subarray(0, CHECKSUM_LENGTH);
}

function assertPrefix(prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > SS58_PREFIX_MAX || RESERVED_PREFIXES.includes(prefix)) {
    throw new Ss58Error(
      "INVALID_SS58_PREFIX",
      `SS58 prefix ${prefix} is not usable: use an integer in 0..${SS58_PREFIX_MAX} other than 46 and 47 (Phala is ${PHALA_SS58_PREFIX})`,
      { prefix },
    );
  }
}

function encodePrefix(prefix: number): Uint8Array {
  if (prefix < 64) return Uint8Array.of(prefix);
  // Substrate's layout: the low 6 bits of the first byte hold bits 2..7 of the id,
  // the second byte holds bits 8..13 plus bits 0..1 in its top two bits.
  return Uint8Array.of(((prefix & 0b1111_1100) >> 2) | 0b0100_0000, (prefix >> 8) | ((prefix & 0b11) << 6));
}

/** Encodes a 32-byte AccountId as an SS58 address; `prefix` defaults to Phala's (30). */
export function encodeSs58(publicKey: Uint8Array, prefix: number = PHALA_SS58_PREFIX): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ACCOUNT_ID_LENGTH) {
    throw new Ss58Error(
      "INVALID_SS58",
      `an SS58 account address needs a ${ACCOUNT_ID_LENGTH}-byte AccountId, got ${publicKey instanceof Uint8Array ? `${publicKey.length} bytes` : typeof publicKey}`,
    );
  }
  assertPrefix(prefix);
  const body = concatBytes(encodePrefix(prefix), publicKey);
  return encodeBase58(concatBytes(body, checksum(body)));
}

function invalid(address: string, reason: string): Ss58Error {
  return new Ss58Error("INVALID_SS58", `"${address.length > ADDRESS_LENGTH_MAX ? `${address.slice(0, ADDRESS_LENGTH_MAX)}…` : address}" is not a valid SS58 account address: ${reason}`, {
    reason,
  });
}

/**
 * Decodes an SS58 account address for any network id and checks its checksum.
 * Throws `Ss58Error` (code `INVALID_SS58`, or `INVALID_SS58_PREFIX` for a mismatch
 * with `options.expectedPrefix`) with the reason.
 */
export function decodeSs58(address: string, options: DecodeSs58Options = {}): DecodedSs58 {
  if (typeof address !== "string") throw new Ss58Error("INVALID_SS58", `an SS58 address must be a string, got ${typeof address}`);
  if (address.length === 0) throw invalid(address, "it is empty");
  if (address.length > ADDRESS_LENGTH_MAX) throw invalid(address, `it is longer than ${ADDRESS_LENGTH_MAX} characters`);
  const data = decodeBase58(address);
  if (data === undefined) throw invalid(address, "it contains characters outside the base58 alphabet (0, O, I and l are not used)");
  if (data.length === 0) throw invalid(address, "it decodes to no bytes");

  let prefix: number;
  let prefixLength: number;
  const first = data[0];
  if (first < 64) {
    prefix = first;
    prefixLength = 1;
  } else if (first < 128) {
    if (data.length < 2) throw invalid(address, "it is too short");
    const second = data[1];
    prefix = (((first & 0b0011_1111) << 2) | (second >> 6)) | ((second & 0b0011_1111) << 8);
    prefixLength = 2;
    if (prefix < 64) throw invalid(address, `its two-byte prefix encodes network id ${prefix}, which must use the one-byte form`);
  } else {
    throw invalid(address, `its first byte 0x${first.toString(16)} is not an SS58 prefix (must be below 0x80)`);
  }
  if (RESERVED_PREFIXES.includes(prefix)) throw invalid(address, `network id ${prefix} is reserved`);

  const expectedLength = prefixLength + ACCOUNT_ID_LENGTH + CHECKSUM_LENGTH;
  if (data.length !== expectedLength) {
    throw invalid(
      address,
      `it decodes to ${data.length} bytes, an AccountId32 address has ${expectedLength} (prefix, 32-byte account, 2-byte checksum)`,
    );
  }
  const body = data.subarray(0, data.length - CHECKSUM_LENGTH);
  if (!bytesEqual(checksum(body), data.subarray(data.length - CHECKSUM_LENGTH))) {
    throw invalid(address, "its checksum does not match (a character was probably mistyped)");
  }
  if (options.expectedPrefix !== undefined && options.expectedPrefix !== prefix) {
    throw new Ss58Error(
      "INVALID_SS58_PREFIX",
      `"${address}" is an address for network ${prefix}, expected network ${options.expectedPrefix}; re-encode the account for this network`,
      { prefix, expectedPrefix: options.expectedPrefix },
    );
  }
  return { publicKey: data.slice(prefixLength, prefixLength + ACCOUNT_ID_LENGTH), prefix };
}
