/**
 * Helpers for this package's tests: inspecting what a `MemoryNodeDb` holds and what a state
 * references. Not exported from the package.
 */
import { bytesEqual, concatBytes, toHex } from "@phala-ts/primitives";
import { EMPTY_TRIE_ROOT, HASH_LENGTH_BYTES, decodeNode, encodeCompact, type DecodedNode } from "./node-codec.ts";
import type { MemoryNodeDb, NodeDb } from "./node-db.ts";

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Node bytes as stored by `TrieStore`, without the 4-byte refcount suffix. */
function storedNode(db: NodeDb, hash: Uint8Array): Uint8Array | undefined {
  const entry = db.getBinary(hash);
  return entry === undefined ? undefined : entry.subarray(0, entry.length - 4);
}

/** Occurrences of each stored hash in a state: its root, hashed child references, value-node references. */
export function occurrences(db: NodeDb, root: Uint8Array, into = new Map<string, number>()): Map<string, number> {
  if (bytesEqual(root, EMPTY_TRIE_ROOT)) return into;
  const bump = (h: Uint8Array) => into.set(hex(h), (into.get(hex(h)) ?? 0) + 1);
  const visit = (bytes: Uint8Array) => {
    const d = decodeNode(bytes);
    if (d.kind === "empty") throw new Error("empty node below the root");
    if (d.value?.kind === "hashed") bump(d.value.hash);
    if (d.kind === "leaf") return;
    for (const c of d.children) {
      if (c === null) continue;
      if (c.kind === "inline") visit(c.encoded);
      else {
        bump(c.hash);
        const child = storedNode(db, c.hash);
        if (child === undefined) throw new Error(`missing node ${hex(c.hash)}`);
        visit(child);
      }
    }
  };
  bump(root);
  const bytes = storedNode(db, root);
  if (bytes === undefined) throw new Error(`missing root ${hex(root)}`);
  visit(bytes);
  return into;
}

export interface DbContents {
  nodes: Set<string>;
  refcounts: Map<string, number>;
  /** Hash -> number of entries across all pending journals. */
  journaled: Map<string, number>;
  journalBlocks: number[];
}

export function dbContents(db: MemoryNodeDb): DbContents {
  const out: DbContents = { nodes: new Set(), refcounts: new Map(), journaled: new Map(), journalBlocks: [] };
  for (const k of db.keys()) {
    const v = db.getBinary(k) as Uint8Array;
    if (k.length === HASH_LENGTH_BYTES) {
      out.nodes.add(hex(k));
      out.refcounts.set(hex(k), Buffer.from(v).readUInt32LE(v.length - 4));
    } else if (k[0] === 0x02) {
      out.journalBlocks.push(Buffer.from(k.subarray(1)).readUInt32BE(0));
      for (let o = 0; o < v.length; o += 32) {
        const h = hex(v.subarray(o, o + 32));
        out.journaled.set(h, (out.journaled.get(h) ?? 0) + 1);
      }
    }
  }
  out.journalBlocks.sort((a, b) => a - b);
  return out;
}

/** What polkadot-api's `trieNodeDec` should report for a node we encoded. */
export function oracleView(node: Exclude<DecodedNode, { kind: "empty" }>): Record<string, unknown> {
  const partialKey = [...node.partial].map((n) => n.toString(16)).join("");
  if (node.kind === "leaf") {
    const hashed = node.value.kind === "hashed";
    const value = node.value.kind === "hashed" ? toHex(node.value.hash) : toHex(concatBytes(encodeCompact(node.value.data.length), node.value.data));
    return { type: hashed ? "LeafWithHash" : "Leaf", partialKey, value };
  }
  const children: Record<string, string> = {};
  node.children.forEach((c, i) => {
    if (c !== null) children[i.toString(16)] = toHex(c.kind === "hash" ? c.hash : c.encoded);
  });
  const out: Record<string, unknown> = {
    type: node.value === null ? "Branch" : node.value.kind === "hashed" ? "BranchWithHash" : "BranchWithVal",
    partialKey,
    children,
  };
  if (node.value !== null) out.value = toHex(node.value.kind === "hashed" ? node.value.hash : node.value.data);
  return out;
}
