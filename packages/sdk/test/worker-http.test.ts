/**
 * Worker HTTP against a real server, through both transports: the Node default (a keep-alive
 * HTTP/1.1 client on node:net) and a WHATWG fetch, which browsers use. Both must give the
 * same answers and the same errors, whatever framing the server picks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { createServer as createHttpsServer } from "node:https";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { platformFetch } from "#worker-http";
import { REQUESTS_WAITING_PER_WORKER_MAX, SOCKETS_PER_WORKER_MAX } from "../src/worker-http/node.ts";
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
      for (let i = 0; i < 10; i++) {
        const answer = await postQuery(`${srv.url}/`, Uint8Array.of(1, 2, 3, i), { fetch: fetchImpl, timeoutMs: 5_000 });
        assert.deepEqual(answer, Uint8Array.of(i, 3, 2, 1));
      }
      // undici's pool opens a second connection for the second request when the first
      // connection was still new (it counts as busy until its first answer has been handled);
      // after that the kept-alive connections are reused.
      if (fetchImpl === TRANSPORTS[0][1]) assert.ok(srv.connections() <= 2, `sequential queries reuse kept-alive connections (${srv.connections()} opened for 10)`);
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

test("Node transport: a large answer in many small chunks is copied once, not once per chunk", async () => {
  const CHUNK_BYTES = 1024;
  const CHUNKS = 1024;
  const expected = Buffer.alloc(CHUNK_BYTES * CHUNKS);
  for (let i = 0; i < expected.length; i++) expected[i] = i % 251;
  const frames = Array.from({ length: CHUNKS }, (_, i) => Buffer.concat([Buffer.from(`${CHUNK_BYTES.toString(16)}\r\n`), expected.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), Buffer.from("\r\n")]));
  // Each chunk is written after the previous one left, so the client reads the answer piece by piece.
  const srv = createTcpServer((socket) => {
    socket.once("data", async () => {
      const write = (b: Buffer | string) => new Promise<void>((r, j) => socket.write(b, (e) => (e ? j(e) : r())));
      await write("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      for (const frame of frames) await write(frame);
      await write("0\r\n\r\n");
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  // Bytes joined while the answer comes in (the server writes prepared frames): a receive buffer
  // grown by a copy per read joins about reads/2 times the answer.
  let copied = 0;
  const concat = Buffer.concat;
  try {
    Buffer.concat = ((list: readonly Uint8Array[], totalLength?: number) => {
      const out = concat(list, totalLength);
      copied += out.length;
      return out;
    }) as typeof Buffer.concat;
    const answer = await postQuery(url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 20_000 });
    assert.ok(Buffer.from(answer).equals(expected), "the answer arrives whole");
    assert.ok(copied <= 2 * expected.length, `the client copied ${copied} bytes for a ${expected.length}-byte answer`);
  } finally {
    Buffer.concat = concat;
    srv.close();
  }
});

test("Node transport: requests past the bounded queue for a worker's connections are refused at once, and the queued ones still complete", async () => {
  const held: ServerResponse[] = [];
  let release = false;
  let heldAll: () => void;
  const allHeld = new Promise<void>((r) => (heldAll = r));
  const srv = await serve((req, res) => {
    req.resume();
    req.on("end", () => {
      if (release) return void res.end("ok");
      held.push(res);
      if (held.length === SOCKETS_PER_WORKER_MAX) heldAll();
    });
  });
  try {
    const q = () => postQuery(srv.url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 20_000 });
    const queued = Array.from({ length: SOCKETS_PER_WORKER_MAX + REQUESTS_WAITING_PER_WORKER_MAX }, q);
    await allHeld;
    const refused = postQuery(srv.url, Uint8Array.of(2), { fetch: platformFetch(), timeoutMs: 5_000 });
    await assert.rejects(refused, isSdkError("WORKER_UNREACHABLE", /256 more wait for a connection; send fewer at once/));
    release = true;
    for (const res of held) res.end("ok");
    const answers = await Promise.all(queued);
    assert.equal(answers.length, SOCKETS_PER_WORKER_MAX + REQUESTS_WAITING_PER_WORKER_MAX);
    assert.equal(srv.connections(), SOCKETS_PER_WORKER_MAX, "connections to one worker stay bounded");
  } finally {
    await srv.close();
  }
});

test("Node transport: a POST the worker received and then dropped without an answer is not sent again", async () => {
  let posts = 0;
  const srv = await serve((req, res) => {
    posts++;
    req.resume();
    // The first query is answered, so the second goes out on a kept-alive connection.
    req.on("end", () => (posts === 1 ? res.end("ok") : req.socket.destroy()));
  });
  try {
    await postQuery(srv.url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 5_000 });
    const failure = await postQuery(srv.url, Uint8Array.of(2), { fetch: platformFetch(), timeoutMs: 5_000 }).then(
      () => assert.fail("a dropped query has no answer"),
      (e: unknown) => e,
    );
    assert.equal(posts, 2, "the worker got the dropped query exactly once");
    assert.ok(isSdkError("WORKER_UNREACHABLE", /closed before the answer was complete; the request may have reached the worker, so it was not sent again/)(failure), String(failure));
  } finally {
    await srv.close();
  }
});

test("Node transport: an https: worker whose certificate no trusted authority signed gets no request", async () => {
  const fixtures = new URL("./fixtures/", import.meta.url);
  let requests = 0;
  const srv = createHttpsServer({ cert: readFileSync(new URL("self-signed.crt", fixtures)), key: readFileSync(new URL("self-signed.key", fixtures)) }, (_req, res) => {
    requests++;
    res.end("ok");
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  try {
    const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    await assert.rejects(postQuery(url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 5_000 }), isSdkError("WORKER_UNREACHABLE", /cannot reach the worker at https:.*self-signed certificate/));
    assert.equal(requests, 0, "nothing was sent over the unverified connection");
  } finally {
    srv.closeAllConnections();
    srv.close();
  }
});

test("Node transport: 16 queries kept in flight use about 16 connections, not one more per answer", async () => {
  const srv = await serve((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  try {
    let left = 2000;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (left-- > 0) await postQuery(srv.url, Uint8Array.of(1), { fetch: platformFetch(), timeoutMs: 10_000 });
    }));
    // One more than the queries in flight: the first connections count as busy until their first answer is handled.
    assert.ok(srv.connections() <= 18, `${srv.connections()} connections opened for 16 queries in flight`);
  } finally {
    await srv.close();
  }
});
