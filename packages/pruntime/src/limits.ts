/** Named limits of pRuntime, each with the reason for its value. */

/**
 * Largest /sync body. A batch is at most SYNC_BATCH_BLOCKS_MAX (4096) blocks; a block with a
 * few hundred messages and its proof is a few KiB, so 64 MiB holds any honest batch while a
 * hostile client cannot make the process buffer more than this per request.
 */
export const SYNC_BODY_BYTES_MAX = 64 * 1024 * 1024;
/** Largest body of every other request (JSON with a genesis header): headers are small. */
export const JSON_BODY_BYTES_MAX = 1024 * 1024;
/**
 * Signed egress messages kept per signing origin while the chain has not accepted them. pHost
 * submits them every few seconds; a beacon every 10 blocks fills this only after ~650k blocks
 * without submissions. Past it, new messages are dropped and counted instead of growing without
 * bound; a dropped message gives its sequence back, so the next one carries the number the chain
 * expects and the origin does not stall.
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
/**
 * Clusters every pRuntime follows. Clusters are created by governance (Sudo), a handful per
 * network; the bound keeps a broken chain from growing every checkpoint without limit.
 */
export const CLUSTERS_MAX = 4096;
/** Contracts followed across all clusters: instantiation costs a deposit, so this is far off. */
export const CONTRACTS_MAX = 1_000_000;
/** Accounts with a balance inside one cluster; deposits cost PHA, so this is far off too. */
export const CLUSTER_ACCOUNTS_MAX = 1_000_000;
/** Distinct code hashes kept (each as one sealed file); uploads are paid and 256 KiB at most. */
export const CODES_MAX = 65_536;
/** Contract bundles kept parsed in memory; the rest are read back from their sealed files. */
export const CODE_CACHE_MAX = 64;
/**
 * Command results kept for their senders to fetch. At ~200 bytes each this is ~20 MB in the
 * checkpoint; a sender fetches its result within seconds, so 100k covers minutes at the
 * 1,000 commands/s goal. Older results are dropped oldest first (a fetch then gets 404).
 */
export const COMMAND_RESULTS_MAX = 100_000;
/**
 * Storage one contract may hold (keys plus values, UTF-8 bytes). Deposits make storage
 * expensive; this bound keeps one contract from filling a worker's memory and checkpoint.
 */
export const CONTRACT_STORAGE_BYTES_MAX = 64 * 1024 * 1024;
/** Largest POST /query body: a certificate, an ephemeral key and an encrypted input of a few KiB. */
export const QUERY_BODY_BYTES_MAX = 64 * 1024;
/**
 * Queries in one POST /queries batch. A client batches the queries it has in flight to one
 * worker (the SDK sends at most 8); more than this is a client that should send two batches.
 */
export const QUERY_BATCH_ITEMS_MAX = 32;
/** Largest POST /queries body: QUERY_BATCH_ITEMS_MAX queries of QUERY_BODY_BYTES_MAX each, with their lengths. */
export const QUERY_BATCH_BODY_BYTES_MAX = QUERY_BATCH_ITEMS_MAX * (QUERY_BODY_BYTES_MAX + 4) + 4;
/**
 * A batch lets other requests (sync, other queries) in after this much work: its queries run
 * one by one, and a batch of slow ones must not hold the worker for their sum.
 */
export const QUERY_BATCH_SLICE_MS = 20;
/**
 * Query nonces remembered in all (per account, until the certificate that carried them expires).
 * Past this, new queries are refused (NONCE_CACHE_FULL) rather than forgetting nonces a
 * replay could reuse. This bounds the cache's memory however many accounts ask: measured on
 * node 20, ~53 MiB of heap when few accounts hold them (~112 bytes an entry) and ~90 MiB in the
 * worst case, every nonce from another account (~190 bytes: the account's counter too).
 */
export const QUERY_NONCES_MAX = 500_000;
/**
 * Live query nonces one account may hold on this worker. Past it, that account's new queries are
 * refused (429 TOO_MANY_QUERIES) until its certificates expire, while other accounts' queries go
 * on: one account alone can fill at most an eighth of QUERY_NONCES_MAX. With the SDK's default
 * 60 s certificates this still lets one account sustain ~1,000 queries/s (the benchmark's bursts).
 */
export const QUERY_NONCES_PER_ACCOUNT_MAX = 65_536;
/**
 * Longest a query certificate may still be valid for, by this worker's clock: 15 minutes. Its
 * nonces are remembered until it expires, so this bounds how long every cache entry lives
 * (a year-long certificate would pin its nonces for a year). The SDK issues at most 10-minute
 * certificates (and renews them), which leaves 5 minutes for a client's clock running ahead.
 */
export const QUERY_CERT_LIFETIME_MAX_MS = 15 * 60_000;
/** Gas of one query: read-only, so a fixed generous budget (the VM's units). */
export const QUERY_GAS_LIMIT = 50_000_000n;
/** Wall-clock cap of one query, on top of its gas: a query must never hold the worker. */
export const QUERY_TIME_LIMIT_MS = 2_000;
/**
 * Gas of a contract's init: paid by no one (the deployer's balance is not charged for init),
 * so it is capped at the same budget as one query.
 */
export const INIT_GAS_MAX = 50_000_000n;
/** Query certificates remembered as verified (a hash each): one per client session is typical. */
export const VERIFIED_CERTIFICATES_MAX = 65_536;
/** Envelope keys kept for query certificates' ephemeral keys (two per certificate, 32 bytes each). */
export const QUERY_ENVELOPE_KEYS_MAX = 8_192;
/**
 * Contract execution one POST /sync waits for before it stops after the block in progress
 * and answers with the height reached (pHost then sends the rest). Commands run off the HTTP
 * thread, so this does not protect the API; it keeps each /sync answer (and so pHost's view
 * of progress, its egress submissions and a clean shutdown) within seconds, far below pHost's
 * 60 s request timeout, even for blocks full of commands at the gas cap.
 */
export const SYNC_EXECUTION_BUDGET_MS = 2_000;
