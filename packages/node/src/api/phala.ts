import assert from "node:assert/strict";
import { concatByteList, toHex } from "@phala-ts/primitives";
import { encodeCompact } from "@phala-ts/runtime/types";
import { announcedValidatorSet, decodeHeader as decodeHeaderValue } from "@phala-ts/runtime/consensus";
import { SYNC_BATCH_BLOCKS_MAX } from "@phala-ts/runtime/phala";
import { RawJson, RpcError, type RpcServer } from "../rpc/index.ts";
import type { Chain } from "../chain.ts";
import type { NodeService } from "../service.ts";
import { headerAt, invalidParams } from "./params.ts";

function blockNumberParam(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 0xffff_ffff) throw invalidParams(`${what} must be a block number (a non-negative integer)`);
  return v;
}

/**
 * Largest SCALE SyncBatch one answer carries (4 MiB; its hex JSON is twice that). Any caller may
 * ask, so an answer must stay cheap to build and hold however large the blocks' proofs are; at a
 * few KiB per block it still carries hundreds of blocks, and it stays far below pRuntime's
 * 64 MiB /sync body limit. A single block larger than this is still sent alone, so sync never stalls.
 */
export const SYNC_BATCH_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Total size of the encoded batches kept (hex JSON characters, one byte each in memory): the pHosts
 * of a node ask for the same new blocks one after another. 32 MiB holds four answers of the largest size.
 */
export const SYNC_BATCH_CACHE_BYTES_MAX = 32 * 1024 * 1024;
/** Batches kept at most, whatever their size: a node serves a handful of pHosts. */
export const SYNC_BATCH_CACHE_ENTRIES_MAX = 16;

/** What a sync batch is read from: the chain's finalized head and its stored blocks. */
export interface SyncBatchSource {
  readonly finalized: { readonly number: number };
  readonly db: {
    hashAt(n: number): Uint8Array | undefined;
    header(hash: Uint8Array): Uint8Array | undefined;
    ingressAt(n: number): Uint8Array | undefined;
  };
  justification(hash: Uint8Array): Uint8Array | undefined;
}

/**
 * Finalized blocks `from..` for a pRuntime light client in one answer: headers, each block's
 * ingress messages with their read proof, and the commit certificate of the last one. The
 * batch stops after a header announcing a validator set, so the set that signs that
 * announcement is the one the light client already trusts, and before the block that would
 * take the encoded batch past SYNC_BATCH_BYTES_MAX (it always holds at least one block).
 *
 * A SyncBlock is its header (as bytes) followed by the fields of the stored IngressRecord,
 * in the same order and encoding, so the stored record is spliced in as is.
 */
export function syncBatch(chain: SyncBatchSource, from: number, maxBlocks: number): Uint8Array {
  const finalized = chain.finalized.number;
  if (from < 1) throw invalidParams("sync starts at block 1; the genesis header comes from phala_getGenesisHeader");
  if (from > finalized) throw new RpcError(4003, `Client error: block #${from} is not finalized yet (finalized is #${finalized})`);
  const last = Math.min(finalized, from + maxBlocks - 1);
  const parts: Uint8Array[] = [];
  let blockBytes = 0;
  let count = 0;
  let certificate: Uint8Array | undefined;
  for (let n = from; n <= last; n++) {
    const hash = chain.db.hashAt(n);
    const header = hash && chain.db.header(hash);
    const ingress = chain.db.ingressAt(n);
    if (!hash || !header || !ingress) throw new RpcError(4003, `Client error: block #${n} or its ingress proof is missing from this node's database`);
    const cert = chain.justification(hash);
    if (!cert) throw new RpcError(4003, `Client error: block #${n} has no finality certificate`);
    const block = [encodeCompact(header.length), header, ingress];
    const size = block.reduce((total, b) => total + b.length, 0);
    // The batch if it ended with this block: block count, blocks, this block's certificate.
    const total = encodeCompact(count + 1).length + blockBytes + size + encodeCompact(cert.length).length + cert.length;
    if (count > 0 && total > SYNC_BATCH_BYTES_MAX) break;
    parts.push(...block);
    blockBytes += size;
    count++;
    certificate = cert;
    if (announcedValidatorSet(decodeHeaderValue(header))) break;
  }
  assert.ok(certificate !== undefined && count > 0, "a sync batch holds at least its first block");
  parts.unshift(encodeCompact(count));
  parts.push(encodeCompact(certificate.length), certificate);
  return concatByteList(parts);
}

