/**
 * The light client (ARCHITECTURE §5): accepts chain data only when it is proven. A batch is
 * a run of headers linked by hash from the last synced block, a commit certificate of the
 * last header by the tracked validator set, and for every block one read proof of
 * `PhalaMq.OutboundMessages` and `Timestamp.Now` against its state root (the timestamp is the
 * block time contracts see, so it is as proven as the messages). `verifyBatch` checks everything and
 * returns the next state without touching the current one; `commit` then swaps it in, so a
 * refused batch changes nothing.
 */
import assert from "node:assert/strict";
import { bytesEqual, toHex } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import {
  CertificateError,
  HeaderError,
  announcedValidatorSet,
  decodeCertificate,
  decodeHeader,
  headerHash,
  validatorSetProblem,
  verifyCertificate,
  type HeaderValue,
  type ValidatorSetValue,
} from "@phala-ts/runtime/consensus";
import { TimestampStorage } from "@phala-ts/runtime";
import { MessageList, PhalaMqStorage, SYNC_BATCH_BLOCKS_MAX, SyncBatch, type MessageValue, type SyncBatchValue } from "@phala-ts/runtime/phala";
import { TrieError, verifyProof } from "@phala-ts/trie";
import { SyncError } from "./errors.ts";

export interface LightClientState {
  readonly genesisHash: Uint8Array;
  readonly height: number;
  readonly hash: Uint8Array;
  /** The set that certifies block height+1 onwards. */
  readonly validatorSet: ValidatorSetValue;
  /** `Timestamp.Now` of the block at `height` (unix ms); 0 at genesis. */
  readonly timestampMs: bigint;
}

export interface VerifiedBlock {
  readonly number: number;
  readonly hash: Uint8Array;
  /** The block's ingress messages, proven against its state root. */
  readonly messages: readonly MessageValue[];
  /** `Timestamp.Now` of the block (unix ms), proven against its state root. */
  readonly timestampMs: bigint;
}

export interface VerifiedBatch {
  readonly from: LightClientState;
  readonly to: LightClientState;
  readonly blocks: readonly VerifiedBlock[];
}

const OUTBOUND_MESSAGES_KEY = PhalaMqStorage.OutboundMessages.key();
const TIMESTAMP_KEY = TimestampStorage.Now.key();
/** SCALE u64. */
const TIMESTAMP_BYTES = 8;
/** SCALE of an empty Vec: what a block without messages must carry. */
const EMPTY_MESSAGE_LIST = Uint8Array.of(0);
const NO_MESSAGES: readonly MessageValue[] = Object.freeze([]);

function headerOf(bytes: Uint8Array, what: string): HeaderValue {
  try {
    return decodeHeader(bytes);
  } catch (e) {
    throw new SyncError("MALFORMED", `${what} does not decode as a header`, { cause: e });
  }
}

function announcement(header: HeaderValue, what: string): ValidatorSetValue | undefined {
  try {
    return announcedValidatorSet(header);
  } catch (e) {
    if (e instanceof HeaderError) throw new SyncError("MALFORMED", `${what} has a malformed validator-set digest: ${e.message}`, { cause: e });
    throw e;
  }
}

function checkValidatorSet(set: ValidatorSetValue, what: string): void {
  const problem = validatorSetProblem(set);
  if (problem !== undefined) throw new SyncError("MALFORMED", `${what} announces ${problem}`);
}

/** The state right after genesis: the genesis hash and the validator set its digest announces. */
export function genesisState(genesisHeader: Uint8Array): LightClientState {
  const header = headerOf(genesisHeader, "the genesis header");
  if (header.number !== 0) throw new SyncError("MALFORMED", `the genesis header has number ${header.number}, not 0; pass the chain's block 0`);
  const set = announcement(header, "the genesis header");
  if (set === undefined) throw new SyncError("MALFORMED", "the genesis header announces no validator set; is this a Phala chain?");
  checkValidatorSet(set, "the genesis header");
  const hash = headerHash(genesisHeader);
  return Object.freeze({ genesisHash: hash, height: 0, hash, validatorSet: set, timestampMs: 0n });
}

