/**
 * The chain's CommandGasMax seen from the SDK and the CLI: a gas limit above it is refused
 * before anything is submitted (no deposit locked, no fee), with an error that names the cap;
 * a worker's refusal of one (an older SDK, a runtime upgrade) says what happened.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { keyPairFromUri, utf8 } from "@phala-ts/primitives";
import { COMMAND_GAS_MAX } from "@phala-ts/runtime/phala";
import { PhalaClient, PhalaSdkError } from "@phala-ts/sdk";
import { FakeCluster } from "./fake-cluster.ts";
import { failure } from "./fake-worker-crypto.ts";

const PHALA = resolve(import.meta.dirname, "../../cli/bin/phala.mjs");
/** A CLI run that takes longer than this is stuck. */
const RUN_TIMEOUT_MS = 60_000;
const alice = keyPairFromUri("//Alice");
const FAST = { pollIntervalMs: 20, contractKeyTimeoutMs: 1500, resultTimeoutMs: 1500, workerTimeoutMs: 2000, finalizationTimeoutMs: 5000 };

let fake: FakeCluster;
let client: PhalaClient;

before(async () => {
  fake = await FakeCluster.start();
  client = await PhalaClient.connect(fake.node.url, { ...FAST, trust: { genesisHash: fake.node.genesisHash } });
});

after(async () => {
  client?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

function refusedWith(code: string, where: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof PhalaSdkError, `expected a PhalaSdkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.where, where, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

async function deploy(salt: string): Promise<string> {
  const codeHash = await client.uploadCode(alice, fake.clusterId, utf8("globalThis.__contract={default:{}}"));
  return client.instantiate(alice, { codeHash, cluster: fake.clusterId, salt, initArgs: {}, gasLimit: 1_000_000 });
}

test("send and instantiate refuse a gas limit above CommandGasMax before submitting, naming the cap; at the cap they go through", async () => {
  const contract = client.contract(await deploy("gas-cap-1"));
  const before = fake.node.submitted.length;
  const cap = new RegExp(`above the chain's CommandGasMax of ${COMMAND_GAS_MAX}`);
  await assert.rejects(contract.send(alice, {}, { gasLimit: COMMAND_GAS_MAX + 1n, deposit: 10n ** 12n }), refusedWith("INVALID_ARGUMENT", "sdk", cap));
  await assert.rejects(client.instantiate(alice, { codeHash: new Uint8Array(32), cluster: fake.clusterId, gasLimit: COMMAND_GAS_MAX + 1n }), refusedWith("INVALID_ARGUMENT", "sdk", cap));
  assert.equal(fake.node.submitted.length, before, "nothing was submitted: no fee, no deposit");
  const r = await contract.send(alice, {}, { gasLimit: COMMAND_GAS_MAX });
  assert.ok(r.commandId);
  assert.equal(fake.node.submitted.at(-1)?.name, "push_contract_message");
});

test("a worker's gas-limit-too-high outcome is reported as a gas-limit error that says nothing was charged", async () => {
  const contract = client.contract(await deploy("gas-cap-2"));
  fake.execute = () => failure("gas-limit-too-high", `the command asks for ${COMMAND_GAS_MAX + 1n} gas; the chain's CommandGasMax is ${COMMAND_GAS_MAX}`);
  await assert.rejects(contract.send(alice, {}, { gasLimit: 10 }), refusedWith("INVALID_ARGUMENT", "gas", /above the chain's CommandGasMax.*nothing was charged/));
});

test("phala contract call --gas above CommandGasMax exits 2 naming the cap and submits nothing", async () => {
  const id = await deploy("gas-cap-3");
  const before = fake.node.submitted.length;
  const r = await new Promise<{ code: number; stderr: string }>((res) => {
    execFile(process.execPath, [PHALA, "contract", "call", id, "{}", "--gas", String(COMMAND_GAS_MAX + 1n), "--node", fake.node.url], { timeout: RUN_TIMEOUT_MS }, (err, _stdout, stderr) => {
      res({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr });
    });
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`--gas ${COMMAND_GAS_MAX + 1n} is above the chain's CommandGasMax of ${COMMAND_GAS_MAX}`));
  assert.equal(fake.node.submitted.length, before);
});
