/** Every limit and default of the SDK, each with its reason. */

/** Requests waiting for the node at once: a client sends a handful; more means a stuck node or a runaway loop. */
export const RPC_PENDING_MAX = 256;
/** Subscriptions one client holds: one per extrinsic being watched. */
export const RPC_SUBSCRIPTIONS_MAX = 64;
/** Notifications kept for a subscription id not known yet (the node may notify before it answers the subscribe). */
export const RPC_ORPHAN_NOTIFICATIONS_MAX = 64;
/** A node answer larger than this is refused: the biggest thing read is a block body or a 256 KiB code upload. */
export const RPC_MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
/** Default time the node has to answer one request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Default time from submission to finalization; the dev chain finalizes every block within seconds. */
export const DEFAULT_FINALIZATION_TIMEOUT_MS = 60_000;
/** Default time for the cluster to publish a new contract's public key after its instantiation is final. */
export const DEFAULT_CONTRACT_KEY_TIMEOUT_MS = 60_000;
/** Default time for a worker to serve a command's result after the command is final. */
export const DEFAULT_RESULT_TIMEOUT_MS = 60_000;
/** How often chain state or a worker is asked again while waiting. */
export const POLL_INTERVAL_MS = 250;

/** Default time a worker has for one HTTP request (a query runs under its own worker-side limit). */
export const DEFAULT_WORKER_TIMEOUT_MS = 10_000;
/** A worker's answer larger than this is refused: outputs are JSON of at most a few hundred KiB. */
export const WORKER_RESPONSE_BYTES_MAX = 4 * 1024 * 1024;

/** Default lifetime of a query certificate, as the "short-lived certificate" asks. */
export const DEFAULT_QUERY_CERT_TTL_MS = 60_000;
/**
 * Longest query certificate the SDK signs: 10 minutes. Workers refuse certificates that expire
 * more than 15 minutes after their own clock (they remember each nonce until then), so this
 * leaves 5 minutes for this machine's clock running ahead; the cache renews certificates anyway.
 */
export const QUERY_CERT_TTL_MAX_MS = 10 * 60_000;
/** A cached certificate is replaced when less than this share of its lifetime is left. */
export const QUERY_CERT_RENEW_FRACTION = 0.2;
/** Certificates cached at once (one per signer and lifetime); the oldest goes first. */
export const QUERY_CERT_CACHE_MAX = 64;

/** Clusters read by `clusters()` at most; a dev or test chain has a handful. */
export const CLUSTERS_LIST_MAX = 1000;

/** Bytes of a command's random nonce (CommandPlaintext.nonce). */
export const COMMAND_NONCE_BYTES = 16;
/** Bytes of a query's random nonce (QueryPlaintext.nonce). */
export const QUERY_NONCE_BYTES = 16;
/** Bytes of the random salt chosen when `instantiate` is given none. */
export const DEFAULT_SALT_BYTES = 16;

/** Envelope keys kept between certificates' ephemeral keys and workers (two per pair, 32 bytes each). */
export const QUERY_ENVELOPE_KEYS_MAX = 256;

/** Queries in one `POST /queries` batch at most: what a worker takes (its QUERY_BATCH_ITEMS_MAX). */
export const QUERY_BATCH_MAX = 32;
/**
 * Default queries per batch: with more in flight to one worker, several batches are on the wire
 * at once, so the worker answers one while the SDK opens the last and seals the next.
 */
export const DEFAULT_QUERY_BATCH_MAX = 8;
/** Endpoints remembered as answering queries one by one only (older pRuntimes); forgotten all at once past this. */
export const UNBATCHED_ENDPOINTS_MAX = 256;

/** Keys read under one `state_getReadProof`: a query route reads a dozen; more are split. */
export const READ_PROOF_KEYS_MAX = 256;
/** Validator-set changes followed from one finality proof (the node sends at most 64 per answer). */
export const SET_CHANGES_FOLLOWED_MAX = 64;
/**
 * Default age the newest finalized block may have by the local clock. A node can replay a
 * genuine but old state; a chain that makes a block every few seconds (phala dev: 2 s; Phala:
 * 12 s) is never this far behind unless it halted or the node lies.
 */
export const DEFAULT_MAX_STALENESS_MS = 5 * 60_000;
/** Verified key provenances kept (one per contract or cluster key used). */
export const PROVENANCE_CACHE_MAX = 256;