/**
 * Encoded batches by the range asked for, bounded by total size and count; the oldest goes
 * first. An answer larger than the whole cache is not kept.
 */
export class SyncBatchCache {
  readonly #entries = new Map<string, RawJson>();
  #bytes = 0;

  constructor(
    readonly bytesMax: number = SYNC_BATCH_CACHE_BYTES_MAX,
    readonly entriesMax: number = SYNC_BATCH_CACHE_ENTRIES_MAX,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): RawJson | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: RawJson): void {
    const size = value.json.length;
    if (size > this.bytesMax || this.#entries.has(key)) return;
    while (this.#entries.size > 0 && (this.#entries.size >= this.entriesMax || this.#bytes + size > this.bytesMax)) {
      const [oldest, old] = this.#entries.entries().next().value!;
      this.#entries.delete(oldest);
      this.#bytes -= old.json.length;
    }
    this.#entries.set(key, value);
    this.#bytes += size;
  }
}

/** Set changes in one `phala_proveFinality` answer; a client that is further behind asks again from the last. */
export const FINALITY_PROOF_SET_CHANGES_MAX = 64;

function setIdParam(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw invalidParams("knownSetId must be a validator set id (a non-negative integer)");
  return BigInt(v);
}

/**
 * What a light client needs to trust a finalized block without downloading the chain: the
 * block's SCALE header and commit certificate, preceded by every header that announced a
 * validator set after `knownSetId` (up to the block), each with its own certificate by the
 * set before it (warp-sync style).
 */
export function finalityProof(chain: Chain, at: unknown, knownSet: unknown) {
  const h = headerAt(chain, at);
  const knownSetId = setIdParam(knownSet);
  const certified = (hash: Uint8Array, number: number) => {
    const header = chain.db.header(hash);
    const certificate = chain.justification(hash);
    if (!header || !certificate) throw new RpcError(4003, `Client error: block #${number} has no finality certificate on this node`);
    return { header: toHex(header), certificate: toHex(certificate) };
  };
  if (h.number === 0) throw invalidParams("the genesis block has no certificate; it is the trust anchor itself (phala_getGenesisHeader)");
  const setChanges = chain.db
    .setChangesAfter(knownSetId, FINALITY_PROOF_SET_CHANGES_MAX)
    .filter((n) => n <= h.number)
    .map((n) => {
      const hash = chain.db.hashAt(n);
      if (!hash) throw new RpcError(4003, `Client error: block #${n} is missing from this node's database`);
      return certified(hash, n);
    });
  return { ...certified(h.hash, h.number), setChanges };
}

/** Phala's own RPC methods: what pHost needs to feed pRuntime, and finality proofs for light clients. */
export function registerPhalaRpc(rpc: RpcServer, node: NodeService): void {
  rpc.register("phala_getGenesisHeader", () => toHex(node.chain.genesis.encoded));
  rpc.register("phala_proveFinality", (p: unknown[]) => finalityProof(node.chain, p[0], p[1]));
  // Finalized blocks never change, so a batch is the same for every pHost that asks.
  const batches = new SyncBatchCache();
  rpc.register("phala_getSyncBatch", (p: unknown[]) => {
    const from = blockNumberParam(p[0], "from");
    const max = p[1] === undefined ? 1000 : blockNumberParam(p[1], "maxBlocks");
    if (max < 1 || max > SYNC_BATCH_BLOCKS_MAX) throw invalidParams(`maxBlocks must be between 1 and ${SYNC_BATCH_BLOCKS_MAX}`);
    const key = `${from}:${Math.min(node.chain.finalized.number, from + max - 1)}`;
    const hit = batches.get(key);
    if (hit !== undefined) return hit;
    const encoded = RawJson.hex(toHex(syncBatch(node.chain, from, max)));
    batches.set(key, encoded);
    return encoded;
  });
}
