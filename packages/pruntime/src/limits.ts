/** Named limits of pRuntime, each with the reason for its value. */

/**
 * Largest /sync body. A batch is at most SYNC_BATCH_BLOCKS_MAX (4096) blocks; a block with a
 * few hundred messages and its proof is a few KiB, so 64 MiB holds any honest batch while a
 * hostile client cannot make the process buffer more than this per request.
 */
export const SYNC_BODY_BYTES_MAX = 64 * 1024 * 1024;
/** Largest body of every other request (JSON with a genesis header): headers are small. */
export const JSON_BODY_BYTES_MAX = 1024 * 1024;
/** Longest endpoint URL /endpoint signs; the chain stores it, so it stays short. */
export const ENDPOINT_URL_LENGTH_MAX = 2048;
/**
 * Signed egress messages kept per signing origin while the chain has not accepted them. pHost
 * submits them every few seconds; a beacon every 10 blocks fills this only after ~650k blocks
 * without submissions. Past it, new messages are dropped and counted (the origin's sequence
 * then stalls on the chain, which is visible in /info), instead of growing without bound.
 */
export const EGRESS_PENDING_PER_ORIGIN_MAX = 65_536;
/**
 * Random beacons a gatekeeper remembers to check against what the chain carries. Beacons reach
 * the chain a few blocks after they are made; 1024 covers any realistic lag.
 */
export const BEACON_RECORDS_MAX = 1024;
/**
 * Workers and gatekeepers this pRuntime follows. The chain bounds registrations by deposits;
 * this bound only keeps a hostile or broken chain from growing the checkpoint without limit.
 */
export const WORKERS_MAX = 1_000_000;
export const GATEKEEPERS_MAX = 1024;
/** Master keys kept (the first plus one per rotation); rotations are governance actions, rare. */
export const MASTER_HISTORY_MAX = 4096;
