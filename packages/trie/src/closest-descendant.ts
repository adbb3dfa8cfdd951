import { blake2b256, toHex } from "@phala-ts/primitives";
import { decodeNode, type DecodedNode } from "./node-codec.ts";
import { bytesToNibbles } from "./nibbles.ts";
import { TrieError } from "./errors.ts";

/** The read side of the store this needs: ordered keys and proofs. */
export interface ProvingReader {
  keys(root: Uint8Array, options: { prefix?: Uint8Array; limit: number }): Uint8Array[];
  prove(root: Uint8Array, keys: readonly Uint8Array[]): Uint8Array[];
}

/**
 * The merkle value (node hash, or the encoding of a node inlined in its parent) of the
 * closest node at or below `prefix`, as `chainHead_v1_storage`'s `closestDescendantMerkleValue`
 * defines it; null when nothing is stored under the prefix.
 */
export function closestDescendantMerkleValue(store: ProvingReader, root: Uint8Array, prefix: Uint8Array): Uint8Array | null {
  const [first] = store.keys(root, { prefix, limit: 1 });
  if (first === undefined) return null;
  // The proof of the first key under the prefix holds every node on the path to it,
  // and so the node where that path first covers the whole prefix.
  const byHash = new Map<string, Uint8Array>();
  for (const n of store.prove(root, [first])) byHash.set(toHex(blake2b256(n)), n);
  const want = bytesToNibbles(prefix);
  let merkle = root;
  let encoded = byHash.get(toHex(root));
  let consumed = 0;
  for (;;) {
    if (!encoded) throw new TrieError("MISSING_NODE", `node ${toHex(merkle)} missing from the proof`);
    const node: DecodedNode = decodeNode(encoded);
    if (node.kind === "empty") return null;
    const rest = want.length - consumed;
    const partial = node.partial;
    const shared = Math.min(rest, partial.length);
    for (let i = 0; i < shared; i++) if (partial[i] !== want[consumed + i]) return null;
    if (rest <= partial.length) return merkle;
    if (node.kind === "leaf") return null;
    consumed += partial.length;
    const child = node.children[want[consumed]];
    consumed += 1;
    if (!child) return null;
    if (child.kind === "hash") {
      merkle = child.hash;
      encoded = byHash.get(toHex(child.hash));
    } else {
      merkle = child.encoded;
      encoded = child.encoded;
    }
    // A prefix that ends exactly at this child is covered by it: the loop's next turn
    // sees rest = 0 and returns this child's merkle value.
  }
}
