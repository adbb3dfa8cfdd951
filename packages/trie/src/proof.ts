/**
 * What a light client needs from the trie, and nothing that stores nodes: checking read
 * proofs against a state root and computing an extrinsics root. Browser-safe.
 */
export { PROOF_NODES_MAX, verifyProof } from "./verify-proof.ts";
export { orderedTrieRoot } from "./trie-root.ts";
export { TrieError, TrieProofError } from "./errors.ts";
