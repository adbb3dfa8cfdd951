/**
 * No client can hold pRuntime's public port: real sockets on loopback. Linux routes all of
 * 127.0.0.0/8 to loopback, so binding clients to 127.0.0.2, 127.0.0.3, ... gives them distinct
 * source addresses without any network.
 */
import { once } from "node:events";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startPruntime, type RunningPruntime } from "../src/service.ts";
import type { ListenerLimits } from "../src/listener-limits.ts";

/** Connections the big test opens: the figure. */
const SLOW_CLIENTS = 2000;
/** Connections per client address in the big test: well under the per-source default (64). */
const CLIENTS_PER_ADDRESS = 16;

function clientAddress(i: number): string {
  // 127.0.0.2 .. 127.0.0.254, then 127.0.1.x: never 127.0.0.1, which the honest client uses.
  return `127.0.${Math.floor(i / 253)}.${(i % 253) + 2}`;
}

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", localAddress });
    s.once("connect", () => {
      s.off("error", reject);
      s.on("error", () => {}); // a reset by the server shows up as 'close', which the tests wait for
      resolve(s);
    });
    s.once("error", reject);
  });
}

function closed(s: Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once("close", () => resolve()));
}

/** Everything the server sends until it closes the connection. */
function received(s: Socket): Promise<string> {
  let out = "";
  s.on("data", (d: Buffer) => (out += d.toString("latin1")));
  return closed(s).then(() => out);
}

async function get(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text.length ? JSON.parse(text) : undefined };
}

function softOpenFilesLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  return line === undefined ? Infinity : Number(line.split(/\s+/)[3]);
}

async function withPruntime(t: { after: (fn: () => unknown) => void }, limits: Partial<ListenerLimits>): Promise<RunningPruntime & { publicPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-listener-"));
  const p = await startPruntime({ dataDir: dir, port: 0, publicPort: 0, publicHost: "127.0.0.1", listenerLimits: limits });
  t.after(() => p.close());
  return p as RunningPruntime & { publicPort: number };
}

