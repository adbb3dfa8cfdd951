/**
 * The crypto backend for browsers: the audited pure-JavaScript @noble libraries, which run
 * anywhere with WebCrypto's `getRandomValues` and stay synchronous like node:crypto (WebCrypto's
 * own primitives are asynchronous). The default of `#crypto-backend`: everywhere but Node.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { CryptoBackend } from "./types.ts";

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < length; at += 65_536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65_536)));
  return out;
}

export const backend: CryptoBackend = {
  name: "portable",

  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),

  ed25519Signer(seed) {
    const secret = seed.slice();
    return (message) => ed25519.sign(message, secret);
  },

  ed25519Verify(publicKey, message, signature) {
    try {
      // RFC 8032 rules, as OpenSSL applies them on the node side.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },

  x25519PublicKey: (privateKey) => x25519.getPublicKey(privateKey),

  x25519Generate() {
    const privateKey = randomBytes(32);
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },

  x25519SharedSecret(privateKey, _cacheId, publicKey) {
    try {
      return x25519.getSharedSecret(privateKey, publicKey);
    } catch {
      // noble refuses a peer key whose agreement is all zeros, i.e. one of small order.
      return "WEAK_PUBLIC_KEY";
    }
  },

  aesGcmEncrypt: (key, nonce, associatedData, plaintext) => gcm(key, nonce, associatedData).encrypt(plaintext),

  aesGcmDecrypt(key, nonce, associatedData, sealed) {
    try {
      return gcm(key, nonce, associatedData).decrypt(sealed);
    } catch {
      return undefined;
    }
  },

  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),

  pbkdf2Sha512: (password, salt, rounds, length) => pbkdf2(sha512, password, salt, { c: rounds, dkLen: length }),

  randomBytes,
};
