import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { RpcClient, type RpcTimers } from "../src/rpc-client.ts";
import { NodeRpcError, PhostError } from "../src/errors.ts";
import { memoryLogger, waitUntil, type LogLine } from "./fakes.ts";

/**
 * A scripted JSON-RPC server: `echo` answers its params, `fail` answers an error, `hang`
 * never answers, `sub` subscribes (sending its first notification BEFORE the answer, which
 * the client must cope with) and `unsub` unsubscribes.
 */
class ScriptServer {
  wss: WebSocketServer | undefined;
  port = 0;
  readonly sockets = new Set<WebSocket>();
  readonly subs = new Map<WebSocket, string>();
  subscribeCalls = 0;
  #next = 1;

  async start(): Promise<void> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: this.port });
    await new Promise((r) => wss.once("listening", r));
    this.port = (wss.address() as AddressInfo).port;
    this.wss = wss;
    wss.on("connection", (ws) => {
      this.sockets.add(ws);
      ws.on("close", () => {
        this.sockets.delete(ws);
        this.subs.delete(ws);
      });
      ws.on("message", (data) => {
        const req = JSON.parse(String(data));
        const reply = (body: object) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: req.id, ...body }));
        switch (req.method) {
          case "echo":
            return reply({ result: req.params });
          case "fail":
            return reply({ error: { code: 1013, message: "Transaction Already Imported", data: "detail" } });
          case "hang":
            return;
          case "sub": {
            this.subscribeCalls++;
            const id = `s${this.#next++}`;
            this.subs.set(ws, id);
            this.notify(ws, "first");
            return reply({ result: id });
          }
          case "unsub":
            this.subs.delete(ws);
            return reply({ result: true });
        }
      });
    });
  }

  notify(ws: WebSocket, result: unknown): void {
    const id = this.subs.get(ws);
    if (id) ws.send(JSON.stringify({ jsonrpc: "2.0", method: "note", params: { subscription: id, result } }));
  }

  notifyAll(result: unknown): void {
    for (const ws of this.sockets) this.notify(ws, result);
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((r) => wss.close(() => r()));
  }
}

/** Node's timers, keeping the set of those still scheduled (neither fired nor cleared). */
class TrackedTimers implements RpcTimers {
  readonly scheduled = new Set<NodeJS.Timeout>();
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout {
    const t: NodeJS.Timeout = setTimeout(() => {
      this.scheduled.delete(t);
      callback();
    }, ms);
    this.scheduled.add(t);
    return t;
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout | undefined);
    this.scheduled.delete(handle as NodeJS.Timeout);
  }
}

function client(port: number, lines: LogLine[] = [], requestTimeoutMs = 2000, timers?: RpcTimers): RpcClient {
  return new RpcClient({ url: `ws://127.0.0.1:${port}`, logger: memoryLogger(lines), requestTimeoutMs, reconnectDelayMs: 20, reconnectDelayMaxMs: 100, timers });
}

const failedAttempts = (lines: LogLine[]) => lines.filter((l) => l.msg === "cannot reach the node; retrying").length;

test("requests get their own answers; JSON-RPC errors keep the node's code, message and data", async () => {
  const s = new ScriptServer();
  await s.start();
  const c = client(s.port);
  try {
    await assert.rejects(c.request("echo", [1]), (e: PhostError) => e.code === "NODE_UNAVAILABLE");
    c.start();
    await waitUntil("connected", () => c.connected);
    const answers = await Promise.all([c.request("echo", [1]), c.request("echo", ["two"]), c.request("echo", [])]);
    assert.deepEqual(answers, [[1], ["two"], []]);
    await assert.rejects(c.request("fail"), (e: unknown) => {
      assert.ok(e instanceof NodeRpcError);
      assert.equal(e.rpcCode, 1013);
      assert.equal(e.rpcMessage, "Transaction Already Imported");
      assert.equal(e.rpcData, "detail");
      return true;
    });
  } finally {
    await c.close();
    await s.stop();
  }
});

test("a request without an answer times out with NODE_TIMEOUT", async () => {
  const s = new ScriptServer();
  await s.start();
  const c = client(s.port, [], 100);
  c.start();
  try {
    await waitUntil("connected", () => c.connected);
    await assert.rejects(c.request("hang"), (e: PhostError) => e.code === "NODE_TIMEOUT");
    assert.deepEqual(await c.request("echo", [3]), [3], "the connection stays usable");
  } finally {
    await c.close();
    await s.stop();
  }
});

