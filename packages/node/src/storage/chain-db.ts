import { open, type Database, type RootDatabase } from "lmdb";
import { concatBytes } from "@phala-ts/primitives";
import { encodeCompact, DecodeError } from "@phala-ts/runtime";

export interface BlockRecord {
  hash: Uint8Array;
  number: number;
  header: Uint8Array;
  extrinsics: Uint8Array[];
  /** SCALE commit certificate; absent only for genesis. */
  justification: Uint8Array | undefined;
  /**
   * SCALE of the block's ingress (its `PhalaMq.OutboundMessages` and their read proof), made
   * inside the block's transaction after its trie nodes are written. Kept independent of
   * state pruning, because pRuntimes sync from genesis.
   */
  ingress?: () => Uint8Array;
  /** The id of the validator set this block's header announces, if it announces one. */
  announcedSetId?: bigint;
}

export interface ChainDbOptions {
  path: string;
  /** LMDB map size; the file grows up to this. */
  mapSizeBytes?: number;
}

const META_FINALIZED = "finalized";
const META_GENESIS = "genesis";
const DEFAULT_MAP_SIZE_BYTES = 64 * 1024 ** 3;

function setIdKey(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(id);
  return b;
}

function numberKey(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function encodeBody(extrinsics: Uint8Array[]): Uint8Array {
  return concatBytes(encodeCompact(extrinsics.length), ...extrinsics);
}

export function decodeBody(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  const readCompact = (): number => {
    const b0 = bytes[o];
    const mode = b0 & 3;
    if (mode === 0) {
      o += 1;
      return b0 >> 2;
    }
    if (mode === 1) {
      const v = (b0 | (bytes[o + 1] << 8)) >> 2;
      o += 2;
      return v;
    }
    if (mode === 2) {
      const v = (b0 | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 2;
      o += 4;
      return v;
    }
    throw new DecodeError("block body length prefix too large");
  };
  const count = readCompact();
  for (let i = 0; i < count; i++) {
    const start = o;
    const len = readCompact();
    o += len;
    out.push(bytes.subarray(start, o));
  }
  return out;
}

/**
 * Blocks, headers, justifications and the number index in LMDB. Each block is written in
 * one synchronous transaction together with its trie nodes, so after a crash the node
 * restarts at the last committed block with nothing finalized lost.
 */
export class ChainDb {
  readonly root: RootDatabase;
  readonly headers: Database<Buffer, Buffer>;
  readonly bodies: Database<Buffer, Buffer>;
  readonly justifications: Database<Buffer, Buffer>;
  readonly numbers: Database<Buffer, Buffer>;
  readonly meta: Database<Buffer, string>;
  readonly trieNodes: Database<Buffer, Buffer>;
  readonly trieJournal: Database<Buffer, Buffer>;
  readonly ingress: Database<Buffer, Buffer>;
  /** Set id → the number of the block whose header announced it: what a light client's warp sync needs. */
  readonly setChanges: Database<Buffer, Buffer>;

  constructor(options: ChainDbOptions) {
    this.root = open({ path: options.path, maxDbs: 16, mapSize: options.mapSizeBytes ?? DEFAULT_MAP_SIZE_BYTES, compression: false });
    const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };
    this.headers = this.root.openDB({ name: "headers", ...bin });
    this.bodies = this.root.openDB({ name: "bodies", ...bin });
    this.justifications = this.root.openDB({ name: "justifications", ...bin });
    this.numbers = this.root.openDB({ name: "numbers", ...bin });
    this.meta = this.root.openDB({ name: "meta", encoding: "binary", keyEncoding: "ordered-binary" }) as unknown as Database<Buffer, string>;
    this.trieNodes = this.root.openDB({ name: "trie-nodes", ...bin });
    this.trieJournal = this.root.openDB({ name: "trie-journal", ...bin });
    this.ingress = this.root.openDB({ name: "ingress", ...bin });
    this.setChanges = this.root.openDB({ name: "set-changes", ...bin });
  }

  finalizedHash(): Uint8Array | undefined {
    return this.meta.get(META_FINALIZED) ?? undefined;
  }

  genesisHash(): Uint8Array | undefined {
    return this.meta.get(META_GENESIS) ?? undefined;
  }

  hashAt(n: number): Uint8Array | undefined {
    return this.numbers.get(numberKey(n)) ?? undefined;
  }

  header(hash: Uint8Array): Uint8Array | undefined {
    return this.headers.get(Buffer.from(hash)) ?? undefined;
  }

  body(hash: Uint8Array): Uint8Array[] | undefined {
    const b = this.bodies.get(Buffer.from(hash));
    return b ? decodeBody(b) : undefined;
  }

  ingressAt(n: number): Uint8Array | undefined {
    return this.ingress.get(numberKey(n)) ?? undefined;
  }

  justification(hash: Uint8Array): Uint8Array | undefined {
    return this.justifications.get(Buffer.from(hash)) ?? undefined;
  }

  /** Numbers of the blocks announcing validator sets with ids above `afterSetId`, in order, at most `limit`. */
  setChangesAfter(afterSetId: bigint, limit: number): number[] {
    const out: number[] = [];
    for (const { value } of this.setChanges.getRange({ start: setIdKey(afterSetId + 1n), limit })) out.push(value.readUInt32BE(0));
    return out;
  }

  /**
   * Writes a finalized block. `withState` runs inside the same transaction so trie nodes
   * and the block become durable together.
   */
  commitBlock(b: BlockRecord, withState: () => void): void {
    const key = Buffer.from(b.hash);
    this.root.transactionSync(() => {
      withState();
      if (b.ingress) this.ingress.putSync(numberKey(b.number), Buffer.from(b.ingress()));
      this.headers.putSync(key, Buffer.from(b.header));
      this.bodies.putSync(key, Buffer.from(encodeBody(b.extrinsics)));
      if (b.justification) this.justifications.putSync(key, Buffer.from(b.justification));
      this.numbers.putSync(numberKey(b.number), key);
      if (b.announcedSetId !== undefined) this.setChanges.putSync(setIdKey(b.announcedSetId), numberKey(b.number));
      if (b.number === 0) this.meta.putSync(META_GENESIS, key);
      this.meta.putSync(META_FINALIZED, key);
    });
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
