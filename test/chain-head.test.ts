import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "@phala-ts/primitives";
import { SystemStorage } from "@phala-ts/runtime";
import { useNodeWithWs } from "./helpers/ws-rpc.ts";

const env = useNodeWithWs({ before, after });

test("chainHead_v1_follow reports the finalized head with its runtime, then new finalized blocks", async () => {
  const sub = await env.rpc.call("chainHead_v1_follow", [true]);
  const init = await env.rpc.waitFor(sub, (e) => e.event === "initialized");
  assert.equal(init.finalizedBlockRuntime.type, "valid");
  assert.equal(init.finalizedBlockRuntime.spec.specName, "phala");
  const head = init.finalizedBlockHashes[0];
  const nb = await env.rpc.waitFor(sub, (e) => e.event === "newBlock");
  assert.equal(nb.parentBlockHash, head);
  await env.rpc.waitFor(sub, (e) => e.event === "finalized" && e.finalizedBlockHashes.includes(nb.blockHash));

  const header = await env.rpc.call("chainHead_v1_header", [sub, head]);
  assert.match(header, /^0x[0-9a-f]+$/);

  const call = await env.rpc.call("chainHead_v1_call", [sub, head, "Core_version", ""]);
  assert.equal(call.result, "started");
  const done = await env.rpc.waitFor(sub, (e) => e.event === "operationCallDone" && e.operationId === call.operationId);
  assert.ok(done.output.includes(toHex(utf8("phala")).slice(2)));

  const body = await env.rpc.call("chainHead_v1_body", [sub, nb.blockHash]);
  const bodyDone = await env.rpc.waitFor(sub, (e) => e.event === "operationBodyDone" && e.operationId === body.operationId);
  assert.equal(bodyDone.value.length, 1, "a block with no transactions still carries the timestamp inherent");

  const prefix = toHex(SystemStorage.Account.prefix);
  const st = await env.rpc.call("chainHead_v1_storage", [
    sub,
    nb.blockHash,
    [
      { key: prefix, type: "descendantsValues" },
      { key: toHex(SystemStorage.Number.key()), type: "value" },
      { key: "0x", type: "closestDescendantMerkleValue" },
    ],
    null,
  ]);
  assert.equal(st.result, "started");
  await env.rpc.waitFor(sub, (e) => e.event === "operationStorageDone" && e.operationId === st.operationId);
  const items = (await env.rpc.waitFor(sub, (e) => e.event === "operationStorageItems" && e.operationId === st.operationId)).items;
  assert.ok(items.filter((i: any) => i.key.startsWith(prefix)).length >= 12, "every endowed account is listed");
  const numberKey = toHex(SystemStorage.Number.key());
  assert.ok(items.some((i: any) => i.key === numberKey), "System.Number is set after block 1");
  const nbHeader = await env.rpc.call("chain_getHeader", [nb.blockHash]);
  assert.deepEqual(
    items.find((i: any) => i.closestDescendantMerkleValue),
    { key: "0x", closestDescendantMerkleValue: nbHeader.stateRoot },
    "the closest descendant of the empty key is the root",
  );
  assert.equal(await env.rpc.call("chainHead_v1_unpin", [sub, head]), null);
  await assert.rejects(env.rpc.call("chainHead_v1_unpin", [sub, head]), /not pinned/);
  await assert.rejects(env.rpc.call("chainHead_v1_header", [sub, head]), /not pinned/);
  assert.equal(await env.rpc.call("chainHead_v1_unfollow", [sub]), null);
  assert.equal(await env.rpc.call("chainHead_v1_header", [sub, nb.blockHash]), null, "a dead follow subscription gives null");
});

test("bad chainHead parameters are refused with invalid-params errors", async () => {
  const sub = await env.rpc.call("chainHead_v1_follow", [false]);
  await env.rpc.waitFor(sub, (e) => e.event === "initialized");
  await assert.rejects(env.rpc.call("chainHead_v1_storage", [sub, "0x00", []]), (e: any) => e.code === -32602);
  await assert.rejects(env.rpc.call("chainHead_v1_call", [sub, "nothex", "Core_version", "0x"]), (e: any) => e.code === -32602);
  await assert.rejects(env.rpc.call("chainHead_v1_follow", ["yes"]), (e: any) => e.code === -32602);
  await env.rpc.call("chainHead_v1_unfollow", [sub]);
});
