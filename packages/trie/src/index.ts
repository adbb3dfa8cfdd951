export { TrieError, TrieProofError } from "./errors.ts";
export type { TrieErrorCode, TrieErrorOptions, TrieProofErrorCode } from "./errors.ts";
export {
  EMPTY_NODE,
  EMPTY_TRIE_ROOT,
  HASH_LENGTH_BYTES,
  PARTIAL_KEY_NIBBLES_MAX,
  VALUE_NODE_THRESHOLD_BYTES,
  decodeNode,
  encodeNode,
} from "./node-codec.ts";
export type { ChildRef, DecodedNode, NodeValue } from "./node-codec.ts";
export {
  BATCH_WRITES_MAX,
  BLOCK_NUMBER_MAX,
  KEYS_PAGE_MAX,
  KEY_LENGTH_MAX_BYTES,
  PROOF_KEYS_MAX,
  VALUE_LENGTH_MAX_BYTES,
} from "./limits.ts";
export { MemoryNodeDb } from "./node-db.ts";
export type { NodeDb } from "./node-db.ts";
export { TrieBatch } from "./trie-batch.ts";
export type { TrieCommitResult } from "./trie-batch.ts";
export { TrieStore } from "./trie-store.ts";
export type { KeysOptions, TrieStoreOptions } from "./trie-store.ts";
export { orderedTrieRoot, trieRoot } from "./trie-root.ts";
export { PROOF_NODES_MAX, verifyProof } from "./verify-proof.ts";
export { closestDescendantMerkleValue } from "./closest-descendant.ts";
export type { ProvingReader } from "./closest-descendant.ts";