test("reconnects after the server goes away and subscribes again; pending requests fail at once", async () => {
  const s = new ScriptServer();
  await s.start();
  const lines: LogLine[] = [];
  const c = client(s.port, lines);
  const items: unknown[] = [];
  let connects = 0;
  c.onConnect(() => connects++);
  const sub = c.subscribe({ method: "sub", params: [], unsubscribeMethod: "unsub", onItem: (r) => items.push(r) });
  c.start();
  try {
    await waitUntil("first notification", () => items.length === 1);
    assert.equal(items[0], "first", "a notification sent before the subscribe answer is delivered");
    assert.equal(sub.active, true);
    s.notifyAll("second");
    await waitUntil("second notification", () => items.length === 2);

    const hanging = assert.rejects(c.request("hang"), (e: PhostError) => e.code === "NODE_UNAVAILABLE");
    await s.stop();
    await hanging;
    await waitUntil("disconnected", () => !c.connected);
    assert.equal(sub.active, false);
    await waitUntil("a few failed reconnection attempts", () => failedAttempts(lines) >= 3);
    await s.start();
    await waitUntil("resubscribed", () => items.length === 3 && sub.active);
    assert.equal(s.subscribeCalls, 2);
    assert.equal(connects, 2);
    assert.ok(lines.some((l) => l.level === "warn" && l.msg === "lost the connection to the node; reconnecting"));
    assert.equal(lines.filter((l) => l.level === "warn").length, 1, "one warning per outage");
    assert.ok(lines.some((l) => l.level === "debug" && l.msg === "cannot reach the node; retrying"), "failed attempts at debug");
    assert.ok(lines.some((l) => l.msg === "reconnected to the node"));

    sub.unsubscribe();
    await waitUntil("server dropped the subscription", () => s.subs.size === 0);
  } finally {
    await c.close();
    await s.stop();
  }
});

test("close() fails waiting requests with STOPPED and stops reconnecting", async () => {
  const s = new ScriptServer();
  await s.start();
  const timers = new TrackedTimers();
  const c = client(s.port, [], 2000, timers);
  c.start();
  await waitUntil("connected", () => c.connected);
  assert.deepEqual(await c.request("echo", [1]), [1]);
  const hanging = assert.rejects(c.request("hang"), (e: PhostError) => e.code === "STOPPED");
  await c.close();
  await hanging;
  await assert.rejects(c.request("echo"), (e: PhostError) => e.code === "STOPPED");
  // Nothing left scheduled means nothing can reconnect later: no need to wait and see.
  assert.equal(timers.scheduled.size, 0, "no reconnection scheduled after close");
  await waitUntil("the server saw the socket close", () => s.sockets.size === 0);
  await s.stop();
});

test("close() during the wait between reconnection attempts cancels the next attempt", async () => {
  const s = new ScriptServer();
  await s.start();
  await s.stop(); // keep the port, close the listener
  const lines: LogLine[] = [];
  const timers = new TrackedTimers();
  const c = client(s.port, lines, 2000, timers);
  c.start();
  await waitUntil("a failed attempt", () => failedAttempts(lines) >= 1);
  assert.equal(timers.scheduled.size, 1, "the next attempt is scheduled");
  await c.close();
  assert.equal(timers.scheduled.size, 0, "no reconnection scheduled after close");
  await assert.rejects(c.request("echo"), (e: PhostError) => e.code === "STOPPED");
});

test("keeps trying to reach a node that is not up yet, warning once", async () => {
  const s = new ScriptServer();
  await s.start();
  await s.stop(); // keep the port, close the listener
  const lines: LogLine[] = [];
  const c = client(s.port, lines);
  c.start();
  try {
    await waitUntil("a few failed attempts", () => lines.filter((l) => l.msg === "cannot reach the node; retrying").length >= 3);
    await s.start();
    await waitUntil("connected", () => c.connected);
    assert.equal(lines.filter((l) => l.level === "warn").length, 1);
    assert.ok(lines.some((l) => l.level === "info" && l.msg === "connected to the node"));
  } finally {
    await c.close();
    await s.stop();
  }
});
