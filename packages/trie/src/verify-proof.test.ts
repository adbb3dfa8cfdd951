import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, fromHex, toHex, utf8 } from "@phala-ts/primitives";
import { validateProofs } from "@polkadot-api/substrate-bindings";
import { TrieError, TrieProofError } from "./errors.ts";
import { EMPTY_TRIE_ROOT } from "./node-codec.ts";
import { MemoryNodeDb } from "./node-db.ts";
import { TrieStore } from "./trie-store.ts";
import { verifyProof } from "./verify-proof.ts";

/** Splits a SCALE `Vec<Vec<u8>>` (how smoldot's tests store proofs); lengths here fit 1- and 2-byte compacts. */
function decodeProofVec(bytes: number[]): Uint8Array[] {
  const b = Uint8Array.from(bytes);
  let pos = 0;
  const compact = () => {
    const mode = b[pos] & 3;
    if (mode === 0) return b[pos++] >> 2;
    assert.equal(mode, 1);
    const v = (b[pos] | (b[pos + 1] << 8)) >> 2;
    pos += 2;
    return v;
  };
  const count = compact();
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = compact();
    out.push(b.slice(pos, pos + len));
    pos += len;
  }
  assert.equal(pos, b.length);
  return out;
}

// A real Substrate storage proof, from smoldot's proof_decode tests (node_values_smaller_than_32bytes).
const GOLDEN_PROOF = decodeProofVec([
  12, 17, 1, 158, 195, 101, 195, 207, 89, 214, 113, 235, 114, 218, 14, 122, 65, 19, 196, 0,
  3, 88, 95, 7, 141, 67, 77, 97, 37, 180, 4, 67, 254, 17, 253, 41, 45, 19, 164, 16, 2, 0, 0,
  0, 104, 95, 15, 31, 5, 21, 244, 98, 205, 207, 132, 224, 241, 214, 4, 93, 252, 187, 32, 80,
  82, 127, 41, 119, 1, 0, 0, 185, 5, 128, 175, 188, 128, 15, 126, 137, 9, 189, 204, 29, 117,
  244, 124, 194, 9, 181, 214, 119, 106, 91, 55, 85, 146, 101, 112, 37, 46, 31, 42, 133, 72,
  101, 38, 60, 66, 128, 28, 186, 118, 76, 106, 111, 232, 204, 106, 88, 52, 218, 113, 2, 76,
  119, 132, 172, 202, 215, 130, 198, 184, 230, 206, 134, 44, 171, 25, 86, 243, 121, 128, 233,
  10, 145, 50, 95, 100, 17, 213, 147, 28, 9, 142, 56, 95, 33, 40, 56, 9, 39, 3, 193, 79, 169,
  207, 115, 80, 61, 217, 4, 106, 172, 152, 128, 12, 255, 241, 157, 249, 219, 101, 33, 139,
  178, 174, 121, 165, 33, 175, 0, 232, 230, 129, 23, 89, 219, 21, 35, 23, 48, 18, 153, 124,
  96, 81, 66, 128, 30, 174, 194, 227, 100, 149, 97, 237, 23, 238, 114, 178, 106, 158, 238,
  48, 166, 82, 19, 210, 129, 122, 70, 165, 94, 186, 31, 28, 80, 29, 73, 252, 128, 16, 56, 19,
  158, 188, 178, 192, 234, 12, 251, 221, 107, 119, 243, 74, 155, 111, 53, 36, 107, 183, 204,
  174, 253, 183, 67, 77, 199, 47, 121, 185, 162, 128, 17, 217, 226, 195, 240, 113, 144, 201,
  129, 184, 240, 237, 204, 79, 68, 191, 165, 29, 219, 170, 152, 134, 160, 153, 245, 38, 181,
  131, 83, 209, 245, 194, 128, 137, 217, 3, 84, 1, 224, 52, 199, 112, 213, 150, 42, 51, 214,
  103, 194, 225, 224, 210, 84, 84, 53, 31, 159, 82, 201, 3, 104, 118, 212, 110, 7, 128, 240,
  251, 81, 190, 126, 80, 60, 139, 88, 152, 39, 153, 231, 178, 31, 184, 56, 44, 133, 31, 47,
  98, 234, 107, 15, 248, 64, 78, 36, 89, 9, 149, 128, 233, 75, 238, 120, 212, 149, 223, 135,
  48, 174, 211, 219, 223, 217, 20, 172, 212, 172, 3, 234, 54, 130, 55, 225, 63, 17, 255, 217,
  150, 252, 93, 15, 128, 89, 54, 254, 99, 202, 80, 50, 27, 92, 48, 57, 174, 8, 211, 44, 58,
  108, 207, 129, 245, 129, 80, 170, 57, 130, 80, 166, 250, 214, 40, 156, 181, 21, 1, 128, 65,
  0, 128, 182, 204, 71, 61, 83, 76, 85, 166, 19, 22, 212, 242, 236, 229, 51, 88, 16, 191,
  227, 125, 217, 54, 7, 31, 36, 176, 211, 111, 72, 220, 181, 241, 128, 149, 2, 12, 26, 95, 9,
  193, 115, 207, 253, 90, 218, 0, 41, 140, 119, 189, 166, 101, 244, 74, 171, 53, 248, 82,
  113, 79, 110, 25, 72, 62, 65,
]);
const GOLDEN_ROOT = Uint8Array.from([
  43, 100, 198, 174, 1, 66, 26, 95, 93, 119, 43, 242, 5, 176, 153, 134, 193, 74, 159, 215,
  134, 15, 252, 135, 67, 129, 21, 16, 20, 211, 97, 217,
]);

