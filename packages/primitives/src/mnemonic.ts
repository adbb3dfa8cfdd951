/**
 * substrate-bip39: the 32-byte mini secret behind a mnemonic. Unlike BIP39's
 * seed, Substrate runs PBKDF2 over the phrase's *entropy*, not its words.
 */
import { backend } from "#crypto-backend";
import { mnemonicToEntropy, validateMnemonic } from "@scure/bip39";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { PrimitivesError } from "./errors.ts";

/** substrate-bip39 fixes PBKDF2-HMAC-SHA512 at 2048 rounds, like BIP39. */
const PBKDF2_ROUNDS = 2048;
const MINI_SECRET_LENGTH = 32;

export class MnemonicError extends PrimitivesError<"INVALID_MNEMONIC"> {
  constructor(message: string, cause?: unknown) {
    super("INVALID_MNEMONIC", message, { cause });
    this.name = "MnemonicError";
  }
}

/** Words separated by any whitespace, as the Rust `bip39` crate splits them. */
function normalizePhrase(phrase: string): string {
  return phrase.normalize("NFKD").trim().split(/\s+/).join(" ");
}

export function isValidMnemonic(phrase: string): boolean {
  return validateMnemonic(normalizePhrase(phrase), english);
}

/** Mini secret = PBKDF2-HMAC-SHA512(entropy, "mnemonic" ++ password, 2048)[0..32]. */
export function mnemonicToMiniSecret(phrase: string, password = ""): Uint8Array {
  let entropy: Uint8Array;
  try {
    entropy = mnemonicToEntropy(normalizePhrase(phrase), english);
  } catch (cause) {
    // Never echo the phrase: it is a secret.
    throw new MnemonicError("phrase is not a valid English BIP39 mnemonic (12, 15, 18, 21 or 24 known words with a valid checksum)", cause);
  }
  const salt = new TextEncoder().encode(`mnemonic${password}`);
  const seed = backend.pbkdf2Sha512(entropy, salt, PBKDF2_ROUNDS, 64);
  const mini = seed.slice(0, MINI_SECRET_LENGTH);
  seed.fill(0);
  return mini;
}
