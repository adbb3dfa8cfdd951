/**
 * `phala dev` (what `npm start` runs): a node, a gatekeeper and two workers as separate
 * processes, registered and synced within seconds; SIGTERM stops every one of them.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitFor } from "./helpers/wait.ts";
import { pruntimeInfo, TestChain } from "./helpers/pruntime.ts";

const PHALA_BIN = resolve(import.meta.dirname, "../packages/cli/bin/phala.mjs");
// Ports away from the defaults so a developer's own `npm start` does not collide, and below
// Linux's ephemeral range (32768+), where other tests' connections and listen(0) take ports.
const RPC_PORT = 20_000 + (process.pid % 4_000);
const PRUNTIME_PORT = RPC_PORT + 4_000;

const proc = spawn(process.execPath, [PHALA_BIN, "dev", "--rpc-port", String(RPC_PORT), "--pruntime-port", String(PRUNTIME_PORT)], { stdio: ["ignore", "pipe", "pipe"] });
let out = "";
proc.stdout.on("data", (d) => (out += d));
proc.stderr.on("data", (d) => (out += d));
after(() => {
  if (proc.exitCode === null) proc.kill("SIGKILL");
});

const answers = async (url: string) => {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
};

test("phala dev starts the whole network, shows its status and stops every process on SIGTERM", async () => {
  await waitFor("the network to come up", async () => {
    if (proc.exitCode !== null) throw new Error(`phala dev exited early:\n${out}`);
    return out.includes("Phala dev network is running") ? true : undefined;
  }, 90_000);
  assert.match(out, /ACCEPTS DEV ATTESTATION/);
  const infos = await Promise.all([0, 1, 2].map((i) => waitFor(`pRuntime ${i} registered`, async () => {
    const info = await pruntimeInfo(PRUNTIME_PORT + i);
    return info?.registered ? info : undefined;
  }, 60_000)));
  assert.equal(infos[0].role, "gatekeeper");
  assert.equal(infos[0].holdsMasterKey, true);
  const chain = new TestChain(`http://127.0.0.1:${RPC_PORT}`);
  assert.equal(await chain.masterPubkey(), infos[0].masterPubkey);
  for (const i of infos) assert.ok(await chain.worker(i.identityKey));
  assert.match(out, /gatekeeper\s+pRuntime .* registered\s+gatekeeper/);

  // The printed steps work as written (npx phala … is this same binary).
  const steps = out.split("\n").filter((l) => /^\s+(\d\. )?npx phala contract/.test(l)).map((l) => l.replace(/^\s+(\d\. )?npx phala /, ""));
  assert.equal(steps.length, 4, out);
  const dir = mkdtempSync(join(tmpdir(), "phala-steps-"));
  try {
    const run = (line: string, contractId = "") => {
      const args = (line.replace(/<contract id[^>]*>/, contractId).match(/'[^']*'|\S+/g) ?? []).map((a) => a.replace(/^'|'$/g, ""));
      const r = spawnSync(process.execPath, [PHALA_BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env } });
      assert.equal(r.status, 0, `phala ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    // Step 1 names the example by its path in the repository.
    run(steps[0].replace("packages/contract/examples/notes.ts", resolve(import.meta.dirname, "../packages/contract/examples/notes.ts")));
    const deployed = run(steps[1]);
    const id = /deployed contract (0x[0-9a-f]{64})/.exec(deployed)?.[1];
    assert.ok(id, deployed);
    run(steps[2], id);
    assert.match(run(steps[3], id), /hello/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  proc.kill("SIGTERM");
  const [code] = await once(proc, "exit");
  assert.equal(code, 0, out);
  for (const url of [`http://127.0.0.1:${RPC_PORT}`, ...[0, 1, 2].map((i) => `http://127.0.0.1:${PRUNTIME_PORT + i}/health`)]) {
    assert.equal(await answers(url), false, `${url} still answers after phala dev stopped`);
  }
});

test("if phala dev itself is killed with SIGKILL, the processes it started exit on their own", async () => {
  const rpc = RPC_PORT + 1;
  const pr = PRUNTIME_PORT + 5;
  const base = mkdtempSync(join(tmpdir(), "phala-dev-kill-"));
  const p = spawn(process.execPath, [PHALA_BIN, "dev", "--base-path", base, "--rpc-port", String(rpc), "--pruntime-port", String(pr)], { stdio: ["ignore", "pipe", "pipe"] });
  let o = "";
  p.stdout.on("data", (d) => (o += d));
  p.stderr.on("data", (d) => (o += d));
  try {
    // The children are up once every pRuntime answers; no need to wait for the cluster.
    await waitFor("the pRuntimes to answer", async () => {
      if (p.exitCode !== null) throw new Error(`phala dev exited early:\n${o}`);
      const up = await Promise.all([0, 1, 2].map((i) => answers(`http://127.0.0.1:${pr + i}/health`)));
      return up.every(Boolean) ? true : undefined;
    }, 60_000);
  } finally {
    p.kill("SIGKILL");
  }
  await waitFor("every child to exit", async () => {
    const up = await Promise.all([`http://127.0.0.1:${rpc}`, ...[0, 1, 2].map((i) => `http://127.0.0.1:${pr + i}/health`)].map(answers));
    return up.some(Boolean) ? undefined : true;
  }, 30_000);
  rmSync(base, { recursive: true, force: true });
});