const isProofError = (code: string) => (e: unknown) => e instanceof TrieProofError && e.code === code;

test("golden: verifies a real Substrate proof (smoldot vector)", () => {
  assert.equal(GOLDEN_PROOF.length, 3);
  const oracle = validateProofs(GOLDEN_PROOF);
  assert.ok(oracle !== null);
  assert.equal(oracle.rootHash, toHex(GOLDEN_ROOT));

  const key = fromHex("0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb");
  assert.deepEqual(verifyProof(GOLDEN_ROOT, GOLDEN_PROOF, key), Uint8Array.from([80, 82, 127, 41, 119, 1, 0, 0]));
  // The sibling leaf, inlined in the same branch.
  const sibling = fromHex("0xf0c365c3cf59d671eb72da0e7a4113c4878d434d6125b40443fe11fd292d13a4");
  assert.deepEqual(verifyProof(GOLDEN_ROOT, GOLDEN_PROOF, sibling), Uint8Array.from([2, 0, 0, 0]));
});

test("golden proof: proven absences return null", () => {
  for (const k of [
    "0xf0c365c3cf59d671eb72da0e7a4113c4a0", // no child 0xa in the branch
    "0xf0c365c3cf59d671eb72da0e7a4113c500", // diverges inside the branch's partial key
    "0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbc", // diverges in the leaf
    "0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb00", // longer than the leaf's key
    "0xf0c365c3", // ends inside the branch's partial key
    "0x40", // no child 4 at the root (bitmap 0xbcaf)
    "0xe0", // no child 0xe at the root
  ]) {
    assert.equal(verifyProof(GOLDEN_ROOT, GOLDEN_PROOF, fromHex(k)), null, k);
  }
});

test("golden proof: paths leaving the proof are INCOMPLETE_PROOF", () => {
  for (const k of ["0x00", "0xf6", "0xaa"]) {
    assert.throws(() => verifyProof(GOLDEN_ROOT, GOLDEN_PROOF, fromHex(k)), isProofError("INCOMPLETE_PROOF"), k);
  }
  // Any other root: the proof does not contain it.
  assert.throws(() => verifyProof(new Uint8Array(32), GOLDEN_PROOF, new Uint8Array()), isProofError("INCOMPLETE_PROOF"));
  // Dropping a node on the path.
  const withoutBranch = GOLDEN_PROOF.filter((n) => n.length !== 68);
  const key = fromHex("0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb");
  assert.throws(() => verifyProof(GOLDEN_ROOT, withoutBranch, key), isProofError("INCOMPLETE_PROOF"));
  // Tampering with a node changes its hash, so the walk no longer finds it.
  const tampered = GOLDEN_PROOF.map((n) => {
    if (n.length !== 68) return n;
    const t = n.slice();
    t[t.length - 1] ^= 1;
    return t;
  });
  assert.throws(() => verifyProof(GOLDEN_ROOT, tampered, key), isProofError("INCOMPLETE_PROOF"));
});

test("undecodable nodes on the path are INVALID_PROOF; the empty root proves every key absent", () => {
  const garbage = Uint8Array.of(0x08, 1, 2, 3);
  assert.throws(() => verifyProof(blake2b256(garbage), [garbage], utf8("k")), isProofError("INVALID_PROOF"));
  assert.equal(verifyProof(EMPTY_TRIE_ROOT, [], utf8("anything")), null);
  assert.throws(
    () => verifyProof(new Uint8Array(31), [], utf8("k")),
    (e: unknown) => e instanceof TrieError && e.code === "INVALID_ARGUMENT",
  );
});

test("hashed values: the proof carries the value node and the verifier needs it", () => {
  const store = new TrieStore({ db: new MemoryNodeDb(), pruningDepthBlocks: 0 });
  const batch = store.batch();
  const big = new Uint8Array(100).fill(9);
  batch.set(utf8("big"), big);
  batch.set(utf8("small"), utf8("s"));
  const { root } = batch.commit(0);
  const proof = store.prove(root, [utf8("big")]);
  assert.ok(proof.some((n) => toHex(n) === toHex(big)), "value node included");
  assert.deepEqual(verifyProof(root, proof, utf8("big")), big);
  const withoutValue = proof.filter((n) => toHex(n) !== toHex(big));
  assert.throws(() => verifyProof(root, withoutValue, utf8("big")), isProofError("INCOMPLETE_PROOF"));
  // A proof of a key not needing the value node does not carry it.
  assert.ok(!store.prove(root, [utf8("small")]).some((n) => toHex(n) === toHex(big)));
});
