import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { open, type RootDatabase } from "lmdb";
import { TrieError } from "./errors.ts";
import { EMPTY_TRIE_ROOT } from "./node-codec.ts";
import { trieRoot } from "./trie-root.ts";
import { TrieStore } from "./trie-store.ts";
import { verifyProof } from "./verify-proof.ts";

function withEnv(run: (openEnv: () => RootDatabase) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "phala-trie-"));
  const envs: RootDatabase[] = [];
  try {
    run(() => {
      const env = open({ path: dir, maxDbs: 4 });
      envs.push(env);
      return env;
    });
  } finally {
    for (const env of envs) env.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function openStore(env: RootDatabase, pruningDepthBlocks: number): TrieStore {
  const bin = { encoding: "binary" as const, keyEncoding: "binary" as const };
  return new TrieStore({
    db: env.openDB({ name: "trie-nodes", ...bin }),
    journalDb: env.openDB({ name: "trie-journal", ...bin }),
    pruningDepthBlocks,
  });
}

const enc = (s: string) => Buffer.from(s);

test("LMDB: blocks commit inside the caller's transaction, survive reopening, and prune", () => {
  withEnv((openEnv) => {
    let env = openEnv();
    let store = openStore(env, 2);
    const roots: Uint8Array[] = [];
    let parent = EMPTY_TRIE_ROOT;
    for (let n = 0; n < 6; n++) {
      const batch = store.batch(parent);
      batch.set(enc("counter"), enc(`n=${n}`));
      batch.set(enc(`block-${n}`), new Uint8Array(50).fill(n)); // hashed value nodes
      parent = env.transactionSync(() => batch.commit(n)).root;
      roots.push(parent);
    }
    assert.equal(store.lastCommittedBlock(), 5);
    assert.equal(Buffer.from(store.get(roots[5], enc("counter")) as Uint8Array).toString(), "n=5");
    assert.ok(store.hasRoot(roots[3]));
    assert.equal(store.hasRoot(roots[2]), false);

    // An aborted transaction leaves nothing behind: the root is not stored, the block not recorded.
    const doomed = store.batch(parent);
    doomed.set(enc("counter"), enc("never"));
    let abortedRoot: Uint8Array | null = null;
    assert.throws(() =>
      env.transactionSync(() => {
        abortedRoot = doomed.commit(6).root;
        throw new Error("block import failed after the trie commit");
      }),
    );
    assert.ok(abortedRoot !== null);
    assert.equal(store.hasRoot(abortedRoot), false);
    assert.equal(store.lastCommittedBlock(), 5);
    assert.ok(store.hasRoot(roots[3]), "pruning of the aborted block rolled back too");
    // The aborted state's nodes may linger in the node cache, but nothing can be built on it.
    const onAborted = store.batch(abortedRoot);
    onAborted.set(enc("counter"), enc("on top of nothing"));
    assert.throws(
      () => env.transactionSync(() => onAborted.commit(6)),
      (e: unknown) => e instanceof TrieError && e.code === "MISSING_NODE",
    );

    // Reopen: state and pruning journals are durable.
    env.close();
    env = openEnv();
    store = openStore(env, 2);
    assert.equal(store.lastCommittedBlock(), 5);
    assert.deepEqual(store.get(roots[4], enc("block-4")), new Uint8Array(50).fill(4));
    const proof = store.prove(roots[5], [enc("block-5"), enc("missing")]);
    assert.deepEqual(verifyProof(roots[5], proof, enc("block-5")), new Uint8Array(50).fill(5));
    assert.equal(verifyProof(roots[5], proof, enc("missing")), null);
    const batch = store.batch(roots[5]);
    batch.set(enc("counter"), enc("n=6"));
    env.transactionSync(() => batch.commit(6));
    assert.equal(store.hasRoot(roots[3]), false);
    assert.ok(store.hasRoot(roots[4]));
    assert.throws(() => store.get(roots[3], enc("counter")), (e: unknown) => e instanceof TrieError && e.code === "MISSING_NODE");
  });
});

test("LMDB: property: random blocks match the from-scratch root and a Map model", () => {
  const key = fc.array(fc.constantFrom(0x00, 0x0f, 0x10, 0xf0), { minLength: 1, maxLength: 3 }).map((a) => Buffer.from(a));
  const value = fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ minLength: 33, maxLength: 40 }));
  const block = fc.array(fc.tuple(key, fc.option(value, { nil: null })), { maxLength: 10 });
  fc.assert(
    fc.property(fc.array(block, { minLength: 1, maxLength: 12 }), (blocks) => {
      withEnv((openEnv) => {
        const env = openEnv();
        const store = openStore(env, 1);
        const model = new Map<string, [Uint8Array, Uint8Array]>();
        let parent = EMPTY_TRIE_ROOT;
        blocks.forEach((writes, n) => {
          const batch = store.batch(parent);
          for (const [k, v] of writes) {
            if (v === null) {
              batch.delete(k);
              model.delete(k.toString("hex"));
            } else {
              batch.set(k, v);
              model.set(k.toString("hex"), [k, v]);
            }
          }
          parent = env.transactionSync(() => batch.commit(n)).root;
          assert.deepEqual(parent, trieRoot(model.values()));
          for (const [k, v] of model.values()) assert.deepEqual(store.get(parent, k), v);
        });
      });
    }),
    { seed: 4242, numRuns: 25 },
  );
});
