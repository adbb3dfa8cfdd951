import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { RpcError, RpcServer, RPC_ERROR_CODE, type RpcLimits, type RpcLogger, type SubscriptionSink } from "./index.ts";

// ---------------------------------------------------------------- helpers

interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields?: Record<string, unknown>;
}

function recordingLogger(): RpcLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry["level"]) => (msg: string, fields?: Record<string, unknown>) => {
    entries.push({ level, msg, fields });
  };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function start(
  t: TestContext,
  setup: (server: RpcServer) => void,
  limits: Partial<RpcLimits> = {},
): Promise<{ server: RpcServer; port: number; logger: ReturnType<typeof recordingLogger> }> {
  const logger = recordingLogger();
  const server = new RpcServer({ host: "127.0.0.1", port: 0, limits, logger });
  server.register("echo", (params) => params);
  setup(server);
  const { port } = await server.listen();
  t.after(() => server.close());
  return { server, port, logger };
}

type Json = any; // test-side view of decoded responses

/** A WebSocket client that queues decoded messages and hands them out in arrival order. */
class Client {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #queue: Json[] = [];
  readonly #waiters: { resolve: (m: Json) => void; reject: (e: Error) => void }[] = [];
  #closeCode: number | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => {
        this.#closeCode = code;
        for (const w of this.#waiters.splice(0)) w.reject(new Error(`connection closed with ${code}`));
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on("message", (data) => {
      const msg: Json = JSON.parse(data.toString());
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(msg);
      else this.#queue.push(msg);
    });
  }

