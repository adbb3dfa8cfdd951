/**
 * The chain's CommandGasMax, enforced by pRuntime too: the chain refuses a larger clear gas
 * limit, the sealed one must equal it, and every member refuses a larger sealed one the same
 * way, whatever the chain let through. In
 * process, on a simulated chain (ChainSim: real proofs and certificates), one gatekeeper and a
 * cluster of two members. Seeded: every key and nonce derives from SEED, so a failure replays.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { COMMAND_GAS_MAX, clusterIdOf, contractIdOf, type CallOutcomeValue } from "@phala-ts/runtime/phala";
import { INIT_GAS_MAX } from "../src/limits.ts";
import { PruntimeCore } from "../src/pruntime.ts";
import { ChainSim } from "./chain-sim.ts";
import { clusterEvent, command, commandMessage, initArgs, openResult, type SentCommand } from "./contract-client.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { recordingLogger, type LogEntry } from "./test-logger.ts";
import { testRunner } from "./test-runner.ts";

const SEED = 0x6a5;
const GAS_PRICE = 2n;
const alice = devAccount("Alice");
const runner = await testRunner();

/**
 * packages/contract/examples/adversarial/infinite-loop.ts, op "loop", as a bundle: it writes a
 * key, then spins forever (pRuntime does not depend on the contract kit that builds the example).
 */
const INFINITE_LOOP = utf8(`var __contract = { default: {
  handle(cmd) {
    if (cmd.op === "loop") { __phala_host.storageSet("touched", "true"); let i = 0; for (;;) i = (i + 1) | 0; }
    return "pong";
  },
} };`);

function open(i: number, log: LogEntry[]): PruntimeCore {
  return PruntimeCore.open(
    { checkpointIntervalBlocks: 50, beaconIntervalBlocks: 1000, logger: recordingLogger(log) },
    { sealer: new MemorySealer(), random: seededRandom(SEED + i), runner, clock: () => 0 },
  );
}

/** A gatekeeper, a cluster of two members, the infinite-loop contract deployed and Alice's deposit. */
function loopContract() {
  const sim = new ChainSim();
  const logs: LogEntry[][] = [[], [], []];
  const [gk, w1, w2] = [0, 1, 2].map((i) => sim.add(open(i, logs[i])));
  sim.block(sim.nodes.map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
  sim.block();
  const cluster = clusterIdOf(0n);
  const workers = [w1.keys.identityPublicKey, w2.keys.identityPublicKey];
  sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers, gas_price: GAS_PRICE, deposit_per_byte: 1n, deposit_per_item: 1n } })] });
  sim.block();
  const clusterKeys = sim.clusterKeys.get(toHex(cluster));
  assert.ok(clusterKeys, "the chain holds the cluster key");
  const codeHash = blake2b256(INFINITE_LOOP);
  sim.block([], {
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: alice.accountId, code: INFINITE_LOOP } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: alice.accountId, amount: 10n ** 12n } }),
    ],
  });
  const contract = contractIdOf(alice.accountId, codeHash, cluster, utf8("loop"));
  const init = initArgs(clusterKeys.ecdh_pubkey, contract, {}, 1_000_000n, blake2b256(utf8("init loop")));
  sim.block([], { raw: [clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: alice.accountId, init_args: init } })] });
  sim.block();
  const contractKeys = sim.contractKeys.get(toHex(contract));
  assert.ok(contractKeys, "the chain holds the contract key");
  const members = [w1, w2];
  const balance = (n: PruntimeCore) => n.clusterBalance(cluster, alice.accountId);
  const stateHash = (n: PruntimeCore) => n.contractInfo(contract)?.stateHash;
  /** `chainGasLimit` is the clear limit the chain checked; the same as the sealed one unless a test says otherwise. */
  const send = (input: unknown, gasLimit: bigint, label: string, chainGasLimit = gasLimit): SentCommand => {
    const sealed = command(alice.accountId, contractKeys.ecdh_pubkey, contract, input, gasLimit, label);
    const c = { ...sealed, message: commandMessage(alice.accountId, contract, sealed.payload, chainGasLimit) };
    sim.block([], { raw: [c.message] });
    return c;
  };
  const resultOf = (n: PruntimeCore, c: SentCommand): CallOutcomeValue => {
    const bytes = n.commandResult(contract, c.commandId);
    assert.ok(bytes, "the member keeps the command's result");
    return openResult(bytes, c.key, contractKeys.ecdh_pubkey).outcome;
  };
  return { members, logs, balance, stateHash, send, resultOf };
}

