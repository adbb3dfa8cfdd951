/**
 * A chain reader that trusts no RPC node (ARCHITECTURE §8). From the trust anchor (the
 * genesis and its validator set) it follows validator-set changes through the headers that
 * announce them, each certified by the set before, then checks the commit certificate of the
 * finalized block it reads at, and reads storage only through Merkle proofs against that
 * block's state root. Anything that does not verify is CHAIN_UNVERIFIED, naming the link that
 * failed; nothing read from an unverified answer reaches the caller.
 *
 * Warp-sync style: only set-change headers and the latest certificate are downloaded; what
 * was verified (the current set) is kept, so the next read costs one certificate check.
 */
import { blake2b256, bytesEqual, fromHex, toHex } from "@phala-ts/primitives";
import {
  CertificateError,
  HeaderError,
  announcedValidatorSet,
  decodeCertificate,
  decodeHeader,
  validatorSetProblem,
  verifyCertificate,
  type HeaderValue,
  type ValidatorSetValue,
} from "@phala-ts/runtime/consensus";
import { TimestampStorage } from "@phala-ts/runtime";
import { TrieError, orderedTrieRoot, verifyProof } from "@phala-ts/trie/proof";
import { PhalaSdkError, errorMessage } from "./errors.ts";
import { READ_PROOF_KEYS_MAX, SET_CHANGES_FOLLOWED_MAX } from "./limits.ts";
import type { RpcClient } from "./rpc-client.ts";
import { resolveAnchor, sameValidatorSet, type TrustAnchor, type TrustMode } from "./trust-anchor.ts";

/** The link of the chain of trust that failed. */
export type UnverifiedLink = "genesis" | "certificate" | "set-change" | "header" | "proof" | "stale" | "body" | "provenance";

