/** How the tries and walks read stored nodes: the store (through its node cache), or a proof. */

/**
 * Where a stored node or value sits: `buf[off .. off + len)`. A `NodeSource` fills one in rather
 * than returning a new object, so that reading a node allocates nothing. The bytes are shared:
 * never mutate them, and copy what leaves the package.
 */
export class StoredRef {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;
  /** For a node, `scanNode`'s flags (its encoding was checked); 0 for a value. */
  nodeFlags = 0;
}

export interface NodeSource {
  /**
   * Points `out` at the node whose hash is `hash[at .. at + 32)`. Throws MISSING_NODE if it is not
   * stored, and INVALID_NODE if it does not decode (the empty-trie node included).
   */
  node(hash: Uint8Array, at: number, out: StoredRef): void;
  /** Points `out` at the bytes of the value node whose hash is `hash[at .. at + 32)`; as `node`. */
  value(hash: Uint8Array, at: number, out: StoredRef): void;
}
