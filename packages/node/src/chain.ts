import assert from "node:assert/strict";
import { blake2b256, bytesEqual, toHex } from "@phala-ts/primitives";
import {
  BlockBuilder,
  buildGenesisState,
  callRuntimeApi,
  TransactionInvalid,
  type ComposedRuntime,
  type GenesisConfig,
  type StateBackend,
  type ValidTransactionValue,
  type ApplyOutcome,
  type EventRecordRaw,
  type SignatureCheck,
  type StateChanges,
} from "@phala-ts/runtime";
import { buildRuntimeMetadata, METADATA_VERSIONS } from "@phala-ts/runtime";
import { TrieStore, orderedTrieRoot } from "@phala-ts/trie";
import { Header, announcedValidatorSet, decodeHeader as decodeHeaderValue, validatorSetDigest, type DigestItemValue, type ValidatorSetValue } from "@phala-ts/runtime/consensus";
import { T, decodeExact } from "@phala-ts/runtime/types";
import { MessageList, PhalaMqStorage } from "@phala-ts/runtime/phala";
import { TimestampStorage } from "@phala-ts/runtime";
import { keyId } from "@phala-ts/runtime";
import type { ChainDb } from "./storage/chain-db.ts";
import type { Logger } from "./logger.ts";

export interface HeaderInfo {
  hash: Uint8Array;
  number: number;
  parentHash: Uint8Array;
  stateRoot: Uint8Array;
  extrinsicsRoot: Uint8Array;
  /** SCALE header bytes, hashed to `hash`. */
  encoded: Uint8Array;
  digests: DigestItemValue[];
}

export interface ImportedBlock {
  header: HeaderInfo;
  extrinsics: Uint8Array[];
  extrinsicHashes: Uint8Array[];
  events: EventRecordRaw[];
  outcomes: ApplyOutcome[];
}

export interface ChainOptions {
  genesis: GenesisConfig;
  /** The initial validator set, announced in the genesis header's digest so light clients start from it. */
  validatorSet: ValidatorSetValue;
  /** States older than this many blocks are pruned; 0 keeps every state (archive). */
  statePruningBlocks: number;
}

const OUTBOUND_KEY = PhalaMqStorage.OutboundMessages.key();
const OUTBOUND_ID = keyId(OUTBOUND_KEY);
const EMPTY_MESSAGE_LIST = MessageList.codec.enc([]);

/** A block's ingress record: its messages (an empty list when none) and their proof. */
const TIMESTAMP_KEY = TimestampStorage.Now.key();
const TIMESTAMP_ID = keyId(TIMESTAMP_KEY);

/** A block's ingress record: its messages (an empty list when none), its timestamp, and one proof of both. */
export const IngressRecord = T.struct(["phala_node", "IngressRecord"], { messages: T.bytes, timestamp: T.bytes, proof: T.vec(T.bytes) });

function encodeIngress(changes: StateChanges, proof: Uint8Array[]): Uint8Array {
  const timestamp = changes.get(TIMESTAMP_ID)?.value;
  assert.ok(timestamp, "every block sets Timestamp.Now");
  return IngressRecord.codec.enc({ messages: changes.get(OUTBOUND_ID)?.value ?? EMPTY_MESSAGE_LIST, timestamp, proof });
}

export class ChainError extends Error {
  constructor(
    readonly code: "GENESIS_MISMATCH" | "UNKNOWN_BLOCK" | "STATE_PRUNED" | "CORRUPT",
    message: string,
  ) {
    super(message);
    this.name = "ChainError";
  }
}

export function decodeHeader(encoded: Uint8Array): HeaderInfo {
  const h = decodeExact(Header, encoded);
  return {
    hash: blake2b256(encoded),
    number: h.number,
    parentHash: h.parent_hash,
    stateRoot: h.state_root,
    extrinsicsRoot: h.extrinsics_root,
    encoded,
    digests: h.digest.logs,
  };
}

export function encodeHeader(h: { parentHash: Uint8Array; number: number; stateRoot: Uint8Array; extrinsicsRoot: Uint8Array; digests?: DigestItemValue[] }): Uint8Array {
  return Header.codec.enc({
    parent_hash: h.parentHash,
    number: h.number,
    state_root: h.stateRoot,
    extrinsics_root: h.extrinsicsRoot,
    digest: { logs: h.digests ?? [] },
  });
}

/** Keeps decoded headers of recent blocks in memory; bounded. */
const HEADER_CACHE_ENTRIES_MAX = 4096;
/**
 * Values (and known absences) of the finalized state. Pool checks and block building read
 * the same few accounts over and over; without this each read walks the trie in LMDB.
 * Updated from each block's change set; dropped whole when it outgrows the bound.
 */
