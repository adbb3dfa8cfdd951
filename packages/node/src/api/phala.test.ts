import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, u32le } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import { encodeHeader } from "@phala-ts/runtime/consensus";
import { SyncBatch, SyncBlock } from "@phala-ts/runtime/phala";
import { RawJson } from "../rpc/index.ts";
import { SYNC_BATCH_BYTES_MAX, SYNC_BATCH_CACHE_BYTES_MAX, SYNC_BATCH_CACHE_ENTRIES_MAX, SyncBatchCache, syncBatch, type SyncBatchSource } from "./phala.ts";

const KiB = 1024;

/** A finalized chain of `count` blocks whose ingress proof of block n is `proofBytes(n)` long. */
function chainOf(count: number, proofBytes: (n: number) => number): SyncBatchSource {
  const hashOf = (n: number) => blake2b256(u32le(n));
  const headerOf = (n: number) =>
    encodeHeader({ parent_hash: hashOf(n - 1), number: n, state_root: new Uint8Array(32), extrinsics_root: new Uint8Array(32), digest: { logs: [] } });
  const byHash = new Map<string, number>();
  for (let n = 1; n <= count; n++) byHash.set(Buffer.from(hashOf(n)).toString("hex"), n);
  const numberOf = (hash: Uint8Array) => byHash.get(Buffer.from(hash).toString("hex"));
  return {
    finalized: { number: count },
    db: {
      hashAt: (n) => (n >= 1 && n <= count ? hashOf(n) : undefined),
      header: (hash) => {
        const n = numberOf(hash);
        return n === undefined ? undefined : headerOf(n);
      },
      // A stored ingress record is a SyncBlock without its header: an empty header's encoding is one byte.
      ingressAt: (n) =>
        SyncBlock.codec.enc({ header: new Uint8Array(0), messages: new Uint8Array([0]), timestamp: new Uint8Array(8), proof: [new Uint8Array(proofBytes(n))] }).subarray(1),
    },
    justification: (hash) => {
      const n = numberOf(hash);
      return n === undefined ? undefined : new Uint8Array(100).fill(n & 0xff);
    },
  };
}

test("a sync batch stops before the block that would take it past SYNC_BATCH_BYTES_MAX", () => {
  const chain = chainOf(200, () => 64 * KiB);
  const encoded = syncBatch(chain, 5, 4096);
  assert.ok(encoded.length <= SYNC_BATCH_BYTES_MAX, `${encoded.length} bytes`);
  const batch = decodeExact(SyncBatch, encoded);
  const blocks = batch.blocks.length;
  // 64 KiB of proof per block: about 63 blocks fit in 4 MiB, far fewer than the 196 asked for.
  assert.ok(blocks > 1 && blocks < 196, `${blocks} blocks`);
  assert.ok(encoded.length + 64 * KiB > SYNC_BATCH_BYTES_MAX, "one more block would not have fit");
  assert.deepEqual(batch.certificate, new Uint8Array(100).fill((5 + blocks - 1) & 0xff), "the certificate is the last block's");
  // The next batch continues where this one stopped.
  const next = decodeExact(SyncBatch, syncBatch(chain, 5 + blocks, 4096));
  assert.ok(next.blocks.length > 0);
});

test("a block larger than SYNC_BATCH_BYTES_MAX is still sent, alone", () => {
  const chain = chainOf(3, (n) => (n === 2 ? SYNC_BATCH_BYTES_MAX + KiB : KiB));
  assert.equal(decodeExact(SyncBatch, syncBatch(chain, 2, 4096)).blocks.length, 1);
  assert.equal(decodeExact(SyncBatch, syncBatch(chain, 1, 4096)).blocks.length, 1, "block 1 goes alone when block 2 does not fit beside it");
});

test("small blocks still come up to maxBlocks in one batch", () => {
  const chain = chainOf(300, () => 100);
  assert.equal(decodeExact(SyncBatch, syncBatch(chain, 1, 4096)).blocks.length, 300);
  assert.equal(decodeExact(SyncBatch, syncBatch(chain, 1, 64)).blocks.length, 64);
});

test("the sync batch cache is bounded by total bytes, oldest out first", () => {
  const cache = new SyncBatchCache();
  const answer = (c: string) => new RawJson(c.repeat(2 * SYNC_BATCH_BYTES_MAX + 2)); // the hex JSON of a largest batch
  for (let i = 0; i < 8; i++) cache.set(`k${i}`, answer(String(i)));
  assert.ok(cache.bytes <= SYNC_BATCH_CACHE_BYTES_MAX, `${cache.bytes} bytes kept`);
  assert.ok(cache.size < 8 && cache.size < SYNC_BATCH_CACHE_ENTRIES_MAX);
  assert.equal(cache.get("k0"), undefined, "the oldest answer went first");
  assert.ok(cache.get("k7") !== undefined, "the newest answer is kept");
  cache.set("huge", new RawJson("x".repeat(SYNC_BATCH_CACHE_BYTES_MAX + 1)));
  assert.equal(cache.get("huge"), undefined, "an answer larger than the whole cache is not kept");
  assert.ok(cache.get("k7") !== undefined, "and evicts nothing");
  // Small answers are bounded by count.
  const small = new SyncBatchCache();
  for (let i = 0; i < 100; i++) small.set(`s${i}`, new RawJson('"0x00"'));
  assert.equal(small.size, SYNC_BATCH_CACHE_ENTRIES_MAX);
});
