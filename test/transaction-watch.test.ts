import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { devAccount, fromHex, toHex } from "@phala-ts/primitives";
import { createPhalaRuntime, signExtrinsic } from "@phala-ts/runtime";
import { useNodeWithWs } from "./helpers/ws-rpc.ts";

const env = useNodeWithWs({ before, after });
const rt = createPhalaRuntime();

async function transfer(nonceOffset = 0, mutate?: (b: Uint8Array) => void): Promise<string> {
  const signer = devAccount("Charlie", "ed25519");
  const version = await env.rpc.call("state_getRuntimeVersion");
  const nonce = await env.rpc.call("system_accountNextIndex", [toHex(signer.accountId)]);
  const call = rt.call.codec.enc({ tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: devAccount("Dave").accountId }, value: 10n ** 12n } } });
  const tx = signExtrinsic({
    signer,
    callBytes: call,
    nonce: nonce + nonceOffset,
    specVersion: version.specVersion,
    transactionVersion: version.transactionVersion,
    genesisHash: fromHex(await env.rpc.call("chain_getBlockHash", [0])),
  });
  mutate?.(tx);
  return toHex(tx);
}

test("transactionWatch_v1_submitAndWatch reports validated, included and finalized with the block and index", async () => {
  const sub = await env.rpc.call("transactionWatch_v1_submitAndWatch", [await transfer()]);
  await env.rpc.waitFor(sub, (e) => e.event === "validated");
  const included = await env.rpc.waitFor(sub, (e) => e.event === "bestChainBlockIncluded");
  const fin = await env.rpc.waitFor(sub, (e) => e.event === "finalized");
  assert.deepEqual(fin.block, included.block);
  const block = await env.rpc.call("chain_getBlock", [fin.block.hash]);
  assert.ok(fin.block.index >= 1, "index 0 is the timestamp inherent");
  assert.ok(block.block.extrinsics[fin.block.index]);
});

test("an invalid transaction is reported as invalid on the watch subscription", async () => {
  const sub = await env.rpc.call("transactionWatch_v1_submitAndWatch", [await transfer(0, (b) => (b[b.length - 1] ^= 0xff))]);
  const ev = await env.rpc.waitFor(sub, (e) => e.event === "invalid");
  assert.match(ev.error, /bad signature/);
});

test("transaction_v1_broadcast returns an operation id that transaction_v1_stop ends once", async () => {
  const id = await env.rpc.call("transaction_v1_broadcast", [await transfer()]);
  assert.equal(typeof id, "string");
  assert.equal(await env.rpc.call("transaction_v1_stop", [id]), null);
  await assert.rejects(env.rpc.call("transaction_v1_stop", [id]), /Invalid operation id/);
});

test("author_submitAndWatchExtrinsic goes ready, inBlock, finalized", async () => {
  const sub = await env.rpc.call("author_submitAndWatchExtrinsic", [await transfer()]);
  await env.rpc.waitFor(sub, (e) => e === "ready");
  const inBlock = await env.rpc.waitFor(sub, (e) => typeof e === "object" && e.inBlock);
  const fin = await env.rpc.waitFor(sub, (e) => typeof e === "object" && e.finalized);
  assert.equal(fin.finalized, inBlock.inBlock);
});
