/**
 * The incrementally sealed store (issue 12): contract storage and command results live in an
 * append-only file of AES-256-GCM sealed entries, so a checkpoint writes only what changed
 * since the previous one (plus the small sealed checkpoint) instead of all state.
 *
 * File layout: a sequence of records, one per checkpoint that changed something:
 *   record = generation(u64 LE) ++ count(u32 LE) ++ count × frame
 *   frame  = length(u32 LE) ++ nonce(12) ++ AES-256-GCM(entry) ++ tag(16)
 *   entry  = keyLength(u32 LE) ++ key ++ present(u8) ++ value        (present 0: a removal)
 * Each entry's associated data is (domain, generation, index, count): a frame moved to another
 * position, another record or another key's place fails authentication, and so does an older
 * value of a key replayed over a newer one. Keys are inside the ciphertext (they reveal what a
 * contract stores), so an entry is bound to its key by being authenticated as a whole.
 * Whole-store rollback: every record extends a running hash (blake2b-256 of the previous hash,
 * the record header and each frame's length, nonce and tag); the sealed checkpoint names the file, its committed length, the last
 * generation and that hash (StoreCommitment), and a store that does not reach exactly that is
 * refused. Bytes past the committed length are a checkpoint that crashed before its header was
 * sealed: they are cut off, so a restart resumes from the last complete checkpoint.
 *
 * The log grows with every change; once it holds STORE_COMPACT_RATIO times the live bytes (and
 * at least STORE_COMPACT_MIN_BYTES), the next checkpoint writes the live entries to a new file
 * instead, so compaction costs O(state) once per O(state) bytes of changes: amortized O(change).
 */
import { randomBytes } from "node:crypto";
import { AES_GCM_NONCE_LENGTH, AES_GCM_TAG_LENGTH, EnvelopeError, aesGcmDecrypt, aesGcmEncrypt, blake2b256, bytesEqual, concatBytes, utf8 } from "@phala-ts/primitives";
import { T, type Infer } from "@phala-ts/runtime/types";
import { PruntimeError } from "./errors.ts";

/** What the sealed checkpoint records of the store: a restart accepts exactly this store. */
export const StoreCommitment = T.struct(["phala_pruntime", "StoreCommitment"], {
  /** Name of the log file (it changes when the store is compacted). */
  file: T.str,
  /** Generation of the last record; 0 while the file is empty. */
  generation: T.u64,
  /** Committed length of the file in bytes. */
  length: T.u64,
  /** Running hash after the last record (32 zero bytes for an empty file). */
  hash: T.fixedBytes(32),
});
export type StoreCommitmentValue = Infer<typeof StoreCommitment>;

/** An append-only file the store writes through; the sealer provides it (disk or memory). */
export interface AppendFile {
  /** Current length in bytes; 0 if the file does not exist. */
  size(): number;
  /** `length` bytes from `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Uint8Array;
  /** Appends `chunks` and makes them durable (fsync) before returning. */
  append(chunks: readonly Uint8Array[]): void;
  /** Cuts the file to `length` bytes, durably. */
  truncate(length: number): void;
  /** Deletes the file (no error if it does not exist). */
  remove(): void;
}

/** Files the store can open by name, and the key it seals with (derived from the sealing key). */
export interface StoreBackend {
  storeFile(name: string): AppendFile;
  /** Names of the store files that exist. */
  storeFileNames(): string[];
  storeKey(): Uint8Array;
}

export interface StoreChange {
  key: Uint8Array;
  /** undefined: the key is removed. */
  value: Uint8Array | undefined;
}

/** Domain of each entry's associated data, so a store entry can never pass for other sealed data. */
const ENTRY_DOMAIN = utf8("phala-ts/pruntime/sealed-store/entry/v1");
const RECORD_HEADER_LENGTH = 8 + 4;
const FRAME_LENGTH_BYTES = 4;
/**
 * One entry's sealed size, at most: a contract value is bounded by CONTRACT_STORAGE_BYTES_MAX
 * (64 MiB) and a result by the command limits; a larger length field is corruption, and
 * refusing it keeps a corrupted length from making the loader allocate gigabytes.
 */
