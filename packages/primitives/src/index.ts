export { blake2b64, blake2b128, blake2b256, blake2b512, blake2b256Keyed, twox64, twox128, twox256 } from "./hashing.ts";
export { toHex, fromHex, HexError, concatBytes, concatByteList, bytesEqual, compareBytes, utf8, bytesKey, u32le, u64le, writeU32le } from "./bytes.ts";
export { PrimitivesError } from "./errors.ts";
export { randomBytes } from "./random.ts";
export { encodeBase58, decodeBase58 } from "./base58.ts";
export {
  encodeSs58,
  decodeSs58,
  Ss58Error,
  PHALA_SS58_PREFIX,
  SUBSTRATE_SS58_PREFIX,
  SS58_PREFIX_MAX,
  type Ss58ErrorCode,
  type DecodedSs58,
  type DecodeSs58Options,
} from "./ss58.ts";
export {
  parseSecretUri,
  junctionChainCode,
  SecretUriError,
  DEV_PHRASE,
  JUNCTION_ID_LENGTH,
  SECRET_URI_LENGTH_MAX,
  type SecretUri,
  type DeriveJunction,
} from "./secret-uri.ts";
export { mnemonicToMiniSecret, isValidMnemonic, MnemonicError } from "./mnemonic.ts";
export {
  sr25519SecretFromSeed,
  sr25519PublicKey,
  sr25519Derive,
  sr25519Sign,
  verifySr25519,
  SR25519_PUBLIC_KEY_LENGTH,
  SR25519_SIGNATURE_LENGTH,
  SR25519_SECRET_KEY_LENGTH,
} from "./sr25519.ts";
export {
  ed25519Signer,
  ed25519PublicKeyFromSeed,
  ed25519Sign,
  ed25519DeriveHard,
  verifyEd25519,
  ED25519_SEED_LENGTH,
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  ED25519_KEY_CACHE_SIZE_MAX,
} from "./ed25519.ts";
export {
  ecdsaPublicKeyFromSeed,
  ecdsaDeriveHard,
  ecdsaSign,
  ecdsaRecover,
  verifyEcdsa,
  isValidEcdsaSeed,
  ECDSA_SEED_LENGTH,
  ECDSA_PUBLIC_KEY_LENGTH,
  ECDSA_SIGNATURE_LENGTH,
} from "./ecdsa.ts";
export { keyPairFromSeed, keyPairFromUri, KeyError, KEY_TYPES, SEED_LENGTH, type KeyPair, type KeyType } from "./keys.ts";
export { devAccount, devKeyring, DEV_ACCOUNT_NAMES, type DevAccountName } from "./dev-accounts.ts";
export {
  verifyMultiSignature,
  signingPayload,
  SIGNING_PAYLOAD_HASH_THRESHOLD,
  type MultiSignature,
} from "./multi-signature.ts";
export { x25519PublicKey, x25519KeyPair, x25519GenerateKeyPair, x25519SharedSecret, X25519Error, X25519_KEY_LENGTH, type X25519KeyPair, type X25519ErrorCode } from "./x25519.ts";
export { hkdfSha256, kdfInfo, deriveSecret, signingKeyFromSecret, encryptionKeyFromSecret, KdfError, DERIVED_SECRET_LENGTH, HKDF_SHA256_OUTPUT_MAX, KDF_INFO_BYTES_MAX } from "./kdf.ts";
export type { KdfErrorCode } from "./kdf.ts";
export {
  aesGcmEncrypt,
  aesGcmDecrypt,
  envelopeKey,
  EnvelopeKeyCache,
  sealWithKey,
  openWithKey,
  sealEnvelope,
  openEnvelope,
  EnvelopeError,
  AES_GCM_KEY_LENGTH,
  AES_GCM_NONCE_LENGTH,
  AES_GCM_TAG_LENGTH,
  type Envelope,
  type EnvelopeErrorCode,
  type SealEnvelopeParams,
  type OpenEnvelopeParams,
} from "./envelope.ts";
export { createLogger, silentLogger, type Logger, type LogFields, type LogLevel } from "./logger.ts";
export { assert, InvariantError, type Assert } from "./assert.ts";
