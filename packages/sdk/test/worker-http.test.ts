/**
 * Worker HTTP against a real server, through both transports: the Node default (a keep-alive
 * HTTP/1.1 client on node:net) and a WHATWG fetch, which browsers use. Both must give the
 * same answers and the same errors, whatever framing the server picks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { platformFetch } from "#worker-http";
import { postQuery } from "../src/worker-client.ts";
import { PhalaSdkError } from "../src/errors.ts";
import { WORKER_RESPONSE_BYTES_MAX } from "../src/limits.ts";
import type { FetchLike } from "../src/worker-http/types.ts";

const TRANSPORTS: Array<[string, FetchLike]> = [
  ["Node transport (default on Node)", platformFetch()],
  ["WHATWG fetch", (input, init) => fetch(input, init)],
];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  let connections = 0;
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections++;
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    connections: () => connections,
    /** Resolves once every connection open now has closed (e.g. dropped after the keep-alive timeout). */
    allClosed: () => Promise.all([...open].map((socket) => once(socket, "close"))),
    setKeepAliveTimeout: (ms: number) => void (server.keepAliveTimeout = ms),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const isSdkError = (code: string, message?: RegExp) => (e: unknown) => e instanceof PhalaSdkError && e.code === code && (!message || message.test(e.message));

for (const [name, fetchImpl] of TRANSPORTS) {
  test(`${name}: a query's bytes go out and its answer comes back`, async () => {
    const srv = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        assert.equal(req.method, "POST");
        assert.equal(req.url, "/query");
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(Buffer.concat(chunks).reverse());
      });
    });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await postQuery(`${srv.url}/`, Uint8Array.of(1, 2, 3, i), { fetch: fetchImpl, timeoutMs: 5_000 });
        assert.deepEqual(answer, Uint8Array.of(i, 3, 2, 1));
      }
      // undici may open a second connection before the first is back in its pool.
      if (fetchImpl === TRANSPORTS[0][1]) assert.equal(srv.connections(), 1, "sequential queries reuse one kept-alive connection");
    } finally {
      await srv.close();
    }
  });

  test(`${name}: a worker that never answers, refuses, errs or answers too much gives a clear SDK error`, async () => {
    const silent = await serve(() => {});
    const failing = await serve((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "NOT_SYNCED", message: "still syncing" } }));
    });
    const huge = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(WORKER_RESPONSE_BYTES_MAX + 1));
    });
    try {
      await assert.rejects(postQuery(silent.url, Uint8Array.of(1), { fetch: fetchImpl, timeoutMs: 150 }), isSdkError("WORKER_UNREACHABLE", /did not answer within 150 ms/));
      await assert.rejects(postQuery(failing.url, Uint8Array.of(1), { fetch: fetchImpl, timeoutMs: 5_000 }), (e: unknown) => {
        assert.ok(isSdkError("WORKER_HTTP_ERROR", /HTTP 503: \[NOT_SYNCED\] still syncing/)(e));
        assert.equal((e as PhalaSdkError).details?.status, 503);
        return true;
      });
      await assert.rejects(postQuery(huge.url, Uint8Array.of(1), { fetch: fetchImpl, timeoutMs: 5_000 }), isSdkError("WORKER_BAD_RESPONSE", /over the \d+-byte limit/));
      const port = Number(new URL(silent.url).port);
      await silent.close();
      await assert.rejects(postQuery(`http://127.0.0.1:${port}`, Uint8Array.of(1), { fetch: fetchImpl, timeoutMs: 5_000 }), isSdkError("WORKER_UNREACHABLE", /cannot reach the worker/));
      await assert.rejects(postQuery("ftp://127.0.0.1:1", Uint8Array.of(1), { fetch: fetchImpl, timeoutMs: 5_000 }), isSdkError("WORKER_UNREACHABLE"));
    } finally {
      await Promise.all([silent.close().catch(() => {}), failing.close(), huge.close()]);
    }
  });

  test(`${name}: chunked, close-delimited and connection-closing answers, a stale kept-alive connection, and 100 queries at once`, async () => {
    const echo = (req: IncomingMessage, then: (body: Buffer) => void) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => then(Buffer.concat(chunks)));
    };
    const chunked = await serve((req, res) => echo(req, (body) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(body.subarray(0, 1));
      setTimeout(() => res.end(body.subarray(1)), 5);
    }));
    const closing = await serve((req, res) => echo(req, (body) => {
      res.writeHead(200, { "content-type": "application/octet-stream", connection: "close" });
      res.end(body);
    }));
    chunked.setKeepAliveTimeout(50);
    // HTTP/1.0-style: no length, the answer ends when the connection does.
    const raw = createTcpServer((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\r\n\x07\x08"));
    });
    raw.listen(0, "127.0.0.1");
    await once(raw, "listening");
    const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
    try {
      const q = (url: string, i: number) => postQuery(url, Uint8Array.of(i, 1, 2), { fetch: fetchImpl, timeoutMs: 5_000 });
      assert.deepEqual(await q(chunked.url, 9), Uint8Array.of(9, 1, 2));
      // The server drops the idle connection after 50 ms; the next query still gets through.
      await chunked.allClosed();
      assert.deepEqual(await q(chunked.url, 8), Uint8Array.of(8, 1, 2));
      for (let i = 0; i < 3; i++) assert.deepEqual(await q(closing.url, i), Uint8Array.of(i, 1, 2));
      assert.deepEqual(await q(rawUrl, 0), Uint8Array.of(7, 8));
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => q(chunked.url, i)));
      many.forEach((a, i) => assert.deepEqual(a, Uint8Array.of(i, 1, 2)));
    } finally {
      raw.close();
      await Promise.all([chunked.close(), closing.close()]);
    }
  });
}

test("Node transport: a malformed answer is an error, not a hang or a crash", async () => {
  const answers = ["HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nno-colon-here\r\n\r\n", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"];
  for (const answer of answers) {
    const srv = createTcpServer((socket) => socket.once("data", () => socket.write(answer)));
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      await assert.rejects(postQuery(url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 2_000 }), isSdkError("WORKER_UNREACHABLE", /malformed/));
    } finally {
      srv.close();
    }
  }
});