export function decodeSyncBatch(bytes: Uint8Array): SyncBatchValue {
  try {
    return decodeExact(SyncBatch, bytes);
  } catch (e) {
    throw new SyncError("MALFORMED", "the body does not decode as a SCALE SyncBatch", { cause: e });
  }
}

function proven(stateRoot: Uint8Array, proof: readonly Uint8Array[], key: Uint8Array, what: string, number: number): Uint8Array | null {
  try {
    return verifyProof(stateRoot, proof, key);
  } catch (e) {
    if (e instanceof TrieError) throw new SyncError("BAD_PROOF", `the ${what} proof of block ${number} does not verify against its state root: ${e.message}`, { cause: e });
    throw e;
  }
}

function provenTimestamp(stateRoot: Uint8Array, proof: readonly Uint8Array[], claimed: Uint8Array, number: number): bigint {
  const value = proven(stateRoot, proof, TIMESTAMP_KEY, "Timestamp.Now", number);
  // Every block sets Timestamp.Now, so an absent value is as wrong as a different one.
  if (value === null) throw new SyncError("TIMESTAMP_MISMATCH", `block ${number} has no proven Timestamp.Now`);
  if (!bytesEqual(value, claimed)) throw new SyncError("TIMESTAMP_MISMATCH", `block ${number}: the timestamp differs from the proven Timestamp.Now`);
  if (value.length !== TIMESTAMP_BYTES) throw new SyncError("MALFORMED", `block ${number}: the proven Timestamp.Now is ${value.length} bytes, not a SCALE u64`);
  return new DataView(value.buffer, value.byteOffset, TIMESTAMP_BYTES).getBigUint64(0, true);
}

function provenMessages(stateRoot: Uint8Array, proof: readonly Uint8Array[], claimed: Uint8Array, number: number): readonly MessageValue[] {
  const value = proven(stateRoot, proof, OUTBOUND_MESSAGES_KEY, "OutboundMessages", number);
  if (value === null) {
    if (!bytesEqual(claimed, EMPTY_MESSAGE_LIST)) {
      throw new SyncError("MESSAGES_MISMATCH", `block ${number} has no OutboundMessages, but the batch claims some`);
    }
    return NO_MESSAGES;
  }
  if (!bytesEqual(value, claimed)) throw new SyncError("MESSAGES_MISMATCH", `block ${number}: the messages differ from the proven OutboundMessages`);
  try {
    // The same bytes; `claimed` is a buffer of its own, so the decoder needs no defensive copy.
    return decodeExact(MessageList, claimed);
  } catch (e) {
    throw new SyncError("MALFORMED", `block ${number}: the proven OutboundMessages does not decode as Vec<Message>`, { cause: e });
  }
}

