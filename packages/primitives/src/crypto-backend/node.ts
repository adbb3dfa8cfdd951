/**
 * The crypto backend on Node: OpenSSL through node:crypto. It is several times faster than
 * the portable one for the operations a node or worker does in bulk (ed25519 verification,
 * x25519 agreement, AES-GCM), so servers always use it. The `node` condition of the
 * `#crypto-backend` import (package.json) chooses this file; every other platform (browsers,
 * edge runtimes) gets `portable.ts`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  pbkdf2Sync,
  randomFillSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { bytesKey } from "../bytes.ts";
import { ED25519_KEY_CACHE_SIZE_MAX, type CryptoBackend } from "./types.ts";

// DER headers that wrap raw 32-byte keys into PKCS#8 (private) and SPKI (public) for OpenSSL.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const AES_GCM_TAG_LENGTH = 16;

/**
 * Parsed public keys kept for reuse: building an OpenSSL key costs about as much as a
 * verification, and finality certificates are signed by the same few validators block after
 * block. The oldest entry is evicted first.
 */
const ed25519KeyCache = new Map<string, KeyObject>();

/**
 * OpenSSL key objects of recently used x25519 private keys. Importing a key costs far more than
 * the agreement itself, and workers use the same few keys (their own, their contracts') for every
 * envelope. The map is keyed by a caller-supplied digest, so it never holds the key bytes as a key.
 */
const X25519_KEY_CACHE_MAX = 1024;
const x25519KeyCache = new Map<string, { key: KeyObject; publicKey: Uint8Array }>();

/**
 * A plain Uint8Array with its own memory. Small Buffers are slices of a shared pool; a view of
 * one would let callers that read `.buffer` see (or keep alive) unrelated bytes, secrets included.
 */
function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b);
}

function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

function x25519Entry(privateKey: Uint8Array, cacheId: string): { key: KeyObject; publicKey: Uint8Array } {
  const hit = x25519KeyCache.get(cacheId);
  if (hit) {
    // Most recently used last, so the oldest entry is the first one the map yields.
    x25519KeyCache.delete(cacheId);
    x25519KeyCache.set(cacheId, hit);
    return hit;
  }
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(key).export({ format: "jwk" }) as { x: string };
  const entry = { key, publicKey: bytes(Buffer.from(jwk.x, "base64url")) };
  rememberX25519(cacheId, entry);
  return entry;
}

function rememberX25519(cacheId: string, entry: { key: KeyObject; publicKey: Uint8Array }): void {
  if (x25519KeyCache.size >= X25519_KEY_CACHE_MAX) x25519KeyCache.delete(x25519KeyCache.keys().next().value!);
  x25519KeyCache.set(cacheId, entry);
}

/**
 * Small requests (nonces, a few per query or command) are served from one CSPRNG fill of
 * RANDOM_POOL_BYTES: a fill per request cost more than the AES-GCM around it.
 */
const RANDOM_POOL_BYTES = 4096;
const RANDOM_POOL_SERVES_MAX = 64;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
let randomPoolOffset = RANDOM_POOL_BYTES;

export const backend: CryptoBackend = {
  name: "node",

  ed25519PublicKey(seed) {
    const spki = createPublicKey(ed25519PrivateKey(seed)).export({ format: "der", type: "spki" });
    return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length));
  },

  ed25519Signer(seed) {
    const key = ed25519PrivateKey(seed);
    return (message) => bytes(nodeSign(null, message, key));
  },

  ed25519Verify(publicKey, message, signature) {
    const cacheKey = bytesKey(publicKey);
    let key = ed25519KeyCache.get(cacheKey);
    if (key === undefined) {
      try {
        key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
      } catch {
        // OpenSSL refuses some 32-byte strings as keys; such a key verifies nothing.
        return false;
      }
      if (ed25519KeyCache.size >= ED25519_KEY_CACHE_SIZE_MAX) ed25519KeyCache.delete(ed25519KeyCache.keys().next().value!);
      ed25519KeyCache.set(cacheKey, key);
    }
    return nodeVerify(null, message, key, signature);
  },

  x25519PublicKey(privateKey, cacheId) {
    return x25519Entry(privateKey, cacheId).publicKey.slice();
  },

  x25519Generate(cacheIdOf) {
    const { privateKey: key } = generateKeyPairSync("x25519");
    const jwk = key.export({ format: "jwk" }) as { d: string; x: string };
    const privateKey = bytes(Buffer.from(jwk.d, "base64url"));
    const publicKey = bytes(Buffer.from(jwk.x, "base64url"));
    rememberX25519(cacheIdOf(privateKey), { key, publicKey });
    return { privateKey, publicKey: publicKey.slice() };
  },

  x25519SharedSecret(privateKey, cacheId, publicKey) {
    const priv = x25519Entry(privateKey, cacheId).key;
    let pub: KeyObject;
    try {
      // JWK import is an order of magnitude cheaper than DER in OpenSSL 3.
      pub = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
    } catch {
      return "INVALID_KEY";
    }
    try {
      return bytes(diffieHellman({ privateKey: priv, publicKey: pub }));
    } catch {
      return "WEAK_PUBLIC_KEY";
    }
  },

  aesGcmEncrypt(key, nonce, associatedData, plaintext) {
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
    cipher.setAAD(associatedData);
    return bytes(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
  },

  aesGcmDecrypt(key, nonce, associatedData, sealed) {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
    decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.subarray(sealed.length - AES_GCM_TAG_LENGTH));
    const body = decipher.update(sealed.subarray(0, sealed.length - AES_GCM_TAG_LENGTH));
    try {
      const joined = Buffer.concat([body, decipher.final()]);
      const plaintext = bytes(joined);
      joined.fill(0);
      return plaintext;
    } catch {
      return undefined;
    } finally {
      body.fill(0);
    }
  },

  hkdfSha256(ikm, salt, info, length) {
    return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
  },

  pbkdf2Sha512(password, salt, rounds, length) {
    return bytes(pbkdf2Sync(password, salt, rounds, length, "sha512"));
  },

  randomBytes(length) {
    if (length > RANDOM_POOL_SERVES_MAX) return randomFillSync(new Uint8Array(length));
    if (randomPoolOffset + length > RANDOM_POOL_BYTES) {
      randomFillSync(randomPool);
      randomPoolOffset = 0;
    }
    const out = randomPool.slice(randomPoolOffset, randomPoolOffset + length);
    // Handed out once: wiped, so the pool never holds bytes someone already has.
    randomPool.fill(0, randomPoolOffset, randomPoolOffset + length);
    randomPoolOffset += length;
    return out;
  },
};
