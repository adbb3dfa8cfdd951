/**
 * A pRuntime in its own process, for tests that measure it (memory with many connections open)
 * without counting the test's own client sockets. Started with the data directory and the
 * listener limits (JSON) as arguments; prints one JSON line when listening, then answers
 * commands on stdin, one JSON line each: `mem` (after a GC), `open <n>` (once the public
 * listener has at least n connections open), `exit`.
 */
import { createInterface } from "node:readline";
import { startPruntime } from "../src/service.ts";

const [dataDir, limits] = process.argv.slice(2);
const p = await startPruntime({ dataDir, port: 0, publicPort: 0, publicHost: "127.0.0.1", listenerLimits: JSON.parse(limits ?? "{}") });
const counts = p.connections.public!;
const send = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");
send({ port: p.port, publicPort: p.publicPort });

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(" ");
  if (cmd === "mem") {
    (globalThis as { gc?: () => void }).gc?.();
    send({ mem: process.memoryUsage(), open: counts.open });
  } else if (cmd === "open") {
    const n = Number(arg);
    await new Promise<void>((resolve) => {
      if (counts.open >= n) return resolve();
      const off = counts.onChange(() => {
        if (counts.open >= n) {
          off();
          resolve();
        }
      });
    });
    send({ open: counts.open });
  } else if (cmd === "exit") {
    await p.close();
    process.exit(0);
  }
}