export const STORE_FRAME_BYTES_MAX = 80 * 1024 * 1024;
/** Entries per record, at most: one checkpoint's changes; a larger count is corruption. */
export const STORE_RECORD_ENTRIES_MAX = 2 ** 31;
/** Compact when the log holds this many times the live bytes: bounds disk use to ~2× state. */
export const STORE_COMPACT_RATIO = 2;
/** Never compact a log smaller than this: small stores are cheap to replay as they are. */
export const STORE_COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** Read the log in chunks of this size when loading: bounded memory whatever the file size. */
const LOAD_CHUNK_BYTES = 16 * 1024 * 1024;
const ZERO_HASH = new Uint8Array(32);
const FIRST_FILE = "contracts-0";

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

function associatedData(generation: bigint, index: number, count: number): Uint8Array {
  return concatBytes(ENTRY_DOMAIN, u64le(generation), u32le(index), u32le(count));
}

/**
 * What the running hash takes of a frame: its nonce and GCM tag. The tag already authenticates
 * the ciphertext under the store key, so no other frame with this nonce and tag decrypts (that
 * would be a GCM forgery); hashing 28 bytes instead of the whole frame keeps a restart's cost
 * to decryption alone.
 */
function frameBinding(frame: Uint8Array): Uint8Array {
  return concatBytes(frame.subarray(0, AES_GCM_NONCE_LENGTH), frame.subarray(frame.length - AES_GCM_TAG_LENGTH));
}

