/**
 * Crash safety of the worker pair: pRuntime killed with SIGKILL while it syncs resumes from
 * its sealed checkpoint, not from block 0; pHost killed while it syncs is simply started
 * again and carries on from pRuntime's height.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnNode, spawnPhala, spawnPhost, type SpawnedNode, type SpawnedProcess } from "./helpers/spawn-node.ts";
import { waitFor } from "./helpers/wait.ts";
import { pruntimeInfo, TestChain } from "./helpers/pruntime.ts";

const CHECKPOINT_INTERVAL = 50;
const CHAIN_BLOCKS = 600;
const WAIT_MS = 60_000;

let node: SpawnedNode | undefined;
const procs: SpawnedProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "phala-restart-"));
after(async () => {
  for (const p of procs) await p.kill("SIGKILL");
  await node?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const startPruntime = async (port: number) => {
  const p = await spawnPhala("pruntime", ["--data-dir", dir, "--port", String(port), "--checkpoint-interval", String(CHECKPOINT_INTERVAL)], /pRuntime API listening .*url=http:\/\/127\.0\.0\.1:(\d+)/);
  procs.push(p);
  return p;
};

test("SIGKILL of pRuntime or pHost while syncing: both resume where the worker was", async () => {
  node = await spawnNode({ args: ["--dev", "--tmp", "--rpc-port", "0", "--block-interval-ms", "10"] });
  const chain = new TestChain(node.httpUrl);
  await waitFor(`${CHAIN_BLOCKS} finalized blocks`, async () => {
    const h = await chain.call<{ number: string }>("chain_getHeader");
    return parseInt(h.number, 16) >= CHAIN_BLOCKS ? true : undefined;
  }, WAIT_MS);

  const port = await freePort();
  let pruntime = await startPruntime(port);
  // Small batches so the sync takes long enough to be interrupted.
  const startPhost = async () => {
    const p = await spawnPhost(node!.port, port, "//Bob", ["--batch-size", "5"]);
    procs.push(p);
    return p;
  };
  let phost = await startPhost();

  const killedAt = await waitFor("pRuntime to pass a few checkpoints", async () => {
    const i = await pruntimeInfo(port);
    return i && i.syncedHeight >= 3 * CHECKPOINT_INTERVAL ? i.syncedHeight : undefined;
  }, WAIT_MS);
  await pruntime.kill("SIGKILL");
  pruntime = await startPruntime(port);
  const resumed = (await pruntimeInfo(port))!;
  assert.ok(resumed.initialized, "the restarted pRuntime knows its chain");
  assert.ok(resumed.syncedHeight >= killedAt - 2 * CHECKPOINT_INTERVAL, `resumed at #${resumed.syncedHeight}, killed at #${killedAt}`);
  assert.ok(resumed.syncedHeight > 0, "not from block 0");

  // The same pHost notices pRuntime is back and continues.
  const progressed = await waitFor("sync to continue after the restart", async () => {
    const i = await pruntimeInfo(port);
    return i && i.syncedHeight > Math.max(resumed.syncedHeight, killedAt) + 20 ? i.syncedHeight : undefined;
  }, WAIT_MS);

  // pHost is stateless: killed mid-sync and started again, it picks up at pRuntime's height.
  await phost.kill("SIGKILL");
  const atKill = (await pruntimeInfo(port))!.syncedHeight;
  assert.ok(atKill >= progressed);
  phost = await startPhost();
  const tip = parseInt((await chain.call<{ number: string }>("chain_getHeader")).number, 16);
  await waitFor("pRuntime to reach the tip through the new pHost", async () => {
    const i = await pruntimeInfo(port);
    return i && i.syncedHeight >= tip ? true : undefined;
  }, WAIT_MS);
  // pHost asked for the next block after pRuntime's height, not for block 1: nothing was refused as NOT_NEXT.
  assert.doesNotMatch(phost.output(), /NOT_NEXT/);
  await waitFor("the worker to register after catching up", async () => ((await pruntimeInfo(port))?.registered ? true : undefined), WAIT_MS);
});