test(`${SLOW_CLIENTS} idle and slow connections do not stop the public port answering others; memory measured`, { timeout: 120_000 }, async (t) => {
  // This process holds 2,000 client sockets and the pRuntime process 2,000 server sockets.
  const fds = softOpenFilesLimit();
  if (fds < SLOW_CLIENTS + 500) {
    t.skip(`ulimit -n is ${fds}; this test needs ${SLOW_CLIENTS + 500} (raise it with ulimit -n)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "pruntime-listener-"));
  // Deadlines far off, so the connections stay open while measured; the deadlines have their own test.
  const limits: Partial<ListenerLimits> = { headersTimeoutMs: 300_000, requestTimeoutMs: 300_000 };
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", join(import.meta.dirname, "pruntime-process.ts"), dir, JSON.stringify(limits)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  // The directory goes only once the process that writes into it has exited.
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ask = async (cmd?: string): Promise<any> => {
    if (cmd !== undefined) child.stdin.write(cmd + "\n");
    const next = await lines.next();
    assert.ok(!next.done, "the pRuntime process exited");
    return JSON.parse(next.value);
  };
  const { publicPort } = await ask();
  assert.equal((await get(publicPort, "/health")).status, 200);
  const before = (await ask("mem")).mem;

  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < SLOW_CLIENTS; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => open(publicPort, clientAddress(Math.floor((i + j) / CLIENTS_PER_ADDRESS)))));
    sockets.push(...batch);
  }
  // Half send nothing; half start a request and trickle its headers.
  const slow = sockets.filter((_, i) => i % 2 === 1);
  for (const s of slow) s.write("GET /health HTTP/1.1\r\nhost: pruntime\r\n");
  const trickle = setInterval(() => {
    for (const s of slow) if (s.writable) s.write("x-slow: 1\r\n");
  }, 1000);
  t.after(() => clearInterval(trickle));
  assert.ok((await ask(`open ${SLOW_CLIENTS}`)).open >= SLOW_CLIENTS);
  const during = await ask("mem");

  // An honest client (another address) is answered while all of them hang on.
  const started = performance.now();
  assert.deepEqual(await get(publicPort, "/health"), { status: 200, body: { ok: true, syncedHeight: 0 } });
  const query = await get(publicPort, "/query", { method: "POST", body: new Uint8Array([1, 2, 3]) });
  assert.equal(query.status, 400, "a junk query is refused as such, not left waiting");
  const latencyMs = performance.now() - started;
  assert.ok(sockets.every((s) => !s.destroyed), "the slow connections were all still open");

  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  const perConnKiB = ((during.mem.rss - before.rss) / SLOW_CLIENTS / 1024).toFixed(1);
  t.diagnostic(
    `pRuntime process with ${during.open} connections open: rss ${mib(during.mem.rss)} MiB (before ${mib(before.rss)} MiB, ~${perConnKiB} KiB per connection), ` +
      `heapUsed ${mib(during.mem.heapUsed)} MiB (before ${mib(before.heapUsed)} MiB); honest /health + /query answered in ${latencyMs.toFixed(0)} ms; ulimit -n ${fds}`,
  );
  child.stdin.write("exit\n");
});

test("connections past the per-source and total limits are closed at once; others are served", { timeout: 30_000 }, async (t) => {
  const p = await withPruntime(t, { connectionsMax: 12, connectionsPerSourceMax: 4 });
  const counts = p.connections.public!;
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const held = async (address: string) => {
    const s = await open(p.publicPort, address);
    sockets.push(s);
    return s;
  };
  for (let i = 0; i < 4; i++) await held("127.0.0.2");
  // The fifth from the same address is closed without a byte, before any request.
  const fifth = await held("127.0.0.2");
  assert.equal(await received(fifth), "");
  assert.equal(counts.refusedPerSource, 1);
  // Another address is still served.
  const other = await held("127.0.0.3");
  other.write("GET /health HTTP/1.1\r\nhost: pruntime\r\nconnection: close\r\n\r\n");
  assert.match(await received(other), /^HTTP\/1\.1 200 /);

  // Fill the listener: 4 from .2 are still open; 8 more from four other addresses.
  for (let i = 0; i < 8; i++) await held(`127.0.0.${4 + (i % 4)}`);
  await new Promise<void>((resolve) => (counts.open >= 12 ? resolve() : counts.onChange(() => counts.open >= 12 && resolve())));
  const over = await held("127.0.0.9");
  assert.equal(await received(over), "");
  assert.ok(counts.refusedTotal >= 1);
  // One leaves, and a new client gets in.
  sockets[0].destroy();
  await new Promise<void>((resolve) => (counts.open < 12 ? resolve() : counts.onChange(() => counts.open < 12 && resolve())));
  assert.equal((await get(p.publicPort, "/health")).status, 200);
});

test("deadlines cut clients that send nothing, trickle headers or trickle a body, in seconds", { timeout: 30_000 }, async (t) => {
  const p = await withPruntime(t, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000 });
  const sockets: Socket[] = [];
  const trickles: NodeJS.Timeout[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
    for (const x of trickles) clearInterval(x);
  });
  const start = performance.now();
  const idle = await open(p.publicPort, "127.0.0.2");
  const headers = await open(p.publicPort, "127.0.0.3");
  const body = await open(p.publicPort, "127.0.0.4");
  const kept = await open(p.publicPort, "127.0.0.5");
  sockets.push(idle, headers, body, kept);
  const [idleGot, headersGot, bodyGot, keptGot] = [idle, headers, body, kept].map(received);

  headers.write("GET /health HTTP/1.1\r\nhost: pruntime\r\n");
  trickles.push(setInterval(() => headers.writable && headers.write("x-slow: 1\r\n"), 200));
  body.write(`POST /query HTTP/1.1\r\nhost: pruntime\r\ncontent-length: 60000\r\n\r\n`);
  trickles.push(setInterval(() => body.writable && body.write("a"), 200));
  kept.write("GET /health HTTP/1.1\r\nhost: pruntime\r\n\r\n");

  assert.match(await idleGot, /^(|HTTP\/1\.1 408 [^]*)$/, "a connection that sends nothing is closed");
  assert.match(await headersGot, /^HTTP\/1\.1 408 /, "trickled headers get 408");
  assert.match(await bodyGot, /^HTTP\/1\.1 408 /, "a trickled body gets 408");
  assert.match(await keptGot, /^HTTP\/1\.1 200 /, "an idle keep-alive connection is closed after its answer");
  const elapsedMs = performance.now() - start;
  // requestTimeout 2 s plus the 1 s check interval, with slack for a loaded machine.
  assert.ok(elapsedMs < 10_000, `all four were cut within ${elapsedMs.toFixed(0)} ms`);
  assert.equal((await get(p.publicPort, "/health")).status, 200, "and the server still answers");
});

test("bodies in flight are bounded per listener: past the budget 503 SERVER_BUSY, and served again once they arrive", { timeout: 30_000 }, async (t) => {
  const p = await withPruntime(t, { bodyBytesInFlightMax: 100_000 });
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  // A slow sender declares 60 kB and sends one byte: it holds 60 kB of the budget.
  const slow = await open(p.publicPort, "127.0.0.2");
  sockets.push(slow);
  const slowGot = received(slow);
  slow.write("POST /query HTTP/1.1\r\nhost: pruntime\r\ncontent-length: 60000\r\n\r\nx");
  // Another 60 kB body does not fit beside it. The slow sender's request is known to the server
  // once the server answers on any connection after it: HTTP/1.1 parsing is in arrival order per loop turn.
  let busy: Response | undefined;
  for (let i = 0; i < 100 && busy?.status !== 503; i++) {
    busy = await fetch(`http://127.0.0.1:${p.publicPort}/query`, { method: "POST", body: new Uint8Array(60_000) });
    if (busy.status !== 503) assert.equal(busy.status, 400, "a junk query that fits is refused as such");
  }
  assert.equal(busy?.status, 503);
  assert.equal(((await busy!.json()) as any).error.code, "SERVER_BUSY");
  // The slow body arrives: its budget is released, and the next 60 kB body is read (and refused as junk).
  slow.end("y".repeat(59_999));
  assert.match(await slowGot, /^HTTP\/1\.1 400 /);
  assert.equal((await fetch(`http://127.0.0.1:${p.publicPort}/query`, { method: "POST", body: new Uint8Array(60_000) })).status, 400);
});
