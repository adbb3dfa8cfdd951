import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";

const PHALA_BIN = resolve(import.meta.dirname, "../../packages/cli/bin/phala.mjs");
/** Startup waits for the process's own "started" log line, not for a fixed time. */
const START_TIMEOUT_MS = 30_000;

export interface SpawnedProcess {
  proc: ChildProcess;
  /** The port the ready line names. */
  port: number;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnedNode extends SpawnedProcess {
  wsUrl: string;
  httpUrl: string;
  basePath: string;
  cleanup(): Promise<void>;
}

/**
 * Runs `phala <command> …args` as a separate process and waits for the log line `ready`
 * matches; its first group is the port. Without `ready` it returns at once with port 0.
 */
/** Processes spawned so far, to name their profiles apart. */
let spawned = 0;

export async function spawnPhala(command: string, args: string[], ready?: RegExp): Promise<SpawnedProcess> {
  // PHALA_PROFILE_DIR=dir writes V8 CPU profiles of every spawned process (one file per thread) to
  // dir/<command>-<n> on exit; bench/profile-top.ts reads them.
  const profile = process.env.PHALA_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${join(process.env.PHALA_PROFILE_DIR, `${command}-${++spawned}`)}`] : [];
  // PHALA_NODE_FLAGS="--trace-gc ..." passes V8/Node flags to every spawned process (NODE_OPTIONS refuses most V8 flags).
  const flags = process.env.PHALA_NODE_FLAGS?.split(" ").filter((f) => f !== "") ?? [];
  const proc = spawn(process.execPath, [...flags, ...profile, PHALA_BIN, command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const port = !ready
    ? 0
    : await new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`phala ${command} did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
        const check = () => {
          const m = ready.exec(out);
          if (m) {
            clearTimeout(timer);
            res(Number(m[1]));
          }
        };
        proc.stdout!.on("data", check);
        proc.stderr!.on("data", check);
        proc.once("exit", (code) => {
          clearTimeout(timer);
          rej(new Error(`phala ${command} exited with ${code} before starting:\n${out}`));
        });
      });
  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await once(proc, "exit");
  };
  return { proc, port, output: () => out, kill };
}

/** Starts `phala node` as a separate process on an ephemeral port and waits until its RPC is up. */
export async function spawnNode(opts: { args?: string[]; basePath?: string } = {}): Promise<SpawnedNode> {
  const basePath = opts.basePath ?? mkdtempSync(join(tmpdir(), "phala-test-"));
  const args = opts.args ?? ["--dev", "--base-path", basePath, "--rpc-port", "0", "--block-interval-ms", "500", "--log", "info"];
  const p = await spawnPhala("node", args, /node started .*rpc=ws:\/\/127\.0\.0\.1:(\d+)/);
  return {
    ...p,
    wsUrl: `ws://127.0.0.1:${p.port}`,
    httpUrl: `http://127.0.0.1:${p.port}`,
    basePath,
    cleanup: async () => {
      await p.kill();
      if (!opts.basePath) rmSync(basePath, { recursive: true, force: true });
    },
  };
}

/** Starts `phala pruntime` on an ephemeral port. */
export function spawnPruntime(dataDir: string, extra: string[] = []): Promise<SpawnedProcess> {
  return spawnPhala("pruntime", ["--data-dir", dataDir, "--port", "0", ...extra], /pRuntime API listening .*url=http:\/\/127\.0\.0\.1:(\d+)/);
}

/** Starts `phala phost` feeding `pruntimePort` from the node at `nodePort`. */
export function spawnPhost(nodePort: number, pruntimePort: number, operator: string, extra: string[] = []): Promise<SpawnedProcess> {
  return spawnPhala("phost", ["--node", `ws://127.0.0.1:${nodePort}`, "--pruntime", `http://127.0.0.1:${pruntimePort}`, "--operator", operator, ...extra]);
}

export async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return r.json();
}
