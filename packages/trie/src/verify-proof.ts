import { blake2b256, bytesKey, toHex } from "@phala-ts/primitives";
import { TrieError, TrieProofError } from "./errors.ts";
import { HASH_LENGTH_BYTES, scanNode } from "./node-codec.ts";
import type { NodeSource } from "./node-source.ts";
import { lookup } from "./trie-reader.ts";

/** Most nodes one proof may carry: a proof for `PROOF_KEYS_MAX` keys of ~10 nodes each stays below. */
export const PROOF_NODES_MAX = 100_000;


/**
 * Checks a read proof (the node set `state_getReadProof` returns) for one key against `root`.
 * Returns the value, or null when the proof shows the key is absent. Throws `TrieProofError`:
 * `INCOMPLETE_PROOF` when a node on the key's path is missing from the proof, `INVALID_PROOF` when a
 * node on the path does not decode. Nodes the walk does not need are ignored.
 */
export function verifyProof(root: Uint8Array, proofNodes: readonly Uint8Array[], key: Uint8Array): Uint8Array | null {
  if (root.length !== 32) {
    throw new TrieError("INVALID_ARGUMENT", "a state root is 32 bytes", { details: { length: root.length } });
  }
  if (proofNodes.length > PROOF_NODES_MAX) {
    throw new TrieProofError("INVALID_PROOF", "proof has too many nodes", {
      details: { count: proofNodes.length, max: PROOF_NODES_MAX },
    });
  }
  const byHash = new Map<string, Uint8Array>();
  for (const node of proofNodes) byHash.set(bytesKey(blake2b256(node)), node);
  const load = (hash: Uint8Array, at: number): Uint8Array => {
    const node = byHash.get(bytesKey(hash.subarray(at, at + HASH_LENGTH_BYTES)));
    if (node === undefined) {
      throw new TrieProofError("INCOMPLETE_PROOF", "the proof lacks a node on the key's path", {
        details: { hash: toHex(hash.subarray(at, at + HASH_LENGTH_BYTES)) },
      });
    }
    return node;
  };
  const source: NodeSource = {
    node: (hash, at, out) => {
      const bytes = load(hash, at);
      const nodeFlags = scanNode(bytes, 0, bytes.length);
      if (nodeFlags === 0) throw new TrieError("INVALID_NODE", "empty node below the root", { details: { length: bytes.length } });
      out.buf = bytes;
      out.off = 0;
      out.len = bytes.length;
      out.nodeFlags = nodeFlags;
    },
    value: (hash, at, out) => {
      const bytes = load(hash, at);
      out.buf = bytes;
      out.off = 0;
      out.len = bytes.length;
      out.nodeFlags = 0;
    },
  };
  try {
    return lookup(source, root, key);
  } catch (e) {
    if (e instanceof TrieError && e.code === "INVALID_NODE") {
      throw new TrieProofError("INVALID_PROOF", "the proof holds a node that does not decode", { cause: e });
    }
    throw e;
  }
}
