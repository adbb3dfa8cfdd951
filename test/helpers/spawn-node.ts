import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";

const PHALA_BIN = resolve(import.meta.dirname, "../../packages/cli/bin/phala.mjs");
/** Startup waits for the node's own "node started" log line, not for a fixed time. */
const START_TIMEOUT_MS = 30_000;

export interface SpawnedNode {
  proc: ChildProcess;
  port: number;
  wsUrl: string;
  httpUrl: string;
  basePath: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  cleanup(): Promise<void>;
}

/** Starts `phala node` as a separate process on an ephemeral port and waits until its RPC is up. */
export async function spawnNode(opts: { args?: string[]; basePath?: string } = {}): Promise<SpawnedNode> {
  const basePath = opts.basePath ?? mkdtempSync(join(tmpdir(), "phala-test-"));
  const args = opts.args ?? ["--dev", "--base-path", basePath, "--rpc-port", "0", "--block-interval-ms", "500", "--log", "info"];
  const proc = spawn(process.execPath, [PHALA_BIN, "node", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`node did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    const check = () => {
      const m = /node started .*rpc=ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    proc.stdout!.on("data", check);
    proc.stderr!.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`node exited with ${code} before starting:\n${out}`));
    });
  });
  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await once(proc, "exit");
  };
  return {
    proc,
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    basePath,
    output: () => out,
    kill,
    cleanup: async () => {
      await kill();
      if (!opts.basePath) rmSync(basePath, { recursive: true, force: true });
    },
  };
}

export async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return r.json();
}