/** Checks a batch against `state`; returns the state after it. Throws SyncError and changes nothing otherwise. */
export function verifyBatch(state: LightClientState, batch: SyncBatchValue): VerifiedBatch {
  const n = batch.blocks.length;
  if (n === 0 || n > SYNC_BATCH_BLOCKS_MAX) throw new SyncError("MALFORMED", `a batch holds 1..${SYNC_BATCH_BLOCKS_MAX} blocks, this one ${n}`);
  const blocks = new Array<VerifiedBlock>(n);
  let parentHash = state.hash;
  let expected = state.height + 1;
  let lastHeader: HeaderValue | undefined;
  for (let i = 0; i < n; i++) {
    const b = batch.blocks[i];
    const header = headerOf(b.header, `header ${i} of the batch`);
    if (header.number !== expected) {
      if (i === 0) throw new SyncError("NOT_NEXT", `the batch starts at block ${header.number}; the next block to sync is ${expected}`, { details: { expected, got: header.number } });
      throw new SyncError("BAD_LINK", `header ${i} of the batch is block ${header.number}, expected ${expected}`);
    }
    if (!bytesEqual(header.parent_hash, parentHash)) {
      throw new SyncError("BAD_LINK", `block ${expected} does not link to ${i === 0 ? "the last synced block" : "the previous header"} by parent hash`, {
        details: { number: expected, parentHash: toHex(header.parent_hash), expected: toHex(parentHash) },
      });
    }
    // Only the last header may announce a set: the set that certifies it must be the one we track.
    if (i < n - 1 && announcement(header, `block ${expected}`) !== undefined) {
      throw new SyncError("MALFORMED", `block ${expected} announces a validator set but is not the last of the batch; cut the batch after it`);
    }
    const hash = headerHash(b.header);
    blocks[i] = {
      number: expected,
      hash,
      messages: provenMessages(header.state_root, b.proof, b.messages, expected),
      timestampMs: provenTimestamp(header.state_root, b.proof, b.timestamp, expected),
    };
    parentHash = hash;
    expected++;
    lastHeader = header;
  }
  assert.ok(lastHeader !== undefined);
  const last = blocks[n - 1];
  try {
    verifyCertificate(decodeCertificate(batch.certificate), state.validatorSet, state.genesisHash, { height: last.number, blockHash: last.hash });
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new SyncError("BAD_CERTIFICATE", `the certificate of block ${last.number} does not finalize it: ${e.message}`, { cause: e, details: { reason: e.code } });
    }
    throw e;
  }
  const announced = announcement(lastHeader, `block ${last.number}`);
  let validatorSet = state.validatorSet;
  if (announced !== undefined) {
    checkValidatorSet(announced, `block ${last.number}`);
    if (announced.set_id <= state.validatorSet.set_id) {
      throw new SyncError("MALFORMED", `block ${last.number} announces validator set ${announced.set_id}, not newer than the current set ${state.validatorSet.set_id}`);
    }
    validatorSet = announced;
  }
  const to: LightClientState = Object.freeze({ genesisHash: state.genesisHash, height: last.number, hash: last.hash, validatorSet, timestampMs: last.timestampMs });
  return { from: state, to, blocks };
}

/** Holds the verified chain position; the only way forward is a verified batch built on it. */
export class LightClient {
  #state: LightClientState;

  constructor(state: LightClientState) {
    this.#state = state;
  }

  get state(): LightClientState {
    return this.#state;
  }

  verify(batch: SyncBatchValue): VerifiedBatch {
    return verifyBatch(this.#state, batch);
  }

  commit(verified: VerifiedBatch): void {
    assert.ok(verified.from === this.#state, "a verified batch commits only on the state it was verified against");
    this.#state = verified.to;
  }

  /**
   * Moves to block `index` of a verified batch, which must be the next one, so that pRuntime
   * can apply a batch block by block and stop between two. The batch's certificate finalizes
   * its last block and so every block before it; only the last may announce a validator set,
   * so before it the set is the batch's starting one.
   */
  commitThrough(verified: VerifiedBatch, index: number): void {
    assert.ok(Number.isSafeInteger(index) && index >= 0 && index < verified.blocks.length, "a block of the batch");
    const previous = index === 0 ? { number: verified.from.height, hash: verified.from.hash } : verified.blocks[index - 1];
    assert.ok(
      this.#state.height === previous.number && bytesEqual(this.#state.hash, previous.hash),
      "a verified batch commits block by block, in order, on the state it was verified against",
    );
    if (index === verified.blocks.length - 1) {
      this.#state = verified.to;
      return;
    }
    const b = verified.blocks[index];
    this.#state = Object.freeze({ genesisHash: verified.from.genesisHash, height: b.number, hash: b.hash, validatorSet: verified.from.validatorSet, timestampMs: b.timestampMs });
  }
}