  static open(port: number, t: TestContext): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const client = new Client(ws);
    t.after(() => ws.terminate());
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  next(): Promise<Json> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closeCode !== null) return Promise.reject(new Error(`connection closed with ${this.#closeCode}`));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async call(method: string, params: unknown[] = [], id: number | string = 1): Promise<Json> {
    this.send({ jsonrpc: "2.0", id, method, params });
    return this.next();
  }
}

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(port: number, body: string | Buffer, options: { headers?: Record<string, string>; method?: string; path?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path ?? "/",
        agent: false,
        headers: { "Content-Type": "application/json", ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const call = (method: string, params?: unknown, id: unknown = 1) => JSON.stringify({ jsonrpc: "2.0", id, method, params });

/** mulberry32: a small seeded generator, so a failing fuzz run replays from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- calls

test("method call over HTTP", async (t) => {
  const { port } = await start(t, (s) => s.register("add", (p) => (p[0] as number) + (p[1] as number)));
  const r = await post(port, call("add", [2, 3], 7));
  assert.equal(r.status, 200);
  assert.match(String(r.headers["content-type"]), /^application\/json/);
  assert.deepEqual(JSON.parse(r.body), { jsonrpc: "2.0", id: 7, result: 5 });
});

test("method call over WebSocket, async handler, string id, undefined result is null", async (t) => {
  const { port } = await start(t, (s) => {
    s.register("later", async (p) => `got ${String(p[0])}`);
    s.register("nothing", () => undefined);
  });
  const c = await Client.open(port, t);
  assert.deepEqual(await c.call("later", ["x"], "abc"), { jsonrpc: "2.0", id: "abc", result: "got x" });
  assert.deepEqual(await c.call("nothing", [], 2), { jsonrpc: "2.0", id: 2, result: null });
  // Missing and null params are an empty array.
  c.send({ jsonrpc: "2.0", id: 3, method: "echo" });
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: 3, result: [] });
  c.send({ jsonrpc: "2.0", id: 4, method: "echo", params: null });
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: 4, result: [] });
});

test("context carries connection id and transport", async (t) => {
  const { port } = await start(t, (s) => s.register("who", (_p, ctx) => ({ id: ctx.connectionId, transport: ctx.transport })));
  const c = await Client.open(port, t);
  const ws = (await c.call("who")).result;
  assert.equal(ws.transport, "ws");
  const http = JSON.parse((await post(port, call("who"))).body).result;
  assert.equal(http.transport, "http");
  assert.notEqual(http.id, ws.id);
});

test("batch: answers in order, skips notifications, reports invalid members", async (t) => {
  const { port } = await start(t, () => {});
  const batch = JSON.stringify([
    { jsonrpc: "2.0", id: 1, method: "echo", params: [1] },
    { jsonrpc: "2.0", method: "echo", params: [2] }, // notification: no answer
    { foo: "bar" },
    { jsonrpc: "2.0", id: 4, method: "nope" },
    5,
  ]);
  const expected = [
    { jsonrpc: "2.0", id: 1, result: [1] },
    { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } },
    { jsonrpc: "2.0", id: 4, error: { code: -32601, message: "Method not found: nope" } },
    { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } },
  ];
  assert.deepEqual(JSON.parse((await post(port, batch)).body), expected);
  const c = await Client.open(port, t);
  c.send(batch);
  assert.deepEqual(await c.next(), expected);
});

test("batch limits: empty batch, too many calls, all-notification batch", async (t) => {
  const { port } = await start(t, () => {}, { maxBatchLength: 3 });
  assert.deepEqual(JSON.parse((await post(port, "[]")).body), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "Invalid request" },
  });
  const four = JSON.stringify([1, 2, 3, 4].map((id) => ({ jsonrpc: "2.0", id, method: "echo" })));
  const tooBig = JSON.parse((await post(port, four)).body);
  assert.equal(tooBig.error.code, RPC_ERROR_CODE.tooBigBatchRequest);
  assert.equal(tooBig.id, null);
  const silent = await post(port, JSON.stringify([{ jsonrpc: "2.0", method: "echo" }]));
  assert.equal(silent.status, 204);
  assert.equal(silent.body, "");
});

// ---------------------------------------------------------------- errors

test("error codes: parse, invalid request, not found, invalid params, internal, custom", async (t) => {
  const { port, logger } = await start(t, (s) => {
    s.register("bad_params", () => {
      throw new RpcError(-32602, "Invalid params", "expected a hash");
    });
    s.register("boom", () => {
      throw new Error("secret internals");
    });
    s.register("boom_async", async () => {
      throw new TypeError("async internals");
    });
    s.register("custom", () => {
      throw new RpcError(1010, "Invalid Transaction", "Transaction has a bad signature");
    });
    s.register("bigint", () => 1n);
    s.register("bigint_data", () => {
      throw new RpcError(-32000, "with bigint data", 5n);
    });
  });
  const c = await Client.open(port, t);
  const cases: [string, Json][] = [
    ["{not json", { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }],
    ["", { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }],
    [JSON.stringify({ jsonrpc: "1.0", id: 1, method: "echo" }), { jsonrpc: "2.0", id: 1, error: { code: -32600, message: "Invalid request" } }],
    [JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "echo" }), { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } }],
    [JSON.stringify({ jsonrpc: "2.0", id: 1, method: 5 }), { jsonrpc: "2.0", id: 1, error: { code: -32600, message: "Invalid request" } }],
    ["null", { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } }],
    [call("foo_bar", []), { jsonrpc: "2.0", id: 1, error: { code: -32601, message: "Method not found: foo_bar" } }],
    [call("__proto__", []), { jsonrpc: "2.0", id: 1, error: { code: -32601, message: "Method not found: __proto__" } }],
    [call("echo", { a: 1 }), { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Invalid params", data: "params must be an array" } }],
    [call("echo", "str"), { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Invalid params", data: "params must be an array" } }],
    [call("bad_params", []), { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Invalid params", data: "expected a hash" } }],
    [call("boom", []), { jsonrpc: "2.0", id: 1, error: { code: -32603, message: "Internal error" } }],
    [call("boom_async", []), { jsonrpc: "2.0", id: 1, error: { code: -32603, message: "Internal error" } }],
    [call("bigint", []), { jsonrpc: "2.0", id: 1, error: { code: -32603, message: "Internal error" } }],
    [call("custom", []), { jsonrpc: "2.0", id: 1, error: { code: 1010, message: "Invalid Transaction", data: "Transaction has a bad signature" } }],
    [call("bigint_data", []), { jsonrpc: "2.0", id: 1, error: { code: -32000, message: "with bigint data" } }],
  ];
  for (const [input, expected] of cases) {
    c.send(input);
    assert.deepEqual(await c.next(), expected, `ws: ${input}`);
    assert.deepEqual(JSON.parse((await post(port, input)).body), expected, `http: ${input}`);
  }
  // Internal errors are logged with their cause; the client only sees the generic message.
  const logged = logger.entries.filter((e) => e.level === "error");
  assert.ok(logged.some((e) => e.fields?.error === "secret internals" && e.fields?.method === "boom"));
  assert.ok(logged.some((e) => e.fields?.error === "async internals"));
});

test("response larger than maxResponseBytes is an error, the connection stays usable", async (t) => {
  const { port } = await start(t, (s) => s.register("big", () => "x".repeat(2000)), { maxResponseBytes: 1000 });
  const c = await Client.open(port, t);
  const r = await c.call("big");
  assert.equal(r.error.code, RPC_ERROR_CODE.oversizedResponse);
  assert.equal(r.id, 1);
  assert.deepEqual((await c.call("echo", [1], 2)).result, [1]);
});

test("HTTP: routing, methods and content type", async (t) => {
  const { port } = await start(t, () => {});
  assert.equal((await post(port, call("echo"), { path: "/other" })).status, 404);
  const get = await post(port, "", { method: "GET" });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, "POST");
  assert.equal((await post(port, call("echo"), { headers: { "Content-Type": "text/plain" } })).status, 415);
  assert.equal((await post(port, call("echo"), { headers: { "Content-Type": "application/json; charset=utf-8" } })).status, 200);
  assert.equal((await post(port, call("echo"), { path: "/?x=1" })).status, 200);
});

test("oversized request over HTTP: 413 whether declared or streamed", async (t) => {
  const { port } = await start(t, () => {}, { maxRequestBytes: 1024 });
  const big = call("echo", ["x".repeat(2000)]);
  const declared = await post(port, big);
  assert.equal(declared.status, 413);
  assert.equal(JSON.parse(declared.body).error.code, RPC_ERROR_CODE.oversizedRequest);
  // Chunked: no Content-Length, so the limit is found while streaming.
  const streamed = await new Promise<HttpReply>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/", agent: false, headers: { "Content-Type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (ch: Buffer) => chunks.push(ch));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.write(big.slice(0, 600));
    req.end(big.slice(600));
  });
  assert.equal(streamed.status, 413);
  // A request just under the limit still works.
  assert.equal((await post(port, call("echo", ["x".repeat(900)]))).status, 200);
});

test("oversized request over WebSocket closes that connection with 1009; others are unaffected", async (t) => {
  const { port } = await start(t, () => {}, { maxRequestBytes: 1024 });
  const other = await Client.open(port, t);
  const c = await Client.open(port, t);
  c.send(call("echo", ["x".repeat(2000)]));
  assert.equal((await c.closed).code, 1009);
  assert.deepEqual((await other.call("echo", [1])).result, [1]);
  assert.deepEqual((await (await Client.open(port, t)).call("echo", [2])).result, [2]);
});

test("binary frame gets a parse error and the connection stays open", async (t) => {
  const { port } = await start(t, () => {});
  const c = await Client.open(port, t);
  c.ws.send(Buffer.from(call("echo", [1])), { binary: true });
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
  assert.deepEqual((await c.call("echo", [1], 9)).result, [1]);
});

test("invalid UTF-8 in a text frame fails that connection with 1007", async (t) => {
  const { port } = await start(t, () => {});
  const c = await Client.open(port, t);
  c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal((await c.closed).code, 1007);
  assert.deepEqual((await (await Client.open(port, t)).call("echo", [1])).result, [1]);
});

// ---------------------------------------------------------------- subscriptions

function subscribeMethods(server: RpcServer, opened: SubscriptionSink[]): void {
  server.register("test_subscribe", (params, ctx) => {
    const sink = ctx.subscribe("test_event", ["test_unsubscribe"]);
    opened.push(sink);
    // Synchronous notifications before the id is even returned must still follow it.
    sink.notify({ n: 1 });
    sink.notify({ n: 2 });
    if (params[0] === "fail") throw new RpcError(-32000, "refused after subscribing");
    return sink.id;
  });
  server.registerAlias("test_unsubscribeAlias", "test_unsubscribe");
}

test("subscription: id response precedes notifications queued during the call", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  const response = await c.call("test_subscribe", [], 1);
  assert.equal(typeof response.result, "string");
  const id = response.result;
  assert.equal(opened[0].id, id);
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", method: "test_event", params: { subscription: id, result: { n: 1 } } });
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", method: "test_event", params: { subscription: id, result: { n: 2 } } });
  opened[0].notify("later");
  assert.deepEqual((await c.next()).params, { subscription: id, result: "later" });
  // A second subscription has a different id.
  const second = (await c.call("test_subscribe", [], 2)).result;
  assert.notEqual(second, id);
});

test("subscription in a batch is held until the batch response is written", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  c.send([
    { jsonrpc: "2.0", id: 1, method: "test_subscribe", params: [] },
    { jsonrpc: "2.0", id: 2, method: "echo", params: [] },
  ]);
  const batch = await c.next();
  assert.ok(Array.isArray(batch));
  assert.equal((await c.next()).params.result.n, 1);
});

test("a call that fails after subscribing closes the sink and sends nothing", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  assert.equal((await c.call("test_subscribe", ["fail"], 1)).error.code, -32000);
  assert.equal(opened[0].closed, true);
  assert.deepEqual((await c.call("echo", ["next"], 2)).result, ["next"]); // no notification slipped in between
});

test("unsubscribe: default handler, aliases, unknown ids, onClose", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port, server } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  const id = (await c.call("test_subscribe", [], 1)).result;
  await c.next();
  await c.next();
  const ended = new Promise<void>((resolve) => opened[0].onClose(resolve));
  assert.deepEqual(await c.call("test_unsubscribe", [id], 2), { jsonrpc: "2.0", id: 2, result: true });
  await ended;
  assert.equal(opened[0].closed, true);
  opened[0].notify("ignored after close");
  assert.deepEqual(await c.call("test_unsubscribe", [id], 3), { jsonrpc: "2.0", id: 3, result: false });
  assert.equal((await c.call("test_unsubscribe", [], 4)).error.code, -32602);
  // The alias resolves to the unsubscribe method.
  const id2 = (await c.call("test_subscribe", [], 5)).result;
  await c.next();
  await c.next();
  assert.equal((await c.call("test_unsubscribeAlias", [id2], 6)).result, true);
  // An unsubscribe method cannot end another connection's subscription.
  const id3 = (await c.call("test_subscribe", [], 7)).result;
  const other = await Client.open(port, t);
  assert.equal((await other.call("test_unsubscribe", [id3], 8)).result, false);
  assert.equal(opened[2].closed, false);
  // onClose registered after the end runs at once.
  let late = false;
  opened[0].onClose(() => (late = true));
  assert.equal(late, true);
  assert.deepEqual(server.methods(), ["echo", "test_subscribe", "test_unsubscribe", "test_unsubscribeAlias"]);
});

test("a registered handler for an unsubscribe name owns it; ctx.subscription finds the sink", async (t) => {
  const { port } = await start(t, (s) => {
    s.register("follow", (_p, ctx) => ctx.subscribe("followEvent", ["unfollow"]).id);
    s.register("unfollow", (p, ctx) => {
      const sink = ctx.subscription(String(p[0]));
      if (sink === undefined) return null;
      sink.notify({ event: "stop" });
      sink.close();
      return null;
    });
  });
  const c = await Client.open(port, t);
  const id = (await c.call("follow", [], 1)).result;
  c.send(call("unfollow", [id], 2));
  assert.deepEqual((await c.next()).params, { subscription: id, result: { event: "stop" } });
  assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: 2, result: null });
});

test("subscription limit per connection", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened), { maxSubscriptionsPerConnection: 2 });
  const c = await Client.open(port, t);
  const a = (await c.call("test_subscribe", [], 1)).result;
  await c.next();
  await c.next();
  (await c.call("test_subscribe", [], 2)).result;
  await c.next();
  await c.next();
  const third = await c.call("test_subscribe", [], 3);
  assert.equal(third.error.code, RPC_ERROR_CODE.tooManySubscriptions);
  // Freed slots can be reused; other connections have their own budget.
  assert.equal((await c.call("test_unsubscribe", [a], 4)).result, true);
  assert.equal(typeof (await c.call("test_subscribe", [], 5)).result, "string");
  const other = await Client.open(port, t);
  assert.equal(typeof (await other.call("test_subscribe", [], 6)).result, "string");
});

test("subscribing over HTTP is an error", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened));
  const r = JSON.parse((await post(port, call("test_subscribe", []))).body);
  assert.equal(r.error.code, RPC_ERROR_CODE.internalError);
  assert.match(r.error.message, /WebSocket/);
  assert.equal(opened.length, 0);
});

test("closing the connection closes its subscriptions (onClose fires)", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  await c.call("test_subscribe", [], 1);
  await c.call("test_subscribe", [], 2);
  const ended = opened.map((sink) => new Promise<void>((resolve) => sink.onClose(resolve)));
  c.ws.close();
  await Promise.all(ended);
  assert.ok(opened.every((s) => s.closed));
});

test("a client that lets notifications pile up is disconnected with 1008", async (t) => {
  let sink: SubscriptionSink | undefined;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { port, logger } = await start(
    t,
    (s) =>
      s.register("flood", async (_p, ctx) => {
        sink = ctx.subscribe("flood_event", ["flood_unsubscribe"]);
        await gate; // hold the response back so every notification stays queued
        return sink.id;
      }),
    { maxPendingNotificationsPerConnection: 5 },
  );
  const c = await Client.open(port, t);
  c.send(call("flood", []));
  // Wait until the handler has subscribed: the call below is answered after the subscribe call started.
  await c.call("echo", [], 2);
  assert.ok(sink);
  const ended = new Promise<void>((resolve) => sink!.onClose(resolve));
  for (let i = 0; i < 6; i++) sink.notify(i);
  await ended;
  release();
  assert.equal((await c.closed).code, 1008);
  assert.ok(logger.entries.some((e) => e.level === "warn" && /too slow/.test(e.msg)));
});

// ---------------------------------------------------------------- connections

test("connections over maxConnections are refused: ws close 1013, HTTP 503", async (t) => {
  const { port } = await start(t, () => {}, { maxConnections: 2 });
  const a = await Client.open(port, t);
  const b = await Client.open(port, t);
  const refused = await Client.open(port, t);
  assert.equal((await refused.closed).code, 1013);
  assert.equal((await post(port, call("echo"))).status, 503);
  assert.deepEqual((await a.call("echo", [1])).result, [1]);
  assert.deepEqual((await b.call("echo", [2])).result, [2]);
});

test("clients that trickle their headers or body lose their connection slot in seconds", { timeout: 30_000 }, async (t) => {
  const { port } = await start(t, () => {}, { maxConnections: 2, headersTimeoutMs: 500, requestTimeoutMs: 1000 });
  const trickle = (head: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => {
        s.write(head);
        const timer = setInterval(() => s.writable && s.write(head.startsWith("POST") ? "x" : "x-slow: 1\r\n"), 100);
        s.once("close", () => clearInterval(timer));
        resolve(s);
      });
      s.on("error", reject);
    });
  const headers = await trickle("POST / HTTP/1.1\r\nhost: node\r\n");
  const body = await trickle("POST / HTTP/1.1\r\nhost: node\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n");
  t.after(() => {
    headers.destroy();
    body.destroy();
  });
  assert.equal((await post(port, call("echo"))).status, 503, "both slots are held");
  await Promise.all([headers, body].map((s) => new Promise((resolve) => (s.destroyed ? resolve(undefined) : s.once("close", resolve)))));
  const r = await post(port, call("echo", [7]));
  assert.equal(r.status, 200);
});

test("close() ends WebSocket clients with 1001 and their subscriptions", async (t) => {
  const opened: SubscriptionSink[] = [];
  const { port, server } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  await c.call("test_subscribe", [], 1);
  await server.close();
  assert.equal((await c.closed).code, 1001);
  assert.equal(opened[0].closed, true);
});

test("limits are validated and register rejects duplicates", () => {
  assert.throws(() => new RpcServer({ port: 0, limits: { maxConnections: 0 } }), RangeError);
  const s = new RpcServer({ port: 0 });
  s.register("a_b", () => 1);
  assert.throws(() => s.register("a_b", () => 2));
  assert.throws(() => s.register("has space", () => 2));
  assert.equal(s.limits.maxRequestBytes, 15 * 1024 * 1024);
});

// ---------------------------------------------------------------- fuzz

const FUZZ_MESSAGES = 1000;

function garbage(next: () => number): { text?: string; bytes?: Buffer } {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const valid = () => ({ jsonrpc: "2.0", id: int(1000), method: pick(["echo", "nope", "test_unsubscribe", ""]), params: [int(9)] });
  switch (int(12)) {
    case 0: {
      const bytes = Buffer.alloc(int(200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
      return { bytes };
    }
    case 1: {
      let s = "";
      const n = int(100);
      for (let i = 0; i < n; i++) s += String.fromCharCode(int(0x10000));
      return { text: s };
    }
    case 2: {
      const depth = 1 + int(100_000);
      return { text: pick(["[", "{\"a\":"]).repeat(depth) + (next() < 0.5 ? "1" + "]".repeat(depth) : "") };
    }
    case 3:
      return { text: `{"jsonrpc":"2.0","id":${pick(["1e400", "-1e400", "123456789012345678901234567890", "0.5", "true", "[]", "{}"])},"method":"echo"}` };
    case 4: {
      const s = JSON.stringify(valid());
      return { text: s.slice(0, int(s.length)) };
    }
    case 5: {
      const s = JSON.stringify(valid()).split("");
      for (let i = 0; i < 3; i++) s[int(s.length)] = pick(["{", "}", "\"", ",", ":", "\\", "\u0000", "[", "é"]);
      return { text: s.join("") };
    }
    case 6:
      return { text: JSON.stringify(Array.from({ length: int(300) }, () => (next() < 0.5 ? valid() : int(5)))) };
    case 7:
      return { text: JSON.stringify({ ...valid(), params: pick([{ a: 1 }, "s", 5, null, [[[[]]]], [1e308]]) }) };
    case 8:
      return { text: JSON.stringify({ ...valid(), jsonrpc: pick(["2", 2, null, "2.0 "]) }) };
    case 9:
      return { text: JSON.stringify({ ...valid(), method: pick(["constructor", "__proto__", "toString", "hasOwnProperty", "x".repeat(10_000)]) }) };
    case 10:
      return { text: pick(["", " ", "null", "true", "0", "\"str\"", "[[]]", "[null]", "{}", "[{}]"]) };
    default:
      return { text: JSON.stringify(valid()) };
  }
}

test(`server keeps serving after ${FUZZ_MESSAGES} garbage messages (seeded)`, async (t) => {
  const seed = Number(process.env.RPC_FUZZ_SEED ?? 0x5eed_1234);
  t.diagnostic(`RPC fuzz seed ${seed} (replay with RPC_FUZZ_SEED=${seed})`);
  const next = rng(seed);
  const opened: SubscriptionSink[] = [];
  const { port, logger } = await start(t, (s) => subscribeMethods(s, opened));
  const c = await Client.open(port, t);
  for (let i = 0; i < FUZZ_MESSAGES; i++) {
    const g = garbage(next);
    // Raw bytes go in binary frames: invalid UTF-8 in a text frame rightly fails the connection (1007).
    if (g.bytes !== undefined) c.ws.send(g.bytes, { binary: true });
    else c.send(g.text ?? "");
    // A tenth also goes over HTTP, and a few raw bytes straight at the TCP port.
    if (i % 10 === 0) {
      const reply = await post(port, g.bytes ?? g.text ?? "");
      assert.ok([200, 204].includes(reply.status), `seed ${seed} message ${i}: HTTP ${reply.status}`);
    }
    if (i % 100 === 0) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => socket.end(g.bytes ?? Buffer.from(g.text ?? "")));
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.resume();
      });
    }
  }
  // The same connection still answers, after all the garbage answers before it.
  c.send(call("echo", ["alive"], "final"));
  let reply: Json;
  do reply = await c.next();
  while (Array.isArray(reply) || reply.id !== "final");
  assert.deepEqual(reply.result, ["alive"], `seed ${seed}`);
  assert.deepEqual(JSON.parse((await post(port, call("echo", ["alive"]))).body).result, ["alive"]);
  assert.equal(logger.entries.filter((e) => e.level === "error").length, 0, `seed ${seed}: no handler crashed`);
});
