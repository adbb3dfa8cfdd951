/**
 * Builds a real chain for tests and the bench: headers linked by hash, a Patricia-Merkle state
 * per block (with filler keys so proofs have a realistic depth), one read proof of
 * PhalaMq.OutboundMessages and Timestamp.Now per block made by @phala-ts/trie, and commit certificates signed with
 * ed25519 keys. Deterministic: the same calls give the same bytes.
 */
import { blake2b256, concatBytes, devAccount, utf8, type KeyPair } from "@phala-ts/primitives";
import { encodeCertificate, encodeHeader, headerHash, signPrecommit, validatorSetDigest, type HeaderValue, type ValidatorSetValue } from "@phala-ts/runtime/consensus";
import { TimestampStorage } from "@phala-ts/runtime";
import { MessageList, PhalaMqStorage, type MessageValue, type SyncBatchValue } from "@phala-ts/runtime/phala";
import { MemoryNodeDb, TrieStore } from "@phala-ts/trie";

export interface BuiltBlock {
  number: number;
  header: Uint8Array;
  hash: Uint8Array;
  stateRoot: Uint8Array;
  messages: Uint8Array;
  /** SCALE u64 Timestamp.Now. */
  timestamp: Uint8Array;
  timestampMs: bigint;
  proof: Uint8Array[];
}

export interface ChainFixtureOptions {
  validators?: KeyPair[];
  /** Filler keys in the state: more keys, deeper proofs. */
  fillerKeys?: number;
  /** Blocks whose states stay in the store (proofs are made right after each commit). */
  pruningDepthBlocks?: number;
}

interface SetEntry {
  /** First block this set certifies. */
  from: number;
  keys: KeyPair[];
  set: ValidatorSetValue;
}

const OUTBOUND = PhalaMqStorage.OutboundMessages.key();
const TIMESTAMP = TimestampStorage.Now.key();
const EMPTY_LIST = Uint8Array.of(0);
/** Block times of the fixture: a fixed start and 6 s per block, unless a block is given its own. */
export const FIXTURE_GENESIS_TIME_MS = 1_700_000_000_000n;
export const FIXTURE_BLOCK_TIME_MS = 6_000n;

export function encodeTimestamp(ms: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, ms, true);
  return b;
}
/** A key every block writes (like System.Number), so each block has its own state root. */
const COUNTER_KEY = concatBytes(blake2b256(utf8("System")).subarray(0, 16), blake2b256(utf8("Number")).subarray(0, 16));

export function validatorSet(keys: KeyPair[], setId = 0n, power = 1n): ValidatorSetValue {
  return { set_id: setId, validators: keys.map((k) => ({ public_key: k.publicKey, power })) };
}

export class ChainFixture {
  readonly store: TrieStore;
  readonly blocks: BuiltBlock[] = [];
  readonly genesisHeader: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly #sets: SetEntry[];
  #root: Uint8Array;

  constructor(options: ChainFixtureOptions = {}) {
    const keys = options.validators ?? [devAccount("Alice", "ed25519")];
    const set = validatorSet(keys);
    this.#sets = [{ from: 1, keys, set }];
    this.store = new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: options.pruningDepthBlocks ?? 8 });
    const genesis = this.store.batch();
    const filler = options.fillerKeys ?? 256;
    for (let i = 0; i < filler; i++) {
      const k = blake2b256(utf8(`filler ${i}`));
      genesis.set(k, blake2b256(k));
    }
    genesis.set(COUNTER_KEY, new Uint8Array(4));
    this.#root = genesis.commit(0).root;
    const header: HeaderValue = {
      parent_hash: new Uint8Array(32),
      number: 0,
      state_root: this.#root,
      extrinsics_root: new Uint8Array(32),
      digest: { logs: [validatorSetDigest(set)] },
    };
    this.genesisHeader = encodeHeader(header);
    this.genesisHash = headerHash(this.genesisHeader);
  }

  get height(): number {
    return this.blocks.length;
  }

  hashAt(n: number): Uint8Array {
    return n === 0 ? this.genesisHash : this.blocks[n - 1].hash;
  }

  /** The validator set (and its keys) that certifies block `n`. */
  certifying(n: number): SetEntry {
    let entry = this.#sets[0];
    for (const s of this.#sets) if (s.from <= n) entry = s;
    return entry;
  }

  /**
   * Appends a block carrying `messages`; `announce` makes it announce a new validator set.
   * Its time is `timestampMs`, by default FIXTURE_BLOCK_TIME_MS after the previous block.
   */
  addBlock(messages: MessageValue[] = [], announce?: KeyPair[], timestampMs?: bigint): BuiltBlock {
    const number = this.blocks.length + 1;
    const batch = this.store.batch(this.#root);
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, number, true);
    batch.set(COUNTER_KEY, counter);
    const time = timestampMs ?? (number === 1 ? FIXTURE_GENESIS_TIME_MS : this.blocks[number - 2].timestampMs) + FIXTURE_BLOCK_TIME_MS;
    const timestamp = encodeTimestamp(time);
    batch.set(TIMESTAMP, timestamp);
    const encoded = messages.length > 0 ? MessageList.codec.enc(messages) : EMPTY_LIST;
    if (messages.length > 0) batch.set(OUTBOUND, encoded);
    else batch.delete(OUTBOUND);
    this.#root = batch.commit(number).root;
    let logs: HeaderValue["digest"]["logs"] = [];
    if (announce) {
      const set = validatorSet(announce, this.#sets[this.#sets.length - 1].set.set_id + 1n);
      this.#sets.push({ from: number + 1, keys: announce, set });
      logs = [validatorSetDigest(set)];
    }
    const header = encodeHeader({ parent_hash: this.hashAt(number - 1), number, state_root: this.#root, extrinsics_root: new Uint8Array(32), digest: { logs } });
    const block: BuiltBlock = {
      number,
      header,
      hash: headerHash(header),
      stateRoot: this.#root,
      messages: encoded,
      timestamp,
      timestampMs: time,
      proof: this.store.prove(this.#root, [OUTBOUND, TIMESTAMP]),
    };
    this.blocks.push(block);
    return block;
  }

  /** A certificate of block `n`, by default signed by every validator of the set certifying it. */
  certificate(n: number, opts: { keys?: KeyPair[]; set?: ValidatorSetValue; signers?: number[]; round?: number; hash?: Uint8Array } = {}): Uint8Array {
    const entry = this.certifying(n);
    const keys = opts.keys ?? entry.keys;
    const set = opts.set ?? entry.set;
    const signers = opts.signers ?? keys.map((_, i) => i);
    const round = opts.round ?? 0;
    const hash = opts.hash ?? this.hashAt(n);
    return encodeCertificate({
      height: n,
      round,
      block_hash: hash,
      set_id: set.set_id,
      precommits: [...signers].sort((a, b) => a - b).map((i) => ({ validator: i, signature: signPrecommit(keys[i], this.genesisHash, n, round, hash) })),
    });
  }

  /** Blocks from..to with a certificate of `to` (by default a valid one). */
  batch(from: number, to: number, certificate?: Uint8Array): SyncBatchValue {
    const blocks = this.blocks.slice(from - 1, to).map((b) => ({ header: b.header, messages: b.messages, timestamp: b.timestamp, proof: b.proof }));
    return { blocks, certificate: certificate ?? this.certificate(to) };
  }
}

export function message(sender: MessageValue["sender"], topicName: string, payload: Uint8Array): MessageValue {
  return { sender, destination: utf8(topicName), payload };
}
