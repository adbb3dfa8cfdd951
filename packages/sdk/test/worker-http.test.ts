/**
 * Worker HTTP against a real server, through both transports: the Node default (keep-alive
 * node:http) and a WHATWG fetch, which browsers use. Both must give the same answers and the
 * same errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { platformFetch } from "#worker-http";
import { postQuery } from "../src/worker-client.ts";
import { PhalaSdkError } from "../src/errors.ts";
import { WORKER_RESPONSE_BYTES_MAX } from "../src/limits.ts";
import type { FetchLike } from "../src/worker-http/types.ts";

const TRANSPORTS: Array<[string, FetchLike]> = [
  ["node:http (default on Node)", platformFetch()],
  ["WHATWG fetch", (input, init) => fetch(input, init)],
];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  let connections = 0;
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    connections: () => connections,
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
}
