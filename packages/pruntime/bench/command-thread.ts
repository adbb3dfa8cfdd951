/**
 * What running commands on the VM's own thread costs, in process: the example token deployed
 * on a worker whose runner is either the in-thread VM or the threaded one (commands on a
 * worker thread, storage read back from the main thread per read), then blocks of sealed
 * transfers of which only the worker's `sync` is timed (commands per second), and balance
 * queries of which only the answer is timed (queries per second; both runners answer queries
 * on the calling thread). Round 0 warms up; the best later round counts.
 *   node --import tsx packages/pruntime/bench/command-thread.ts [blocks] [commandsPerBlock] [queries]
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blake2b256, devAccount, toHex, utf8 } from "@phala-ts/primitives";
import { clusterIdOf, contractIdOf } from "@phala-ts/runtime/phala";
import { buildContract } from "@phala-ts/contract/build";
import type { ContractRunner } from "../src/contract-runner.ts";
import { PruntimeCore } from "../src/pruntime.ts";
import { createThreadedVmRunner } from "../src/threaded-runner.ts";
import { createVmRunner } from "../src/vm-runner.ts";
import { silentLogger } from "../src/logger.ts";
import { ChainSim } from "../test/chain-sim.ts";
import { clusterEvent, command, initArgs, openQueryResponse, openResult, query, type SentCommand } from "../test/contract-client.ts";
import { MemorySealer, seededRandom } from "../test/memory-sealer.ts";

const EXAMPLES = fileURLToPath(new URL("../../contract/examples/", import.meta.url));
const GAS = 5_000_000n;
const ROUNDS = 3;

export interface CommandThreadBenchResult {
  runner: "in-thread" | "threaded";
  commandsPerSecond: number;
  queriesPerSecond: number;
}

async function syncAll(core: PruntimeCore, sim: ChainSim): Promise<void> {
  while (core.status().syncedHeight < sim.chain.height) await core.sync(sim.chain.batch(core.status().syncedHeight + 1, sim.chain.height));
}

export async function benchCommandThread(kind: "in-thread" | "threaded", blocks = 10, perBlock = 100, queries = 1000): Promise<CommandThreadBenchResult> {
  const gkRunner = await createVmRunner();
  const runner: ContractRunner = kind === "threaded" ? await createThreadedVmRunner() : gkRunner;
  const open = (i: number, r: ContractRunner) =>
    PruntimeCore.open({ checkpointIntervalBlocks: 1000, beaconIntervalBlocks: 1000, logger: silentLogger }, { sealer: new MemorySealer(), random: seededRandom(i), runner: r, clock: () => 0 });
  const sim = new ChainSim();
  const gk = sim.add(open(1, gkRunner));
  const worker = sim.add(open(2, runner));
  const step = async (opts: Parameters<ChainSim["block"]>[1] & { events?: Parameters<ChainSim["block"]>[0] } = {}) => {
    sim.block(opts.events ?? [], { ...opts, syncNodes: [gk] });
    await syncAll(worker, sim);
  };
  await step({ events: [gk, worker].map((n) => ({ tag: "WorkerRegistered" as const, value: { pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey, confidence_level: 128 } })) });
  await step({ events: [{ tag: "GatekeeperRegistered", value: { pubkey: gk.keys.identityPublicKey, ecdh_pubkey: gk.keys.ecdhPublicKey } }] });
  await step();
  const cluster = clusterIdOf(0n);
  await step({ raw: [clusterEvent({ tag: "ClusterCreated", value: { cluster, workers: [worker.keys.identityPublicKey], gas_price: 1n, deposit_per_byte: 0n, deposit_per_item: 0n } })] });
  await step();
  const clusterEcdh = sim.clusterKeys.get(toHex(cluster))!.ecdh_pubkey;
  const sender = devAccount("Alice", "ed25519");
  const to = toHex(devAccount("Bob", "ed25519").accountId);
  const { code } = await buildContract(join(EXAMPLES, "token.ts"));
  const codeHash = blake2b256(code);
  const contract = contractIdOf(sender.accountId, codeHash, cluster, utf8("bench"));
  const init = initArgs(clusterEcdh, contract, { owner: toHex(sender.accountId), supply: "1000000000000" }, 50_000_000n, blake2b256(utf8("bench init")));
  await step({
    raw: [
      clusterEvent({ tag: "CodeUploaded", value: { cluster, code_hash: codeHash, uploader: sender.accountId, code } }),
      clusterEvent({ tag: "Deposit", value: { cluster, account: sender.accountId, amount: 1n << 100n } }),
      clusterEvent({ tag: "ContractInstantiated", value: { cluster, contract, code_hash: codeHash, deployer: sender.accountId, init_args: init } }),
    ],
  });
  await step();
  const contractEcdh = sim.contractKeys.get(toHex(contract))!.ecdh_pubkey;

  let best = 0;
  let n = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const from = sim.chain.height + 1;
    let last: SentCommand | undefined;
    for (let b = 0; b < blocks; b++) {
      const cmds = Array.from({ length: perBlock }, () => command(sender.accountId, contractEcdh, contract, { op: "transfer", to, amount: "1" }, GAS, `bench ${n++}`));
      last = cmds[cmds.length - 1];
      sim.block([], { raw: cmds.map((c) => c.message), syncNodes: [] });
    }
    const before = worker.contractInfo(contract)?.commands ?? 0n;
    const t0 = performance.now();
    let height = from - 1;
    // The sync budget may cut a batch: pHost resends from the height reached, so does this.
    while (height < sim.chain.height) height = (await worker.sync(sim.chain.batch(height + 1, sim.chain.height))).height;
    const seconds = (performance.now() - t0) / 1000;
    const executed = Number((worker.contractInfo(contract)?.commands ?? 0n) - before);
    if (executed !== blocks * perBlock) throw new Error(`the worker executed ${executed} of ${blocks * perBlock} commands`);
    const result = worker.commandResult(contract, last!.commandId);
    const outcome = result && openResult(result, last!.key, contractEcdh).outcome;
    if (!outcome?.ok) throw new Error(`a benchmark transfer failed: ${outcome?.error?.kind} ${outcome?.error?.message}`);
    if (round > 0) best = Math.max(best, executed / seconds);
  }
  const commandsPerSecond = Math.round(best);

  const asker = devAccount("Alice", "ed25519");
  let q = 0;
  best = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const requests = Array.from({ length: queries }, () =>
      query(asker, worker.keys.ecdhPublicKey, contract, { op: "balance" }, "bench", { expiresAtMs: 1n << 40n, nonce: blake2b256(utf8(`nonce ${q++}`)).slice(0, 16) }),
    );
    const t0 = performance.now();
    const answers = requests.map((r) => worker.query(r.request));
    const seconds = (performance.now() - t0) / 1000;
    const answer = openQueryResponse(answers[answers.length - 1], requests[requests.length - 1], worker.keys.identityPublicKey);
    if (!answer.outcome.ok) throw new Error(`a benchmark query failed: ${answer.outcome.error?.kind} ${answer.outcome.error?.message}`);
    if (round > 0) best = Math.max(best, queries / seconds);
  }
  if (kind === "threaded") await (runner as Awaited<ReturnType<typeof createThreadedVmRunner>>).close();
  return { runner: kind, commandsPerSecond, queriesPerSecond: Math.round(best) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [blocks, perBlock, queries] = process.argv.slice(2).map(Number);
  for (const kind of ["in-thread", "threaded"] as const) {
    console.log(JSON.stringify(await benchCommandThread(kind, blocks || undefined, perBlock || undefined, queries || undefined)));
  }
}
