/**
 * What primitives needs from a crypto library, so the same modules run on OpenSSL in Node
 * and on audited pure-JavaScript code in browsers. Callers check lengths before calling;
 * a backend only computes.
 */
/** How many parsed ed25519 public keys a backend may keep; 1024 covers any realistic validator set. */
export const ED25519_KEY_CACHE_SIZE_MAX = 1024;

export interface CryptoBackend {
  readonly name: "node" | "portable";
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** A signing function with the key prepared once (OpenSSL key import costs as much as a signature). */
  ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array;
  /** RFC 8032 verification (not ZIP-215); false for malformed keys, never an exception. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** `cacheId` identifies the private key without containing it, for backends that cache prepared keys. */
  x25519PublicKey(privateKey: Uint8Array, cacheId: string): Uint8Array;
  x25519Generate(cacheIdOf: (privateKey: Uint8Array) => string): { privateKey: Uint8Array; publicKey: Uint8Array };
  /** The shared secret, or why the peer key cannot be used. */
  x25519SharedSecret(privateKey: Uint8Array, cacheId: string, publicKey: Uint8Array): Uint8Array | "INVALID_KEY" | "WEAK_PUBLIC_KEY";
  /** AES-256-GCM, 16-byte tag appended. */
  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** undefined when the ciphertext does not authenticate. */
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  pbkdf2Sha512(password: Uint8Array, salt: Uint8Array, rounds: number, length: number): Uint8Array;
  randomBytes(length: number): Uint8Array;
}
