import { T, type Infer } from "../../types/index.ts";

/**
 * What pHost feeds pRuntime: finalized headers in order, each with its ingress messages, its
 * timestamp and a read proof of both against its state root, and the commit
 * certificate of the last header. A batch ends at the first header announcing a new
 * validator set, so that announcement is certified by the set that made it.
 */
export const SyncBlock = T.struct(["phala_pruntime", "SyncBlock"], {
  header: T.bytes,
  /** SCALE `Vec<Message>` as stored, or the encoding of an empty list when the key is absent. */
  messages: T.bytes,
  /** SCALE u64 `Timestamp.Now` of the block (ms): block time for contracts, proven by the same proof. */
  timestamp: T.bytes,
  /** Read proof of `PhalaMq.OutboundMessages` and `Timestamp.Now` against the header's state root. */
  proof: T.vec(T.bytes),
});
export const SyncBatch = T.struct(["phala_pruntime", "SyncBatch"], {
  blocks: T.vec(SyncBlock),
  certificate: T.bytes,
});
export type SyncBatchValue = Infer<typeof SyncBatch>;
export type SyncBlockValue = Infer<typeof SyncBlock>;

/** Upper bound on blocks per batch, so one request stays bounded in memory on both sides. */
export const SYNC_BATCH_BLOCKS_MAX = 4096;