const HEAD_STATE_CACHE_ENTRIES_MAX = 200_000;

/**
 * The chain as the node sees it: LMDB blocks, the state trie and the runtime. All writes
 * go through `importBlock`, called by one owner (the author), never concurrently.
 */
export class Chain {
  readonly runtime: ComposedRuntime;
  readonly db: ChainDb;
  readonly trie: TrieStore;
  readonly #log: Logger;
  #finalized!: HeaderInfo;
  #genesis!: HeaderInfo;
  readonly #headerCache = new Map<string, HeaderInfo>();
  readonly #metadata = new Map<number, Uint8Array>();
  readonly #headCache = new Map<string, Uint8Array | null>();
  #validator: { head: HeaderInfo; builder: BlockBuilder } | undefined;

  constructor(options: ChainOptions, modules: { db: ChainDb; runtime: ComposedRuntime; logger: Logger }) {
    this.db = modules.db;
    this.runtime = modules.runtime;
    this.#log = modules.logger;
    this.trie = new TrieStore({ db: this.db.trieNodes, journalDb: this.db.trieJournal, pruningDepthBlocks: options.statePruningBlocks });
    this.#openOrInitGenesis(options.genesis, options.validatorSet);
  }

  #openOrInitGenesis(genesis: GenesisConfig, validatorSet: ValidatorSetValue): void {
    const batch = this.trie.batch(undefined);
    for (const { key, value } of buildGenesisState(genesis).values()) {
      if (value) batch.set(key, value);
    }
    const stateRoot = batch.root();
    const encoded = encodeHeader({ parentHash: new Uint8Array(32), number: 0, stateRoot, extrinsicsRoot: orderedTrieRoot([]), digests: [validatorSetDigest(validatorSet)] });
    const header = decodeHeader(encoded);
    const stored = this.db.genesisHash();
    if (stored) {
      if (!bytesEqual(stored, header.hash)) {
        throw new ChainError(
          "GENESIS_MISMATCH",
          `the database at this base path holds chain ${toHex(stored)}, but the chain spec gives genesis ${toHex(header.hash)}; use another --base-path or purge it`,
        );
      }
      this.#genesis = header;
      const fin = this.db.finalizedHash();
      if (!fin) throw new ChainError("CORRUPT", "database has a genesis but no finalized block; purge the base path");
      this.#finalized = this.headerByHash(fin)!;
      this.#log.info("opened chain database", { finalized: this.#finalized.number, hash: toHex(this.#finalized.hash) });
      return;
    }
    this.db.commitBlock({ hash: header.hash, number: 0, header: encoded, extrinsics: [], justification: undefined }, () => batch.commit(0));
    this.#genesis = header;
    this.#finalized = header;
    this.#log.info("initialized genesis", { hash: toHex(header.hash), stateRoot: toHex(stateRoot) });
  }

  get genesis(): HeaderInfo {
    return this.#genesis;
  }

  get finalized(): HeaderInfo {
    return this.#finalized;
  }

  headerByHash(hash: Uint8Array): HeaderInfo | undefined {
    const k = toHex(hash);
    const hit = this.#headerCache.get(k);
    if (hit) return hit;
    const raw = this.db.header(hash);
    if (!raw) return undefined;
    const h = decodeHeader(new Uint8Array(raw));
    if (this.#headerCache.size >= HEADER_CACHE_ENTRIES_MAX) this.#headerCache.delete(this.#headerCache.keys().next().value!);
    this.#headerCache.set(k, h);
    return h;
  }

  headerByNumber(n: number): HeaderInfo | undefined {
    const hash = this.db.hashAt(n);
    return hash ? this.headerByHash(hash) : undefined;
  }

  body(hash: Uint8Array): Uint8Array[] | undefined {
    return this.db.body(hash);
  }

  justification(hash: Uint8Array): Uint8Array | undefined {
    return this.db.justification(hash);
  }

  #headState(): StateBackend & { root: Uint8Array } {
    const root = this.#finalized.stateRoot;
    const cache = this.#headCache;
    return {
      root,
      get: (key: Uint8Array) => {
        // A reader kept past a new block (a paged chainHead query) must not see the new head's values.
        if (this.#finalized.stateRoot !== root) return this.trie.get(root, key) ?? undefined;
        const id = keyId(key);
        let v = cache.get(id);
        if (v === undefined) {
          v = this.trie.get(root, key);
          if (cache.size >= HEAD_STATE_CACHE_ENTRIES_MAX) cache.clear();
          cache.set(id, v);
        }
        return v ?? undefined;
      },
    };
  }

  /** State reader at a block; throws ChainError if the block is unknown or its state pruned. */
  stateAt(hash: Uint8Array): StateBackend & { root: Uint8Array } {
    if (bytesEqual(hash, this.#finalized.hash)) return this.#headState();
    const h = this.headerByHash(hash);
    if (!h) throw new ChainError("UNKNOWN_BLOCK", `block ${toHex(hash)} is not known to this node`);
    if (!this.trie.hasRoot(h.stateRoot)) throw new ChainError("STATE_PRUNED", `state of block #${h.number} has been pruned; query a more recent block`);
    const root = h.stateRoot;
    return { root, get: (key: Uint8Array) => this.trie.get(root, key) ?? undefined };
  }

  metadata(version: number): Uint8Array | undefined {
    if (!METADATA_VERSIONS.includes(version)) return undefined;
    let m = this.#metadata.get(version);
    if (!m) {
      m = buildRuntimeMetadata(this.runtime, version);
      this.#metadata.set(version, m);
    }
    return m;
  }

  callApi(hash: Uint8Array, method: string, input: Uint8Array): Uint8Array {
    const h = this.headerByHash(hash);
    if (!h) throw new ChainError("UNKNOWN_BLOCK", `block ${toHex(hash)} is not known to this node`);
    return callRuntimeApi(
      this.runtime,
      { backend: this.stateAt(hash), blockNumber: h.number, blockHash: h.hash, metadata: (v) => this.metadata(v), metadataVersions: METADATA_VERSIONS },
      method,
      input,
    );
  }

  /** Validates a transaction for inclusion in the next block, on top of the finalized state. */
  validateTransaction(bytes: Uint8Array, opts: { signatureVerified?: boolean } = {}): ValidTransactionValue {
    return this.#validationBuilder().validate(bytes, opts);
  }

  /** Signer and signed payload of a transaction, checked against the finalized head. */
  signatureCheck(bytes: Uint8Array): SignatureCheck {
    return this.#validationBuilder().signatureCheck(bytes);
  }

  /** Validation only reads, so one initialized builder serves every check until the head moves. */
  #validationBuilder(): BlockBuilder {
    const head = this.#finalized;
    if (this.#validator?.head !== head) {
      this.#validator = { head, builder: new BlockBuilder(this.runtime, this.#headState(), { number: head.number + 1, parentHash: head.hash }) };
    }
    return this.#validator.builder;
  }

  /**
   * Builds the next block from candidate transactions, commits it with its certificate
   * and returns it. `sign` produces the commit certificate for the new block hash.
   */
  buildAndImport(
    params: { timestampMs: bigint; candidates: Iterable<Uint8Array> },
    sign: (number: number, hash: Uint8Array) => Uint8Array,
    onInvalid: (tx: Uint8Array, e: TransactionInvalid) => "skip" | "stop",
  ): ImportedBlock {
    const parent = this.#finalized;
    const batch = this.trie.batch(parent.stateRoot);
    const builder = new BlockBuilder(this.runtime, this.#headState(), { number: parent.number + 1, parentHash: parent.hash });
    builder.applyTimestamp(params.timestampMs);
    const outcomes: ApplyOutcome[] = [];
    for (const tx of params.candidates) {
      try {
        outcomes.push(builder.applyExtrinsic(tx, { signatureVerified: true }));
      } catch (e) {
        if (!(e instanceof TransactionInvalid)) throw e;
        if (onInvalid(tx, e) === "stop") break;
      }
    }
    const { changes, extrinsics, extrinsicHashes, events } = builder.finalize();
    for (const { key, value } of changes.values()) {
      if (value === null) batch.delete(key);
      else batch.set(key, value);
    }
    const stateRoot = batch.root();
    const encoded = encodeHeader({ parentHash: parent.hash, number: parent.number + 1, stateRoot, extrinsicsRoot: orderedTrieRoot(extrinsics) });
    const header = decodeHeader(encoded);
    const justification = sign(header.number, header.hash);
    const ingress = () => encodeIngress(changes, this.trie.prove(stateRoot, [OUTBOUND_KEY, TIMESTAMP_KEY]));
    const announcedSetId = announcedValidatorSet(decodeHeaderValue(encoded))?.set_id;
    this.db.commitBlock({ hash: header.hash, number: header.number, header: encoded, extrinsics, justification, ingress, announcedSetId }, () => {
      const r = batch.commit(header.number);
      assert.ok(bytesEqual(r.root, stateRoot), "committed state root differs from the computed one");
    });
    this.#finalized = header;
    if (this.#headCache.size + changes.size > HEAD_STATE_CACHE_ENTRIES_MAX) this.#headCache.clear();
    for (const [id, { value }] of changes) this.#headCache.set(id, value);
    return { header, extrinsics, extrinsicHashes, events, outcomes };
  }
}
