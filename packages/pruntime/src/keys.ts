/**
 * The worker's own keys (ARCHITECTURE §5): an ed25519 identity key that signs egress,
 * endpoints and evidence, and an x25519 key that secrets for this worker are encrypted to.
 * Both are generated inside pRuntime and leave it only sealed. The secrets sit in private
 * fields so that logging or serializing a WorkerKeys shows nothing secret.
 */
import { randomBytes } from "node:crypto";
import { keyPairFromSeed, x25519KeyPair, x25519SharedSecret, type KeyPair, type X25519KeyPair } from "@phala-ts/primitives";

export const WORKER_SECRET_LENGTH = 32;

export class WorkerKeys {
  readonly #identitySeed: Uint8Array;
  readonly #identity: KeyPair;
  readonly #ecdh: X25519KeyPair;

  constructor(identitySeed: Uint8Array, ecdhPrivateKey: Uint8Array) {
    this.#identitySeed = identitySeed.slice();
    this.#identity = keyPairFromSeed(this.#identitySeed, "ed25519");
    this.#ecdh = x25519KeyPair(ecdhPrivateKey);
  }

  static generate(random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): WorkerKeys {
    return new WorkerKeys(random(WORKER_SECRET_LENGTH), random(WORKER_SECRET_LENGTH));
  }

  /** ed25519 public key: the worker's id on chain. */
  get identityPublicKey(): Uint8Array {
    return this.#identity.publicKey;
  }

  get ecdhPublicKey(): Uint8Array {
    return this.#ecdh.publicKey;
  }

  sign(message: Uint8Array): Uint8Array {
    return this.#identity.sign(message);
  }

  /** The x25519 secret shared with `peerPublicKey`. */
  agree(peerPublicKey: Uint8Array): Uint8Array {
    return x25519SharedSecret(this.#ecdh.privateKey, peerPublicKey);
  }

  /** The ecdh private key, for opening envelopes addressed to this worker. */
  ecdhPrivateKey(): Uint8Array {
    return this.#ecdh.privateKey.slice();
  }

  /** Only for sealing into a checkpoint. */
  exportSecrets(): { identitySeed: Uint8Array; ecdhPrivateKey: Uint8Array } {
    return { identitySeed: this.#identitySeed.slice(), ecdhPrivateKey: this.#ecdh.privateKey.slice() };
  }

  toJSON(): Record<string, string> {
    return { identityPublicKey: Buffer.from(this.identityPublicKey).toString("hex"), ecdhPublicKey: Buffer.from(this.ecdhPublicKey).toString("hex") };
  }
}
