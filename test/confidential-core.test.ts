/**
 * The confidential core with real processes: a dev node, three pRuntimes and their pHosts.
 * Workers register with dev evidence; the first gatekeeper publishes the master key; a
 * second gatekeeper added through Sudo receives it over the chain without a restart and
 * takes over relaying; a rotation changes the on-chain key and both gatekeepers follow.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnNode, spawnPruntime, spawnPhost, type SpawnedNode, type SpawnedProcess } from "./helpers/spawn-node.ts";
import { waitFor } from "./helpers/wait.ts";
import { pruntimeInfo, TestChain, type PruntimeInfo } from "./helpers/pruntime.ts";

const WAIT_MS = 60_000;
const dirs: string[] = [];
const procs: SpawnedProcess[] = [];
let node: SpawnedNode | undefined;

after(async () => {
  if (process.env.PHALA_TEST_DUMP) for (const p of procs) process.stderr.write(`---- ${p.proc.spawnargs.slice(2, 3)}\n${p.output().slice(-6000)}\n`);
  for (const p of procs.reverse()) await p.kill();
  await node?.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function infoWhere(port: number, what: string, pred: (i: PruntimeInfo) => boolean): Promise<PruntimeInfo> {
  return waitFor(what, async () => {
    const i = await pruntimeInfo(port);
    return i && pred(i) ? i : undefined;
  }, WAIT_MS);
}

test("workers register, gatekeepers share the master key over the chain, and a rotation is followed by both", async () => {
  node = await spawnNode({ args: ["--dev", "--tmp", "--rpc-port", "0", "--block-interval-ms", "300"] });
  const chain = new TestChain(node.httpUrl);
  const members = ["gk1", "gk2", "worker"].map((name, i) => ({ name, operator: ["//Bob", "//Charlie", "//Dave"][i], dir: mkdtempSync(join(tmpdir(), `phala-${name}-`)) }));
  dirs.push(...members.map((m) => m.dir));
  const runtimes = await Promise.all(members.map((m) => spawnPruntime(m.dir, ["--beacon-interval", "5"])));
  procs.push(...runtimes);
  const hosts: SpawnedProcess[] = [];
  for (const [i, m] of members.entries()) hosts.push(await spawnPhost(node.port, runtimes[i].port, m.operator));
  procs.push(...hosts);

  // All three register with dev evidence, each through its own pHost and operator.
  const infos = await Promise.all(runtimes.map((r, i) => infoWhere(r.port, `${members[i].name} to register`, (x) => x.registered)));
  for (const info of infos) {
    const w = await chain.worker(info.identityKey);
    assert.ok(w, "the chain stores the worker");
    assert.equal(w.tee.tag, "Dev");
    assert.equal(w.confidence_level, 128);
  }
  const [gk1, gk2] = infos;

  // The first gatekeeper generates the master key and publishes it.
  await chain.registerGatekeeper(gk1.identityKey);
  const master = await waitFor("the master public key on chain", () => chain.masterPubkey(), WAIT_MS);
  await infoWhere(runtimes[0].port, "gk1 to hold the master key", (x) => x.role === "gatekeeper" && x.holdsMasterKey && x.masterPubkey === master);
  // Every pRuntime follows the on-chain key, gatekeeper or not.
  await infoWhere(runtimes[2].port, "the worker to see the master key", (x) => x.masterPubkey === master && !x.holdsMasterKey);

  // A second gatekeeper receives the key through the chain: same process, no restart.
  const pidBefore = runtimes[1].proc.pid;
  await chain.registerGatekeeper(gk2.identityKey);
  await infoWhere(runtimes[1].port, "gk2 to receive the master key", (x) => x.role === "gatekeeper" && x.holdsMasterKey && x.masterPubkey === master);
  assert.equal(runtimes[1].proc.exitCode, null);
  assert.equal(runtimes[1].proc.pid, pidBefore);

  // With gk1's pHost gone, gk2 alone carries the gatekeepers' messages: its beacons are
  // accepted, so its signatures and sequence numbers are exactly what gk1 would send.
  await hosts[0].kill();
  // gk1 is no longer fed, so a beacon for a later block can only come from gk2.
  const frozen = (await pruntimeInfo(runtimes[0].port))!.syncedHeight;
  await waitFor("a beacon relayed by gk2 alone", async () => {
    const b = await chain.lastBeacon();
    return b && b.block_number > frozen ? b : undefined;
  }, WAIT_MS);

  // Rotation through Sudo: the chain's key changes, gk2 follows at once, gk1 when it syncs again.
  await chain.sudo({ tag: "PhalaRegistry", value: { tag: "rotate_master_key", value: {} } });
  const rotated = await waitFor("the rotated master key", async () => {
    const k = await chain.masterPubkey();
    return k && k !== master ? k : undefined;
  }, WAIT_MS);
  await infoWhere(runtimes[1].port, "gk2 to follow the rotation", (x) => x.masterPubkey === rotated && x.rotationId === 1 && x.holdsMasterKey);
  hosts[0] = await spawnPhost(node.port, runtimes[0].port, members[0].operator);
  procs.push(hosts[0]);
  const g1 = await infoWhere(runtimes[0].port, "gk1 to follow the rotation", (x) => x.masterPubkey === rotated && x.rotationId === 1 && x.holdsMasterKey);
  for (const r of runtimes) {
    const i = (await pruntimeInfo(r.port))!;
    assert.equal(i.beaconMismatches ?? 0, 0, "every gatekeeper recomputed the same beacons");
    assert.equal(i.egressConflicts ?? 0, 0, "no gatekeeper saw the chain accept bytes other than its own");
  }
  assert.equal(g1.masterPubkey, rotated);
});