test("a command at CommandGasMax running the infinite loop ends with kind gas on every member and the sender pays the gas used", () => {
  const t = loopContract();
  const before = t.members.map(t.balance);
  const state = t.members.map(t.stateHash);
  const c = t.send({ op: "loop" }, COMMAND_GAS_MAX, "at the cap");
  const [a, b] = t.members.map((n) => t.resultOf(n, c));
  assert.deepEqual(a, b, "both members report the same outcome");
  assert.equal(a.ok, false);
  assert.equal(a.error?.kind, "gas", a.error?.message);
  assert.equal(a.gas_used, COMMAND_GAS_MAX);
  assert.equal(a.fee, COMMAND_GAS_MAX * GAS_PRICE);
  for (const [i, n] of t.members.entries()) {
    assert.equal(t.balance(n), before[i] - a.fee, "the sender paid exactly the gas used");
    assert.deepEqual(t.stateHash(n), state[i], "the loop's write was rolled back");
  }
  // The contract still answers commands afterwards.
  const ping = t.send({ op: "ping" }, 1_000_000n, "ping");
  assert.equal(t.resultOf(t.members[1], ping).output, JSON.stringify("pong"));
});

test("a command asking for more than CommandGasMax is refused by every member before it runs, and charges nothing", () => {
  const t = loopContract();
  const before = t.members.map(t.balance);
  const state = t.members.map(t.stateHash);
  const c = t.send({ op: "loop" }, COMMAND_GAS_MAX + 1n, "over the cap");
  const [a, b] = t.members.map((n) => t.resultOf(n, c));
  assert.deepEqual(a, b, "both members report the same outcome");
  assert.equal(a.ok, false);
  assert.equal(a.error?.kind, "gas-limit-too-high");
  assert.match(a.error?.message ?? "", new RegExp(`CommandGasMax is ${COMMAND_GAS_MAX}`), "the message names the cap");
  assert.equal(a.gas_used, 0n);
  assert.equal(a.fee, 0n);
  for (const [i, n] of t.members.entries()) {
    assert.equal(t.balance(n), before[i], "nothing was charged");
    assert.deepEqual(t.stateHash(n), state[i], "nothing ran");
  }
  for (const log of t.logs) assert.deepEqual(log.filter((e) => e.level === "error"), []);
});

test("a command whose sealed gas limit differs from the one the chain checked is refused by every member, and charges nothing", () => {
  const t = loopContract();
  const before = t.members.map(t.balance);
  const state = t.members.map(t.stateHash);
  // Within the cap in clear, but the sealed limit (what would run) is above it.
  const c = t.send({ op: "loop" }, COMMAND_GAS_MAX + 1n, "sealed over the cap", COMMAND_GAS_MAX);
  const [a, b] = t.members.map((n) => t.resultOf(n, c));
  assert.deepEqual(a, b, "both members report the same outcome");
  assert.equal(a.ok, false);
  assert.equal(a.error?.kind, "invalid-input");
  assert.match(a.error?.message ?? "", /sealed gas limit .* differs/);
  assert.equal(a.fee, 0n);
  for (const [i, n] of t.members.entries()) {
    assert.equal(t.balance(n), before[i], "nothing was charged");
    assert.deepEqual(t.stateHash(n), state[i], "nothing ran");
  }
});

test("an init never gets more gas than a command may: INIT_GAS_MAX is within CommandGasMax", () => {
  assert.ok(INIT_GAS_MAX <= COMMAND_GAS_MAX, `INIT_GAS_MAX ${INIT_GAS_MAX} must not exceed CommandGasMax ${COMMAND_GAS_MAX}`);
});
