/**
 * Parses Substrate secret URIs (`phrase/soft//hard///password`) exactly as
 * `sp_core::crypto::SecretUri` does, and turns each junction into its 32-byte
 * chain code as `sp_core::crypto::DeriveJunction` does.
 */
import { str, u64 } from "scale-ts";
import { PrimitivesError } from "./errors.ts";
import { blake2b256 } from "./hashing.ts";

/** The phrase behind Substrate's and polkadot-js's dev accounts (`//Alice`, ...). */
export const DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
/** Chain codes are 32 bytes; a longer SCALE-encoded junction is replaced by its blake2b-256. */
export const JUNCTION_ID_LENGTH = 32;
/** Guards the regular expression and derivation loop against absurd inputs; real URIs are far shorter. */
export const SECRET_URI_LENGTH_MAX = 4096;
const U64_MAX = (1n << 64n) - 1n;

// Same grammar as Substrate's SECRET_PHRASE_REGEX: an optional phrase, any number of
// `/soft` or `//hard` junctions, then an optional `///password`.
const SECRET_URI_RE = /^([a-zA-Z0-9 ]+)?((?:\/\/?[^/]+)*)(?:\/\/\/(.*))?$/;
const JUNCTION_RE = /\/(\/?[^/]+)/g;

export class SecretUriError extends PrimitivesError<"INVALID_SECRET_URI"> {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super("INVALID_SECRET_URI", message, options);
    this.name = "SecretUriError";
  }
}

export interface DeriveJunction {
  /** `//name` is hard (the child key cannot be computed from the parent public key); `/name` is soft. */
  readonly hard: boolean;
  /** 32-byte chain code: SCALE(u64 or string), zero-padded, or blake2b-256 of it when longer than 32 bytes. */
  readonly chainCode: Uint8Array;
}

export interface SecretUri {
  /** The mnemonic or `0x` hex seed; `DEV_PHRASE` when the URI starts directly with a junction. */
  readonly phrase: string;
  readonly junctions: readonly DeriveJunction[];
  /** The BIP39 password (`///password`), if any. */
  readonly password: string | undefined;
}

/** Chain code for one junction's text (without its leading slashes). */
export function junctionChainCode(code: string): Uint8Array {
  // Substrate: `if let Ok(n) = u64::from_str(j) { n.into() } else { j.into() }`.
  // Rust's u64 parser accepts an optional leading '+', and rejects overflow.
  let encoded: Uint8Array;
  if (/^\+?[0-9]+$/.test(code) && BigInt(code) <= U64_MAX) encoded = u64.enc(BigInt(code));
  else encoded = str.enc(code);
  if (encoded.length > JUNCTION_ID_LENGTH) return blake2b256(encoded);
  const chainCode = new Uint8Array(JUNCTION_ID_LENGTH);
  chainCode.set(encoded);
  return chainCode;
}

export function parseSecretUri(uri: string): SecretUri {
  if (typeof uri !== "string") throw new SecretUriError(`a secret URI must be a string, got ${typeof uri}`);
  if (uri.length > SECRET_URI_LENGTH_MAX) {
    throw new SecretUriError(`secret URI is ${uri.length} characters long; the limit is ${SECRET_URI_LENGTH_MAX}`);
  }
  const match = SECRET_URI_RE.exec(uri);
  if (match === null) {
    // Never echo the URI: it is a secret.
    throw new SecretUriError(
      "secret URI is malformed: expected `<mnemonic or 0x seed>[/soft][//hard][///password]`, e.g. `//Alice` or `<12 words>//stash`",
    );
  }
  const [, phrase, path, password] = match;
  const junctions: DeriveJunction[] = [];
  for (const [, part] of path.matchAll(JUNCTION_RE)) {
    const hard = part.startsWith("/");
    junctions.push({ hard, chainCode: junctionChainCode(hard ? part.slice(1) : part) });
  }
  return { phrase: phrase ?? DEV_PHRASE, junctions, password };
}
