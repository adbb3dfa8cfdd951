/**
 * Key pairs for the three MultiSignature schemes, created from a seed or a
 * Substrate secret URI exactly as `sp_core::Pair::from_string` and polkadot-js
 * `Keyring.addFromUri` create them.
 */
import { fromHex } from "./bytes.ts";
import { ecdsaDeriveHard, ecdsaPublicKeyFromSeed, ecdsaSign, isValidEcdsaSeed } from "./ecdsa.ts";
import { ed25519DeriveHard, ed25519PublicKeyFromSeed, ed25519Signer } from "./ed25519.ts";
import { PrimitivesError } from "./errors.ts";
import { blake2b256 } from "./hashing.ts";
import { mnemonicToMiniSecret } from "./mnemonic.ts";
import { parseSecretUri, SecretUriError, type DeriveJunction } from "./secret-uri.ts";
import { sr25519Derive, sr25519PublicKey, sr25519SecretFromSeed, sr25519Sign } from "./sr25519.ts";

export type KeyType = "sr25519" | "ed25519" | "ecdsa";
export const KEY_TYPES: readonly KeyType[] = ["sr25519", "ed25519", "ecdsa"];
/** Every scheme starts from a 32-byte seed (mini secret for sr25519, secret key for ecdsa). */
export const SEED_LENGTH = 32;

export interface KeyPair {
  readonly type: KeyType;
  /** 32 bytes for sr25519/ed25519, 33 bytes (compressed) for ecdsa. */
  readonly publicKey: Uint8Array;
  /** AccountId32: the public key for sr25519/ed25519, blake2b-256(compressed key) for ecdsa. */
  readonly accountId: Uint8Array;
  /**
   * Signs `message` as given (64 bytes for sr25519/ed25519, 65 for ecdsa, which
   * hashes it with blake2b-256 first). For extrinsic payloads apply
   * `signingPayload` first: Substrate signs payloads over 256 bytes by hash.
   */
  sign(message: Uint8Array): Uint8Array;
}

export class KeyError extends PrimitivesError<"INVALID_SEED" | "INVALID_DERIVATION"> {
  constructor(code: "INVALID_SEED" | "INVALID_DERIVATION", message: string, details?: Record<string, unknown>) {
    super(code, message, { details });
    this.name = "KeyError";
  }
}

function assertKeyType(type: KeyType): void {
  if (!KEY_TYPES.includes(type)) {
    throw new KeyError("INVALID_SEED", `unknown key type "${String(type)}"; use one of ${KEY_TYPES.join(", ")}`);
  }
}

function assertSeed(seed: Uint8Array, type: KeyType): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new KeyError("INVALID_SEED", `a ${type} seed must be ${SEED_LENGTH} bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  if (type === "ecdsa" && !isValidEcdsaSeed(seed)) {
    throw new KeyError("INVALID_SEED", "the seed is not a valid secp256k1 secret key (it must be non-zero and below the curve order)");
  }
}

function sr25519Pair(secretKey: Uint8Array): KeyPair {
  const publicKey = sr25519PublicKey(secretKey);
  return Object.freeze({
    type: "sr25519" as const,
    publicKey,
    accountId: publicKey,
    sign: (message: Uint8Array) => sr25519Sign(secretKey, message),
  });
}

function ed25519Pair(seed: Uint8Array): KeyPair {
  const sign = ed25519Signer(seed);
  const publicKey = ed25519PublicKeyFromSeed(seed);
  return Object.freeze({
    type: "ed25519" as const,
    publicKey,
    accountId: publicKey,
    sign,
  });
}

function ecdsaPair(seed: Uint8Array): KeyPair {
  const secret = seed.slice();
  const publicKey = ecdsaPublicKeyFromSeed(secret);
  return Object.freeze({
    type: "ecdsa" as const,
    publicKey,
    accountId: blake2b256(publicKey),
    sign: (message: Uint8Array) => ecdsaSign(secret, message),
  });
}

/** Applies `junctions` to `seed` and builds the key pair; soft junctions exist only for sr25519. */
function derive(seed: Uint8Array, junctions: readonly DeriveJunction[], type: KeyType): KeyPair {
  assertSeed(seed, type);
  if (type === "sr25519") {
    let secretKey = sr25519SecretFromSeed(seed);
    for (const j of junctions) secretKey = sr25519Derive(secretKey, j.chainCode, j.hard);
    return sr25519Pair(secretKey);
  }
  if (junctions.some((j) => !j.hard)) {
    throw new KeyError("INVALID_DERIVATION", `${type} keys support only hard junctions (\`//name\`); soft junctions (\`/name\`) need sr25519`);
  }
  let current = seed;
  for (const j of junctions) current = type === "ed25519" ? ed25519DeriveHard(current, j.chainCode) : ecdsaDeriveHard(current, j.chainCode);
  if (type === "ed25519") return ed25519Pair(current);
  // A derived ecdsa seed outside 1..n-1 has probability ~2^-128; Substrate fails there too.
  assertSeed(current, type);
  return ecdsaPair(current);
}

/** Builds a key pair from a 32-byte seed (no derivation). */
export function keyPairFromSeed(seed: Uint8Array, type: KeyType = "sr25519"): KeyPair {
  assertKeyType(type);
  return derive(seed, [], type);
}

/**
 * Builds a key pair from a secret URI: `<mnemonic | 0x seed>[/soft | //hard]*[///password]`,
 * or just a path such as `//Alice`, which applies to `DEV_PHRASE`. A mnemonic is
 * turned into a seed by substrate-bip39 with the password; a hex seed must be 32 bytes.
 * Throws `SecretUriError`, `MnemonicError` or `KeyError`; messages never contain the URI.
 */
export function keyPairFromUri(uri: string, type: KeyType = "sr25519"): KeyPair {
  assertKeyType(type);
  const { phrase, junctions, password } = parseSecretUri(uri);
  let seed: Uint8Array;
  if (phrase.startsWith("0x")) {
    const hex = phrase.slice(2);
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex) || hex.length !== SEED_LENGTH * 2) {
      throw new SecretUriError(`a hex seed in a secret URI must be 0x followed by ${SEED_LENGTH * 2} hex digits`);
    }
    seed = fromHex(phrase);
  } else {
    seed = mnemonicToMiniSecret(phrase, password ?? "");
  }
  return derive(seed, junctions, type);
}