function encodeEntry(change: StoreChange): Uint8Array {
  const value = change.value;
  return concatBytes(u32le(change.key.length), change.key, Uint8Array.of(value === undefined ? 0 : 1), value ?? new Uint8Array(0));
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Sequential reader over a file, LOAD_CHUNK_BYTES at a time. */
class ChunkReader {
  #buf: Uint8Array = new Uint8Array(0);
  #bufStart = 0;
  offset = 0;
  constructor(
    readonly file: AppendFile,
    readonly end: number,
  ) {}

  /** The next `n` bytes, or undefined if fewer than `n` remain before `end`. */
  take(n: number): Uint8Array | undefined {
    if (this.offset + n > this.end) return undefined;
    const rel = this.offset - this.#bufStart;
    if (rel + n > this.#buf.length) {
      this.#bufStart = this.offset;
      this.#buf = this.file.read(this.offset, Math.min(this.end - this.offset, Math.max(n, LOAD_CHUNK_BYTES)));
      if (this.#buf.length < n) return undefined;
      this.offset += n;
      return this.#buf.subarray(0, n);
    }
    this.offset += n;
    return this.#buf.subarray(rel, rel + n);
  }
}

function corrupted(file: string, why: string, cause?: unknown): PruntimeError {
  return new PruntimeError(
    "STORE_CORRUPTED",
    `the sealed contract store ${file} ${why}; nothing of it was loaded. Restore the data directory from a backup, or delete it to start as a new worker (this discards its keys)`,
    { details: { file }, cause },
  );
}

function rolledBack(file: string, why: string): PruntimeError {
  return new PruntimeError(
    "STORE_ROLLED_BACK",
    `the sealed contract store ${file} ${why}: it is not the store the sealed checkpoint names (rolled back, replaced or truncated). Restore the data directory it belongs to; pRuntime will not run on another store`,
    { details: { file } },
  );
}

export class SealedStore {
  readonly #backend: StoreBackend;
  readonly #key: Uint8Array;
  #file: AppendFile;
  #commitment: StoreCommitmentValue;
  /** Live (not removed) entries' sealed bytes, tracked to decide when to compact. */
  #liveBytes = 0;
  readonly #liveSizes = new Map<string, number>();
  /** A record written but not yet named by a sealed checkpoint. */
  #pending: { commitment: StoreCommitmentValue; removeFile: AppendFile | undefined } | undefined;
  /** Bytes appended to store files since this process opened the store (for tests and benches). */
  bytesWritten = 0;

  private constructor(backend: StoreBackend, file: AppendFile, commitment: StoreCommitmentValue) {
    this.#backend = backend;
    this.#key = backend.storeKey();
    this.#file = file;
    this.#commitment = commitment;
  }

  /**
   * A new, empty store (fresh data directory, or one migrated from a checkpoint that held all
   * state inline). Whatever a previous run left in the first file is discarded: no checkpoint
   * names it.
   */
  static create(backend: StoreBackend): SealedStore {
    const file = backend.storeFile(FIRST_FILE);
    file.truncate(0);
    removeOthers(backend, FIRST_FILE);
    return new SealedStore(backend, file, { file: FIRST_FILE, generation: 0n, length: 0n, hash: ZERO_HASH.slice() });
  }

  /**
   * Opens the store `commitment` names, calling `onEntry` for each live entry (in no
   * particular order). Throws STORE_ROLLED_BACK or STORE_CORRUPTED rather than load anything
   * else; cuts off an uncommitted tail (a checkpoint that crashed before its header).
   */
  static open(backend: StoreBackend, commitment: StoreCommitmentValue, onEntry: (key: Uint8Array, value: Uint8Array) => void): SealedStore {
    const file = backend.storeFile(commitment.file);
    const store = new SealedStore(backend, file, commitment);
    const length = Number(commitment.length);
    const size = file.size();
    if (size < length) throw rolledBack(commitment.file, `holds ${size} bytes but the checkpoint committed ${length}`);
    const live = new Map<string, { key: Uint8Array; value: Uint8Array; sealedBytes: number }>();
    const reader = new ChunkReader(file, length);
    let hash: Uint8Array = ZERO_HASH;
    let generation: bigint | undefined;
    while (reader.offset < length) {
      const recordStart = reader.offset;
      const header = reader.take(RECORD_HEADER_LENGTH);
      if (header === undefined) throw corrupted(commitment.file, `ends inside a record header at byte ${recordStart}`);
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      const gen = view.getBigUint64(0, true);
      const count = view.getUint32(8, true);
      if (generation !== undefined && gen !== generation + 1n) throw rolledBack(commitment.file, `has generation ${gen} after ${generation}`);
      generation = gen;
      const hashParts: Uint8Array[] = [hash, header.slice()];
      for (let index = 0; index < count; index++) {
        const lenBytes = reader.take(FRAME_LENGTH_BYTES);
        if (lenBytes === undefined) throw corrupted(commitment.file, `is truncated in generation ${gen}`);
        const frameLength = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, true);
        if (frameLength < AES_GCM_NONCE_LENGTH + AES_GCM_TAG_LENGTH || frameLength > STORE_FRAME_BYTES_MAX) {
          throw corrupted(commitment.file, `has an entry of impossible length ${frameLength} in generation ${gen}`);
        }
        const frame = reader.take(frameLength);
        if (frame === undefined) throw corrupted(commitment.file, `is truncated in generation ${gen}`);
        hashParts.push(lenBytes.slice(), frameBinding(frame));
        let plain: Uint8Array;
        try {
          plain = aesGcmDecrypt(store.#key, frame.subarray(0, AES_GCM_NONCE_LENGTH), associatedData(gen, index, count), frame.subarray(AES_GCM_NONCE_LENGTH));
        } catch (e) {
          if (e instanceof EnvelopeError) {
            throw corrupted(commitment.file, `has an entry that does not authenticate at its place (generation ${gen}, entry ${index}): it was altered, moved or replayed`, e);
          }
          throw e;
        }
        const entry = decodeEntry(plain, commitment.file);
        const id = hexOf(entry.key);
        if (entry.value === undefined) live.delete(id);
        else live.set(id, { key: entry.key, value: entry.value, sealedBytes: FRAME_LENGTH_BYTES + frameLength });
      }
      hash = blake2b256(concatBytes(...hashParts));
    }
    if ((generation ?? 0n) !== commitment.generation || !bytesEqual(hash, commitment.hash)) {
      throw rolledBack(commitment.file, `ends at generation ${generation ?? 0n}, not the committed ${commitment.generation}, or its contents differ from what was committed`);
    }
    if (size > length) file.truncate(length);
    // A compaction that crashed after its checkpoint was sealed leaves the old file behind.
    removeOthers(backend, commitment.file);
    for (const [id, e] of live) {
      store.#liveSizes.set(id, e.sealedBytes);
      store.#liveBytes += e.sealedBytes;
      onEntry(e.key, e.value);
    }
    return store;
  }

  /** What the sealed checkpoint must name for a restart to accept this store. */
  get commitment(): StoreCommitmentValue {
    return this.#pending?.commitment ?? this.#commitment;
  }

  /**
   * Writes `changes` durably as the next record and returns the commitment to seal into the
   * checkpoint; call `committed()` once that is sealed. Nothing is written without changes.
   * `live` lists every live entry: it is read only when the log is due for compaction.
   */
  prepare(changes: readonly StoreChange[], live: () => Iterable<StoreChange>): StoreCommitmentValue {
    if (this.#pending !== undefined) throw new PruntimeError("INTERNAL", "a store record is pending; seal its checkpoint (committed()) before the next");
    if (changes.length === 0) return this.#commitment;
    const base = this.#commitment;
    let frames = this.encodeRecord(base.generation + 1n, changes, base.hash);
    let target = this.#file;
    let removeFile: AppendFile | undefined;
    let start = Number(base.length);
    const projectedLive = this.projectLive(changes, frames.sizes);
    if (start + frames.bytes > STORE_COMPACT_RATIO * projectedLive && start + frames.bytes > STORE_COMPACT_MIN_BYTES) {
      const name = `contracts-${base.generation + 1n}`;
      target = this.#backend.storeFile(name);
      target.truncate(0);
      removeFile = this.#file;
      start = 0;
      frames = this.encodeRecord(base.generation + 1n, [...live()], ZERO_HASH);
      this.#liveSizes.clear();
      this.#liveBytes = 0;
      this.projectLive(frames.changes, frames.sizes);
    }
    target.append(frames.chunks);
    this.bytesWritten += frames.bytes;
    this.#file = target;
    this.#pending = {
      commitment: { file: removeFile === undefined ? base.file : `contracts-${base.generation + 1n}`, generation: base.generation + 1n, length: BigInt(start + frames.bytes), hash: frames.hash },
      removeFile,
    };
    return this.#pending.commitment;
  }

  /** The checkpoint naming the pending record is sealed: it becomes the base of the next. */
  committed(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#commitment = pending.commitment;
    // Only now is the old file unreferenced by every sealed checkpoint.
    pending.removeFile?.remove();
  }

  private projectLive(changes: readonly StoreChange[], sizes: readonly number[]): number {
    for (let i = 0; i < changes.length; i++) {
      const id = hexOf(changes[i].key);
      this.#liveBytes -= this.#liveSizes.get(id) ?? 0;
      if (changes[i].value === undefined) this.#liveSizes.delete(id);
      else {
        this.#liveSizes.set(id, sizes[i]);
        this.#liveBytes += sizes[i];
      }
    }
    return this.#liveBytes;
  }

  private encodeRecord(generation: bigint, changes: readonly StoreChange[], prevHash: Uint8Array) {
    if (changes.length > STORE_RECORD_ENTRIES_MAX) throw new PruntimeError("INTERNAL", `a checkpoint changes more than ${STORE_RECORD_ENTRIES_MAX} store entries`);
    const header = concatBytes(u64le(generation), u32le(changes.length));
    const chunks: Uint8Array[] = [header];
    const hashParts: Uint8Array[] = [prevHash, header];
    const sizes: number[] = [];
    let bytes = header.length;
    for (let index = 0; index < changes.length; index++) {
      const plain = encodeEntry(changes[index]);
      // Random nonces: a generation can be written twice (a crash before its checkpoint was sealed).
      const nonce = new Uint8Array(randomBytes(AES_GCM_NONCE_LENGTH));
      const sealed = aesGcmEncrypt(this.#key, nonce, associatedData(generation, index, changes.length), plain);
      plain.fill(0);
      const frame = concatBytes(nonce, sealed);
      const len = u32le(frame.length);
      chunks.push(len, frame);
      hashParts.push(len, frameBinding(frame));
      sizes.push(FRAME_LENGTH_BYTES + frame.length);
      bytes += FRAME_LENGTH_BYTES + frame.length;
    }
    return { chunks, bytes, sizes, changes, hash: blake2b256(concatBytes(...hashParts)) };
  }
}

/** Deletes every store file but `keep`: no sealed checkpoint names them. */
function removeOthers(backend: StoreBackend, keep: string): void {
  for (const name of backend.storeFileNames()) if (name !== keep) backend.storeFile(name).remove();
}

function decodeEntry(plain: Uint8Array, file: string): StoreChange {
  if (plain.length < 5) throw corrupted(file, "has an entry shorter than its header");
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const keyLength = view.getUint32(0, true);
  if (4 + keyLength + 1 > plain.length) throw corrupted(file, "has an entry whose key runs past its end");
  const key = plain.slice(4, 4 + keyLength);
  const present = plain[4 + keyLength];
  if (present > 1) throw corrupted(file, "has an entry with an invalid presence flag");
  return { key, value: present === 1 ? plain.slice(5 + keyLength) : undefined };
}
