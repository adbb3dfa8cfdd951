/**
 * Encrypted commands one worker executes per second, in process and on one core: a gatekeeper
 * and one worker on a simulated chain (real light-client proofs and certificates, the real
 * QuickJS VM and envelopes), the example token deployed, then blocks of sealed transfers, of
 * which only the worker's `sync` (verify, open, run, charge, seal the result) is timed.
 * The dev-network figure runs every command on both members of the cluster and the node on
 * the same cores; this one is what a worker's core can take.
 *   node --import tsx bench/worker-commands.ts
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { clusterIdOf, contractIdOf } from "@phala-ts/runtime/phala";
import { buildContract } from "@phala-ts/contract/build";
import { PruntimeCore } from "../packages/pruntime/src/pruntime.ts";
import { createVmRunner } from "../packages/pruntime/src/vm-runner.ts";
import { silentLogger } from "../packages/pruntime/src/logger.ts";
import { ChainSim } from "../packages/pruntime/test/chain-sim.ts";
import { clusterEvent, command, initArgs, openResult, type SentCommand } from "../packages/pruntime/test/contract-client.ts";
import { MemorySealer, seededRandom } from "../packages/pruntime/test/memory-sealer.ts";

export interface WorkerCommandsResult {
  commandsPerSecond: number;
  commands: number;
  commandsPerBlock: number;
}

const EXAMPLES = fileURLToPath(new URL("../packages/contract/examples/", import.meta.url));
const GAS = 5_000_000n;

export async function benchWorkerCommands(opts: { blocks?: number; commandsPerBlock?: number; rounds?: number } = {}): Promise<WorkerCommandsResult> {
  const blocks = opts.blocks ?? 10;
  const perBlock = opts.commandsPerBlock ?? 100;
  const rounds = opts.rounds ?? 3;
  const runner = await createVmRunner();
  const open = (i: number) =>
    PruntimeCore.open({ checkpointIntervalBlocks: 1000, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(i), runner, clock: () => 0 });
  const sim = new ChainSim();
  const gk = sim.add(open(1));
  const worker = sim.add(open(2));
  sim.block([gk, worker].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })));
  sim.block([{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }]);
  sim.block(); // the master key lands

  const cluster = clusterIdOf(0n);
  sim.block([], { raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [worker.keys.identityPublicKey], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
  sim.block(); // the cluster key lands
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))?.ecdh_pubkey;
  if (!clusterEcdh) throw new Error("the cluster key was not published");

  const sender = devAccount("Alice", "ed25519");
  const to = toHex(devAccount("Bob", "ed25519").accountId);
  const { code } = await buildContract(join(EXAMPLES, "token.ts"));
  const codeHash = blake2b256(code);
  const contract = contractIdOf(sender.accountId, codeHash, cluster, utf8("bench"));
  const init = initArgs(clusterEcdh, contract, { owner: toHex(sender.accountId), supply: "1000000000000" }, 50_000_000n, blake2b256(utf8("bench init")));
  sim.block([], {
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: sender.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: sender.accountId, amount: 1n << 100n } }),
      clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: sender.accountId, init_args: init } }),
    ],
  });
  sim.block(); // the contract key lands
  const contractEcdh = sim.contractKeys.get(toHex(contract))?.ecdh_pubkey;
  if (!contractEcdh) throw new Error("the contract key was not published");

  let best = 0;
  let n = 0;
  // Round 0 warms up; the best later round counts (other processes only slow a round down).
  for (let round = 0; round <= rounds; round++) {
    const from = sim.chain.height + 1;
    let last: SentCommand | undefined;
    for (let b = 0; b < blocks; b++) {
      const cmds = Array.from({ length: perBlock }, () => command(sender.accountId, contractEcdh, contract, { op: "transfer", to, amount: "1" }, GAS, `bench ${n++}`));
      last = cmds[cmds.length - 1];
      sim.block([], { raw: cmds.map((c) => c.message), syncNodes: [] });
    }
    const batch = sim.chain.batch(from, sim.chain.height);
    const before = worker.contractInfo(contract)?.commands ?? 0n;
    const t0 = performance.now();
    worker.sync(batch);
    const seconds = (performance.now() - t0) / 1000;
    const executed = Number((worker.contractInfo(contract)?.commands ?? 0n) - before);
    if (executed !== blocks * perBlock) throw new Error(`the worker executed ${executed} of ${blocks * perBlock} commands`);
    // Transfers that failed would be cheaper than real ones: the last of the round must have succeeded.
    const result = worker.commandResult(contract, last!.commandId);
    const outcome = result && openResult(result, last!.key, contractEcdh).outcome;
    if (!outcome?.ok) throw new Error(`a benchmark transfer failed: ${outcome?.error?.kind} ${outcome?.error?.message}`);
    if (round > 0) best = Math.max(best, executed / seconds);
  }
  return { commandsPerSecond: Math.round(best), commands: blocks * perBlock, commandsPerBlock: perBlock };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchWorkerCommands().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"));
}
