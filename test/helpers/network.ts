/**
 * A whole local network as separate processes, for end-to-end tests: a dev node, a
 * gatekeeper and two workers (pRuntime + pHost each), the gatekeeper registered through
 * Sudo and a cluster of both workers with its key on chain.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, keyPairFromUri } from "@phala-ts/primitives";
import { PhalaRegistryStorage, clusterIdOf } from "@phala-ts/runtime/phala";
import { spawnNode, spawnPruntime, spawnPhost, type SpawnedNode, type SpawnedProcess } from "./spawn-node.ts";
import { waitFor } from "./wait.ts";
import { pruntimeInfo, TestChain, type PruntimeInfo } from "./pruntime.ts";

const WAIT_MS = 60_000;

export interface Member {
  name: "gatekeeper" | "worker1" | "worker2";
  dir: string;
  pruntime: SpawnedProcess;
  phost: SpawnedProcess;
  info: PruntimeInfo;
}

export interface TestNetwork {
  base: string;
  node: SpawnedNode;
  chain: TestChain;
  members: Member[];
  /** The cluster of worker1 and worker2, hex. */
  cluster: string;
  stop(): Promise<void>;
}

/** Empty blocks every 300 ms keep tests quick; the bench passes `phala dev`'s own interval. */
export async function startNetwork(opts: { gasPrice?: bigint; depositPerByte?: bigint; depositPerItem?: bigint; blockIntervalMs?: number } = {}): Promise<TestNetwork> {
  const base = mkdtempSync(join(tmpdir(), "phala-net-"));
  const nodeDir = join(base, "node");
  mkdirSync(nodeDir);
  const procs: SpawnedProcess[] = [];
  let node: SpawnedNode | undefined;
  const stop = async () => {
    for (const p of procs.reverse()) await p.kill();
    await node?.kill();
    rmSync(base, { recursive: true, force: true });
  };
  try {
    node = await spawnNode({ args: ["--dev", "--base-path", nodeDir, "--rpc-port", "0", "--block-interval-ms", String(opts.blockIntervalMs ?? 300)], basePath: nodeDir });
    const chain = new TestChain(node.httpUrl);
    const names = ["gatekeeper", "worker1", "worker2"] as const;
    const operators = ["//Charlie", "//Dave", "//Eve"];
    const members: Member[] = [];
    for (const [i, name] of names.entries()) {
      const dir = join(base, name);
      const pruntime = await spawnPruntime(dir);
      procs.push(pruntime);
      const phost = await spawnPhost(node.port, pruntime.port, operators[i]);
      procs.push(phost);
      members.push({ name, dir, pruntime, phost, info: undefined as unknown as PruntimeInfo });
    }
    for (const m of members) {
      m.info = await waitFor(`${m.name} to register`, async () => {
        const i = await pruntimeInfo(m.pruntime.port);
        return i?.registered ? i : undefined;
      }, WAIT_MS);
    }
    await chain.registerGatekeeper(members[0].info.identityKey);
    await waitFor("the master key on chain", () => chain.masterPubkey(), WAIT_MS);
    const alice = keyPairFromUri("//Alice", "sr25519");
    await chain.sudo({
      tag: "PhalaPhatContracts",
      value: {
        tag: "add_cluster",
        value: {
          owner: alice.accountId,
          workers: [fromHex(members[1].info.identityKey), fromHex(members[2].info.identityKey)],
          gas_price: opts.gasPrice ?? 1n,
          deposit_per_byte: opts.depositPerByte ?? 1_000n,
          deposit_per_item: opts.depositPerItem ?? 100_000n,
        },
      },
    });
    const cluster = clusterIdOf(0n);
    await waitFor("the cluster key on chain", () => chain.storage(PhalaRegistryStorage.ClusterKeys.key(cluster)), WAIT_MS);
    return { base, node, chain, members, cluster: "0x" + Buffer.from(cluster).toString("hex"), stop };
  } catch (e) {
    if (process.env.PHALA_TEST_DUMP) for (const p of procs) process.stderr.write(`---- ${p.proc.spawnargs.slice(2, 3)}\n${p.output().slice(-6000)}\n`);
    await stop();
    throw e;
  }
}
