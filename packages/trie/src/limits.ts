/** Named limits of the trie package, each with the reason for its value. */

/**
 * Longest storage key: a partial key may hold at most 65535 nibbles (trie-db's NIBBLE_SIZE_BOUND),
 * so a key of more than 32767 bytes could not be encoded in a leaf directly under the root.
 */
export const KEY_LENGTH_MAX_BYTES = 32_767;

/**
 * Largest storage value. The biggest value a chain stores is its runtime code (a few MiB); anything
 * near this bound is a bug, and LMDB writes each value in one piece.
 */
export const VALUE_LENGTH_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Most distinct keys one batch may hold before it is committed. A block's writes are bounded by its
 * weight far below this; genesis and large migrations fit too. Each pending write costs memory
 * (key, value, overlay entry, and the loaded trie path), so the bound keeps a runaway batch from
 * exhausting the heap.
 */
export const BATCH_WRITES_MAX = 2_000_000;

/** Most keys one `keys()` call returns; RPC pages are far smaller (Substrate caps them at 1000). */
export const KEYS_PAGE_MAX = 100_000;

/** Most keys one `prove()` call covers; bounds the proof (and the work) a single request can ask for. */
export const PROOF_KEYS_MAX = 10_000;

/** Block numbers are Substrate's u32. */
export const BLOCK_NUMBER_MAX = 0xffff_ffff;

/**
 * Most stored entries (trie nodes and value nodes) `TrieStore` keeps in memory, in its node cache
 * (see node-cache.ts). A block reads and rewrites the paths of every key it touches, and the
 * transaction pool reads the latest state again and again; this many entries hold a state of about
 * 100k keys (two entries a key, plus branches), so such a state is read without touching the
 * database. An entry costs its bytes plus about 60 (its hash and index slots): some 100 bytes for a
 * leaf or a value, 600 for a full branch, so a full cache takes roughly 25-100 MiB.
 */
export const NODE_CACHE_ENTRIES_MAX = 262_144;