export function unverified(link: UnverifiedLink, message: string, details: Record<string, unknown> = {}, cause?: unknown): PhalaSdkError {
  return new PhalaSdkError("CHAIN_UNVERIFIED", "chain", `${message}; the RPC node's answer was not used. Use another node, or check that the trust anchor is this chain's`, {
    details: { link, ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A block whose header a commit certificate of the tracked validator set finalized. */
export interface CertifiedBlock {
  readonly number: number;
  readonly hash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly extrinsicsRoot: Uint8Array;
  /** `Timestamp.Now` of the block, proven against its state root (unix ms). */
  readonly timestampMs: bigint;
}

export interface ChainReaderOptions {
  /** Unix ms clock; a finalized block older than `maxStalenessMs` by it is refused. */
  now: () => number;
  /**
   * How old the newest finalized block may be. A node can replay a genuine but old state
   * (a contract key before its rotation, a worker since removed); only freshness tells.
   */
  maxStalenessMs: number;
}

const TIMESTAMP_KEY = TimestampStorage.Now.key();

function hexAnswer(method: string, v: unknown): Uint8Array {
  try {
    if (typeof v !== "string") throw new TypeError("not a string");
    return fromHex(v);
  } catch (e) {
    throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${method} answered something that is not hex (${errorMessage(e)})`, { cause: e });
  }
}

function headerOf(bytes: Uint8Array, what: string): HeaderValue {
  try {
    return decodeHeader(bytes);
  } catch (e) {
    throw unverified("header", `${what} does not decode as a header`, {}, e);
  }
}

function announced(h: HeaderValue, what: string): ValidatorSetValue | undefined {
  try {
    return announcedValidatorSet(h);
  } catch (e) {
    if (e instanceof HeaderError) throw unverified("set-change", `${what} has a malformed validator-set digest: ${e.message}`, {}, e);
    throw e;
  }
}

function checkSet(set: ValidatorSetValue, what: string): void {
  const problem = validatorSetProblem(set);
  if (problem !== undefined) throw unverified("set-change", `${what} announces ${problem}`);
}

interface FinalityProof {
  header: Uint8Array;
  certificate: Uint8Array;
  setChanges: Array<{ header: Uint8Array; certificate: Uint8Array }>;
}

function finalityProofOf(v: unknown): FinalityProof {
  const o = v as { header?: unknown; certificate?: unknown; setChanges?: unknown } | null;
  if (!o || !Array.isArray(o.setChanges)) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", "phala_proveFinality answered without header, certificate and setChanges; is this a Phala node?");
  return {
    header: hexAnswer("phala_proveFinality", o.header),
    certificate: hexAnswer("phala_proveFinality", o.certificate),
    setChanges: o.setChanges.map((c: unknown) => {
      const x = c as { header?: unknown; certificate?: unknown } | null;
      return { header: hexAnswer("phala_proveFinality", x?.header), certificate: hexAnswer("phala_proveFinality", x?.certificate) };
    }),
  };
}

export class ChainReader {
  readonly rpc: RpcClient;
  readonly genesisHash: Uint8Array;
  readonly trust: TrustMode;
  readonly #opts: ChainReaderOptions;
  #set: ValidatorSetValue;
  /** Highest block number verified so far: a node may never take the client back before it. */
  #highest = 0;

  private constructor(rpc: RpcClient, genesisHash: Uint8Array, set: ValidatorSetValue, trust: TrustMode, opts: ChainReaderOptions) {
    this.rpc = rpc;
    this.genesisHash = genesisHash;
    this.#set = set;
    this.trust = trust;
    this.#opts = opts;
  }

  /** Reads the genesis header and checks it against the anchor. */
  static async open(rpc: RpcClient, anchor: TrustAnchor | undefined, opts: ChainReaderOptions): Promise<ChainReader> {
    const resolved = resolveAnchor(anchor);
    const encoded = hexAnswer("phala_getGenesisHeader", await rpc.request("phala_getGenesisHeader"));
    const hash = blake2b256(encoded);
    if (resolved.genesisHash && !bytesEqual(hash, resolved.genesisHash)) {
      throw unverified("genesis", `the node's genesis header hashes to ${toHex(hash)}, not to the trusted genesis ${toHex(resolved.genesisHash)}`, { got: toHex(hash) });
    }
    const header = headerOf(encoded, "the genesis header");
    if (header.number !== 0) throw unverified("genesis", `the node's genesis header has number ${header.number}`);
    const set = announced(header, "the genesis header");
    if (!set) throw unverified("genesis", "the node's genesis header announces no validator set; is this a Phala chain?");
    checkSet(set, "the genesis header");
    if (resolved.validators && !sameValidatorSet(set, resolved.validators)) {
      throw unverified("genesis", "the node's genesis announces other validators than the trust anchor names");
    }
    return new ChainReader(rpc, hash, set, resolved.mode, opts);
  }

  /** The validator set verified so far (the one that certifies the newest blocks). */
  get validatorSet(): ValidatorSetValue {
    return this.#set;
  }

  /**
   * The newest finalized block, certified and fresh: the node's finalized head (or `at`),
   * after following any validator-set changes up to it.
   */
  async finalized(): Promise<CertifiedBlock> {
    const hash = hexAnswer("chain_getFinalizedHead", await this.rpc.request("chain_getFinalizedHead"));
    const block = await this.certify(hash);
    const ageMs = BigInt(this.#opts.now()) - block.timestampMs;
    if (ageMs > BigInt(this.#opts.maxStalenessMs)) {
      throw unverified("stale", `the node's newest finalized block #${block.number} is ${ageMs / 1000n} s old (at most ${this.#opts.maxStalenessMs / 1000} s is accepted): the node is behind or replays an old state`, {
        number: block.number,
        ageMs: Number(ageMs),
      });
    }
    if (block.number < this.#highest) {
      throw unverified("stale", `the node's finalized head #${block.number} is behind block #${this.#highest} that this client already verified`, { number: block.number });
    }
    this.#highest = block.number;
    return block;
  }

  /** A block by hash, certified by the validator set of its height (following set changes first). */
  async certify(hash: Uint8Array): Promise<CertifiedBlock> {
    const proof = finalityProofOf(await this.rpc.request("phala_proveFinality", [toHex(hash), Number(this.#set.set_id)]));
    this.#followSetChanges(proof.setChanges);
    const header = headerOf(proof.header, `block ${toHex(hash)}`);
    const got = blake2b256(proof.header);
    if (!bytesEqual(got, hash)) throw unverified("header", `the node sent a header that hashes to ${toHex(got)} for block ${toHex(hash)}`);
    this.#checkCertificate(proof.certificate, header.number, hash, "certificate");
    const timestamp = this.#provenValues([TIMESTAMP_KEY], header.state_root, await this.#readProof([TIMESTAMP_KEY], hash), header.number)[0];
    if (timestamp === undefined || timestamp.length !== 8) throw unverified("proof", `block #${header.number} has no proven Timestamp.Now`);
    const timestampMs = new DataView(timestamp.buffer, timestamp.byteOffset, 8).getBigUint64(0, true);
    return { number: header.number, hash, stateRoot: header.state_root, extrinsicsRoot: header.extrinsics_root, timestampMs };
  }

  /** Values of `keys` in `block`'s state, each proven against its state root; undefined where absent. */
  async read(block: CertifiedBlock, keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return [];
    const out: Array<Uint8Array | undefined> = [];
    for (let i = 0; i < keys.length; i += READ_PROOF_KEYS_MAX) {
      const part = keys.slice(i, i + READ_PROOF_KEYS_MAX);
      out.push(...this.#provenValues(part, block.stateRoot, await this.#readProof(part, block.hash), block.number));
    }
    return out;
  }

  /** Checks that `extrinsics` is the body of `block` (its extrinsics root). */
  checkBody(block: CertifiedBlock, extrinsics: readonly Uint8Array[]): void {
    if (!bytesEqual(orderedTrieRoot(extrinsics), block.extrinsicsRoot)) {
      throw unverified("body", `the node sent a body for block #${block.number} that does not match its certified extrinsics root`);
    }
  }

  async #readProof(keys: readonly Uint8Array[], at: Uint8Array): Promise<Uint8Array[]> {
    const r = (await this.rpc.request("state_getReadProof", [keys.map(toHex), toHex(at)])) as { proof?: unknown } | null;
    if (!r || !Array.isArray(r.proof)) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", "state_getReadProof answered without a proof list");
    return r.proof.map((n: unknown) => hexAnswer("state_getReadProof", n));
  }

  #provenValues(keys: readonly Uint8Array[], root: Uint8Array, proof: Uint8Array[], number: number): Array<Uint8Array | undefined> {
    return keys.map((key) => {
      try {
        return verifyProof(root, proof, key) ?? undefined;
      } catch (e) {
        if (e instanceof TrieError) {
          throw unverified("proof", `the read proof of ${toHex(key).slice(0, 66)}… does not verify against the state root of block #${number}: ${e.message}`, { key: toHex(key), number }, e);
        }
        throw e;
      }
    });
  }

  #checkCertificate(bytes: Uint8Array, height: number, hash: Uint8Array, link: "certificate" | "set-change"): void {
    try {
      verifyCertificate(decodeCertificate(bytes), this.#set, this.genesisHash, { height, blockHash: hash });
    } catch (e) {
      if (e instanceof CertificateError) {
        throw unverified(link, `the commit certificate of block #${height} does not finalize it under validator set ${this.#set.set_id}: ${e.message}`, { number: height, reason: e.code }, e);
      }
      throw e;
    }
  }

  /** Applies set changes in order; each must be certified by the set before it and announce a newer set. */
  #followSetChanges(changes: FinalityProof["setChanges"]): void {
    if (changes.length > SET_CHANGES_FOLLOWED_MAX) throw unverified("set-change", `the node sent ${changes.length} set changes at once; at most ${SET_CHANGES_FOLLOWED_MAX} are followed per step`);
    for (const c of changes) {
      const header = headerOf(c.header, "a set-change header");
      const hash = blake2b256(c.header);
      this.#checkCertificate(c.certificate, header.number, hash, "set-change");
      const next = announced(header, `block #${header.number}`);
      if (!next) throw unverified("set-change", `block #${header.number} was sent as a set change but announces no validator set`);
      checkSet(next, `block #${header.number}`);
      if (next.set_id !== this.#set.set_id + 1n) throw unverified("set-change", `block #${header.number} announces set ${next.set_id} after set ${this.#set.set_id}`);
      this.#set = next;
    }
  }
}
