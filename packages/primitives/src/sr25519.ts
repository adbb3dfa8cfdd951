/**
 * sr25519 (Schnorr over Ristretto25519, schnorrkel) with Substrate's "substrate"
 * signing context, via @scure/sr25519.
 */
import * as sr from "@scure/sr25519";

export const SR25519_PUBLIC_KEY_LENGTH = 32;
export const SR25519_SIGNATURE_LENGTH = 64;
/** @scure/sr25519's expanded secret: scalar (32) ++ nonce (32). */
export const SR25519_SECRET_KEY_LENGTH = 64;

/** Expands a 32-byte mini secret the way Substrate does (schnorrkel `ExpansionMode::Ed25519`). */
export function sr25519SecretFromSeed(seed: Uint8Array): Uint8Array {
  return sr.secretFromSeed(seed);
}

export function sr25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return sr.getPublicKey(secretKey);
}

/** Derives a child secret; `hard` follows schnorrkel's `hard_derive_mini_secret_key`, soft its `derived_key_simple`. */
export function sr25519Derive(secretKey: Uint8Array, chainCode: Uint8Array, hard: boolean): Uint8Array {
  return hard ? sr.HDKD.secretHard(secretKey, chainCode) : sr.HDKD.secretSoft(secretKey, chainCode);
}

/** Signs under the "substrate" context; signatures are randomised, as schnorrkel's are. */
export function sr25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return sr.sign(secretKey, message);
}

/** Verifies an sr25519 signature; malformed keys or signatures give `false`, never an exception. */
export function verifySr25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== SR25519_PUBLIC_KEY_LENGTH || signature.length !== SR25519_SIGNATURE_LENGTH) return false;
  try {
    return sr.verify(message, signature, publicKey);
  } catch {
    // @scure/sr25519 throws on a missing schnorrkel marker bit or a non-canonical point:
    // both mean "not a valid signature", which is this function's documented answer.
    return false;
  }
}
