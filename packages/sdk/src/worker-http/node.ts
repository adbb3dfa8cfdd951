/**
 * Worker HTTP on Node: node:http(s) with keep-alive connections. Node's global fetch (undici)
 * spends about a third of a query's client-side CPU on streams and request cloning; a query
 * is one small POST, which this does in a fraction of that. Chosen by `#worker-http`; a
 * `fetch` passed in the client options replaces it.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { WORKER_RESPONSE_BYTES_MAX } from "../limits.ts";
import type { FetchLike, ResponseLike } from "./types.ts";

/** Connections kept open per worker: enough for a burst of parallel queries. */
const SOCKETS_PER_WORKER_MAX = 64;
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: SOCKETS_PER_WORKER_MAX });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: SOCKETS_PER_WORKER_MAX });

function responseOf(res: IncomingMessage, body: Buffer): ResponseLike {
  const status = res.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      },
    },
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
  };
}

const nodeFetch: FetchLike = (input, init = {}) =>
  new Promise<ResponseLike>((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(input);
    } catch (e) {
      reject(e);
      return;
    }
    const https = url.protocol === "https:";
    if (!https && url.protocol !== "http:") {
      reject(new TypeError(`${url.protocol} is not an HTTP address`));
      return;
    }
    const headers: Record<string, string> = { ...init.headers };
    if (init.body) headers["content-length"] = String(init.body.length);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    const req = (https ? httpsRequest : httpRequest)(url, { method: init.method ?? "GET", headers, agent: https ? httpsAgent : httpAgent, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
        // One byte over the limit is enough for the caller to refuse the answer.
        if (size > WORKER_RESPONSE_BYTES_MAX) {
          settle(() => resolve(responseOf(res, Buffer.concat(chunks))));
          res.destroy();
        }
      });
      res.on("end", () => settle(() => resolve(responseOf(res, Buffer.concat(chunks)))));
      res.on("error", (e) => settle(() => reject(e)));
      res.on("close", () => settle(() => reject(new Error("the worker closed the connection mid-answer"))));
    });
    req.on("error", (e) => settle(() => reject(e)));
    req.end(init.body);
  });

export function platformFetch(): FetchLike {
  return nodeFetch;
}
