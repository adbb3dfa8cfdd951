import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { validateProofs } from "@polkadot-api/substrate-bindings";
import { devAccount, fromHex, toHex } from "@phala-ts/primitives";
import { SystemStorage } from "@phala-ts/runtime";
import { verifyProof } from "@phala-ts/trie";
import { spawnNode, rpcCall, type SpawnedNode } from "./helpers/spawn-node.ts";
import { waitFor } from "./helpers/wait.ts";

let node: SpawnedNode;
const call = async (method: string, params: unknown[] = []) => {
  const r = await rpcCall(node.httpUrl, method, params);
  if (r.error) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.result;
};

before(async () => {
  node = await spawnNode();
});
after(async () => {
  await node?.cleanup();
});

test("state_getReadProof proofs verify with polkadot-api's validateProofs against the block's state root", async () => {
  const at = await call("chain_getFinalizedHead");
  const header = await call("chain_getHeader", [at]);
  const present = toHex(SystemStorage.Account.key(devAccount("Alice").accountId));
  const absent = toHex(SystemStorage.Account.key(new Uint8Array(32).fill(7)));
  const { at: provedAt, proof } = await call("state_getReadProof", [[present, absent], at]);
  assert.equal(provedAt, at);
  const oracle = validateProofs(proof);
  assert.ok(oracle, "validateProofs accepts the proof");
  assert.equal(oracle.rootHash, header.stateRoot);
  const value = await call("state_getStorage", [present, at]);
  assert.equal(toHex(verifyProof(fromHex(header.stateRoot), proof.map(fromHex), fromHex(present))!), value);
  assert.equal(verifyProof(fromHex(header.stateRoot), proof.map(fromHex), fromHex(absent)), null);
});

test("state_getKeysPaged pages through System.Account in key order", async () => {
  const prefix = toHex(SystemStorage.Account.prefix);
  const all: string[] = await call("state_getKeysPaged", [prefix, 1000]);
  assert.ok(all.length >= 12, "dev chain endows twelve accounts");
  const first: string[] = await call("state_getKeysPaged", [prefix, 5]);
  const next: string[] = await call("state_getKeysPaged", [prefix, 5, first[4]]);
  assert.deepEqual([...first, ...next], all.slice(0, 10));
  assert.deepEqual([...all].sort(), all);
  const tooMany = await rpcCall(node.httpUrl, "state_getKeysPaged", [prefix, 1001]);
  assert.match(tooMany.error.message, /count exceeds maximum/);
});

test("state_queryStorageAt and rpc_methods answer as Substrate does", async () => {
  const key = toHex(SystemStorage.Number.key());
  const at = await call("chain_getFinalizedHead");
  const [{ block, changes }] = await call("state_queryStorageAt", [[key], at]);
  assert.equal(block, at);
  assert.equal(changes[0][0], key);
  const { methods } = await call("rpc_methods");
  for (const m of ["chainHead_v1_follow", "transactionWatch_v1_submitAndWatch", "state_getReadProof", "author_submitAndWatchExtrinsic", "chainSpec_v1_genesisHash"]) {
    assert.ok(methods.includes(m), m);
  }
  assert.deepEqual(await call("system_properties"), { ss58Format: 30, tokenDecimals: 12, tokenSymbol: "PHA" });
  assert.equal(await call("chainSpec_v1_genesisHash"), await call("chain_getBlockHash", [0]));
  // Block 1 comes within the node's 500 ms interval; this file can get here sooner.
  await waitFor("block 1", async () => (await call("chain_getBlockHash", [1])) ?? undefined, 5_000);
  const [g, one, none] = await call("chain_getBlockHash", [[0, "0x1", 10_000_000]]);
  assert.equal(g, await call("chain_getBlockHash", [0]));
  assert.equal(one, await call("chain_getBlockHash", [1]));
  assert.equal(none, null);
});
