/**
 * pRuntime accepts chain data only when it is proven (ARCHITECTURE §2, §5). A real node
 * serves a real batch; each forgery of it is refused over pRuntime's HTTP API with a
 * specific code and no change to pRuntime's state, and the genuine batch is then accepted.
 * Egress the chain must refuse is refused by the node's pool.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devAccount, fromHex, keyPairFromUri, toHex, utf8 } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import { CommitCertificate, Header, signPrecommit } from "@phala-ts/runtime/consensus";
import { MessageList, SyncBatch, egressSigningPayload, type SyncBatchValue } from "@phala-ts/runtime/phala";
import { createPhalaRuntime, encodeUnsignedExtrinsic } from "@phala-ts/runtime";
import { spawnNode, spawnPruntime, type SpawnedNode, type SpawnedProcess } from "./helpers/spawn-node.ts";
import { waitFor } from "./helpers/wait.ts";
import { pruntimeInfo, TestChain, type PruntimeInfo } from "./helpers/pruntime.ts";
import { NodeRpcError } from "../packages/cli/src/chain-http.ts";

let node: SpawnedNode | undefined;
let pr: SpawnedProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), "phala-forgery-"));
after(async () => {
  await pr?.kill();
  await node?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const runtime = createPhalaRuntime();
const clone = (b: SyncBatchValue): SyncBatchValue => decodeExact(SyncBatch, SyncBatch.codec.enc(b));

async function postSync(port: number, batch: SyncBatchValue): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${port}/sync`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: SyncBatch.codec.enc(batch) });
  return { status: r.status, body: await r.json() };
}

test("forged batches are refused with pRuntime's state unchanged; the genuine batch is accepted", async () => {
  node = await spawnNode({ args: ["--dev", "--tmp", "--rpc-port", "0", "--block-interval-ms", "200"] });
  const chain = new TestChain(node.httpUrl);
  // A block with a message in its ingress queue, so message lists can be forged.
  const alice = devAccount("Alice", "sr25519");
  await chain.signAndSubmit(alice, { tag: "PhalaMq", value: { tag: "push_message", value: { destination: utf8("test/topic"), payload: utf8("hello") } } });
  const batch = await waitFor("a batch with a message and a few blocks after it", async () => {
    const hex = await chain.call<string>("phala_getSyncBatch", [1, 64]);
    const b = decodeExact(SyncBatch, fromHex(hex));
    // The node splices stored ingress records into the batch; the bytes are still canonical.
    assert.equal(toHex(SyncBatch.codec.enc(b)), hex);
    const k = b.blocks.findIndex((x) => decodeExact(MessageList, x.messages).length > 0);
    return k >= 0 && b.blocks.length >= k + 3 ? b : undefined;
  }, 30_000);
  const withMsg = batch.blocks.findIndex((x) => decodeExact(MessageList, x.messages).length > 0);

  pr = await spawnPruntime(dir);
  const genesisHeader = await chain.call<string>("phala_getGenesisHeader");
  const init = await fetch(`http://127.0.0.1:${pr.port}/init`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ genesisHeader }) });
  assert.equal(init.status, 200);
  const before = (await pruntimeInfo(pr.port))!;
  assert.equal(before.syncedHeight, 0);

  const genesisHash = fromHex(before.genesisHash as string);
  const forgeries: Array<[string, string, (b: SyncBatchValue) => void]> = [
    ["a header with a bad parent link", "BAD_LINK", (b) => {
      const h = decodeExact(Header, b.blocks[0].header);
      b.blocks[0].header = Header.codec.enc({ ...h, parent_hash: new Uint8Array(32).fill(1) });
    }],
    ["a certificate signed by a non-validator", "BAD_CERTIFICATE", (b) => {
      const c = decodeExact(CommitCertificate, b.certificate);
      const mallory = keyPairFromUri("//Mallory", "ed25519");
      c.precommits = [{ validator: 0, signature: signPrecommit(mallory, genesisHash, c.height, c.round, c.block_hash) }];
      b.certificate = CommitCertificate.codec.enc(c);
    }],
    ["a certificate below the 2/3 threshold", "BAD_CERTIFICATE", (b) => {
      const c = decodeExact(CommitCertificate, b.certificate);
      c.precommits = [];
      b.certificate = CommitCertificate.codec.enc(c);
    }],
    ["a proof for the wrong root", "BAD_PROOF", (b) => {
      b.blocks[withMsg].proof = b.blocks[withMsg + 1].proof;
    }],
    ["a message list with an extra message", "MESSAGES_MISMATCH", (b) => {
      const list = decodeExact(MessageList, b.blocks[withMsg].messages);
      list.push({ sender: { tag: "Gatekeeper" }, destination: utf8("phala/gatekeeper/master-pubkey"), payload: new Uint8Array(32) });
      b.blocks[withMsg].messages = MessageList.codec.enc(list);
    }],
    ["a message list with a missing message", "MESSAGES_MISMATCH", (b) => {
      b.blocks[withMsg].messages = MessageList.codec.enc([]);
    }],
    ["an empty block claiming a message", "MESSAGES_MISMATCH", (b) => {
      b.blocks[withMsg + 1].messages = b.blocks[withMsg].messages;
    }],
  ];
  for (const [what, code, forge] of forgeries) {
    const forged = clone(batch);
    forge(forged);
    const r = await postSync(pr.port, forged);
    assert.equal(r.status, 400, `${what}: refused`);
    assert.equal(r.body.error.code, code, `${what}: ${r.body.error.message}`);
    const now: PruntimeInfo = (await pruntimeInfo(pr.port))!;
    assert.equal(now.syncedHeight, 0, `${what}: state unchanged`);
    assert.equal(now.syncedHash, before.syncedHash);
  }

  const ok = await postSync(pr.port, batch);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.syncedHeight, batch.blocks.length);
  // Once applied, the same batch again is not the next one.
  assert.equal((await postSync(pr.port, batch)).body.error.code, "NOT_NEXT");
});

test("egress with a wrong signature or a reused sequence never reaches a block", async () => {
  assert.ok(node, "runs after the first test's node");
  const chain = new TestChain(node.httpUrl);
  const genesis = fromHex(await chain.call<string>("chain_getBlockHash", [0]));
  // A registered worker of our own, so the chain knows its key.
  const w = keyPairFromUri("//EgressWorker", "ed25519");
  const { DevProvider, encodeEvidence } = await import("@phala-ts/attestation");
  const { registrationReportData } = await import("@phala-ts/runtime/phala");
  const info = { version: 1, genesis_hash: genesis, pubkey: w.publicKey, ecdh_pubkey: new Uint8Array(32).fill(9), runtime_version: 1, operator: undefined };
  const evidence = await new DevProvider({ signingKey: w, measurement: new Uint8Array(32) }).getEvidence(registrationReportData(info));
  await chain.signAndSubmit(devAccount("Eve", "sr25519"), { tag: "PhalaRegistry", value: { tag: "register_worker", value: { info, evidence: encodeEvidence(evidence) } } });
  await waitFor("the worker on chain", () => chain.worker(toHex(w.publicKey)), 30_000);

  const message = { sender: { tag: "Worker" as const, value: w.publicKey }, destination: utf8("test/egress"), payload: utf8("x") };
  const submit = (key: typeof w, sequence: bigint) => {
    const signed_message = { message, sequence, signature: key.sign(egressSigningPayload(genesis, message, sequence)) };
    const call = runtime.call.codec.enc({ tag: "PhalaMq", value: { tag: "sync_offchain_message", value: { signed_message } } });
    return chain.call<string>("author_submitExtrinsic", [toHex(encodeUnsignedExtrinsic(call))]);
  };
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as NodeRpcError;
    }
    assert.fail("expected the node to refuse it");
  };
  const bad = await refusal(submit(keyPairFromUri("//Mallory", "ed25519"), 0n));
  assert.equal(bad.rpcCode, 1010);
  assert.match(bad.message, /bad signature/i);

  await submit(w, 0n);
  await waitFor("sequence 0 accepted", async () => {
    const { PhalaMqStorage } = await import("@phala-ts/runtime/phala");
    const v = await chain.storage(PhalaMqStorage.OffchainIngress.key({ tag: "Worker", value: w.publicKey }));
    return v && PhalaMqStorage.OffchainIngress.type.codec.dec(v) === 1n ? true : undefined;
  }, 30_000);
  const reused = await refusal(submit(w, 0n));
  assert.ok([1010, 1013].includes(reused.rpcCode), reused.message);
  assert.match(reused.message, /outdated|already imported/i);
});
