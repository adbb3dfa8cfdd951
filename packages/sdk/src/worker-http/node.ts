/**
 * Worker HTTP on Node. Plain `http:` goes over a small HTTP/1.1 client on node:net with
 * keep-alive connections: a query is one small POST and one small answer, and node:http's
 * request machinery (agent, streams, abort plumbing) cost more CPU than the query's own
 * cryptography. `https:` goes through node:https. Chosen by `#worker-http`; a `fetch`
 * passed in the client options replaces it.
 */
import { connect, type Socket } from "node:net";
import type { IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { WORKER_RESPONSE_BYTES_MAX } from "../limits.ts";
import type { FetchLike, ResponseLike, TimedFetch } from "./types.ts";

/** Connections kept open per worker: enough for a burst of parallel queries. */
const SOCKETS_PER_WORKER_MAX = 64;
/** An idle connection is closed before the server's keep-alive timeout (Node's default is 5 s) can race a new request. */
const IDLE_CLOSE_MS = 4000;
/** Bytes of status line and headers accepted in an answer. */
const HEAD_BYTES_MAX = 16 * 1024;
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: SOCKETS_PER_WORKER_MAX });

class HttpProtocolError extends Error {
  constructor(message: string) {
    super(`the worker's HTTP answer is malformed: ${message}`);
    this.name = "HttpProtocolError";
  }
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

function responseOf(status: number, headers: Map<string, string>, body: Buffer): ResponseLike {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
  };
}

interface Exchange {
  resolve(r: ResponseLike): void;
  reject(e: Error): void;
}

/** One keep-alive connection; one exchange at a time. */
class Connection {
  private data: Buffer = Buffer.alloc(0);
  private exchange: Exchange | undefined;
  private receivedAny = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Set once it served an exchange: a failure before any answer byte may be a stale keep-alive. */
  reused = false;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly onIdle: (c: Connection) => void,
    private readonly onClosed: (c: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.onClose());
  }

  send(bytes: Buffer, exchange: Exchange): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.exchange = exchange;
    this.receivedAny = false;
    this.data = Buffer.alloc(0);
    this.socket.ref();
    this.socket.write(bytes);
  }

  /** Whether it failed before any byte of an answer on a connection that had served before. */
  get staleFailure(): boolean {
    return this.reused && !this.receivedAny;
  }

  destroy(reason: Error): void {
    this.fail(reason);
    this.socket.destroy();
  }

  private fail(e: Error): void {
    if (!this.closed) {
      this.closed = true;
      if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
      this.onClosed(this);
    }
    const ex = this.exchange;
    this.exchange = undefined;
    ex?.reject(e);
  }

  /** Hands the answer in the buffer to the exchange once it is complete; a malformed one fails the connection. */
  private answer(atClose: boolean): Parsed | undefined {
    let parsed: Parsed | undefined;
    try {
      parsed = parseResponse(this.data, atClose);
    } catch (e) {
      this.destroy(e as Error);
      return undefined;
    }
    if (parsed === undefined || this.exchange === undefined) return undefined;
    const ex = this.exchange;
    this.exchange = undefined;
    ex.resolve(responseOf(parsed.status, parsed.headers, parsed.body));
    return parsed;
  }

  private onClose(): void {
    // An answer without a length ends with the connection.
    if (this.exchange !== undefined && this.receivedAny) this.answer(true);
    this.fail(named("Error", "the worker closed the connection mid-answer"));
  }

  private onData(chunk: Buffer): void {
    if (this.exchange === undefined) {
      this.destroy(new HttpProtocolError("bytes arrived with no request outstanding"));
      return;
    }
    this.receivedAny = true;
    this.data = this.data.length === 0 ? chunk : Buffer.concat([this.data, chunk]);
    const parsed = this.answer(false);
    if (parsed === undefined) return;
    if (parsed.keepAlive && parsed.end === this.data.length) {
      this.reused = true;
      this.data = Buffer.alloc(0);
      this.socket.unref();
      this.idleTimer = setTimeout(() => this.socket.destroy(), IDLE_CLOSE_MS);
      this.idleTimer.unref();
      this.onIdle(this);
    } else {
      this.socket.destroy();
    }
  }
}

interface Parsed {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** Where the answer ends in the buffer. */
  end: number;
  keepAlive: boolean;
}

/**
 * The first complete final answer in `data`, or undefined until there is one. A body past
 * WORKER_RESPONSE_BYTES_MAX ends the answer there (one byte over is enough for the caller to
 * refuse it) and the connection is not reused.
 */
function parseResponse(data: Buffer, atClose: boolean): Parsed | undefined {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf("\r\n\r\n", start, "latin1");
    if (headEnd < 0) {
      if (data.length - start > HEAD_BYTES_MAX) throw new HttpProtocolError("headers too long");
      return undefined;
    }
    const lines = data.toString("latin1", start, headEnd).split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (m === null) throw new HttpProtocolError(`status line ${JSON.stringify(lines[0].slice(0, 40))}`);
    const status = Number(m[2]);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon <= 0) throw new HttpProtocolError("a header line without a name");
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      const prev = headers.get(name);
      headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
    }
    const bodyStart = headEnd + 4;
    // Interim answers (100 Continue) come before the real one.
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    const connection = (headers.get("connection") ?? "").toLowerCase();
    let keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    const chunked = (headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked");
    const lengthHeader = headers.get("content-length");
    if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0), end: bodyStart, keepAlive };
    if (chunked) {
      const dechunked = dechunk(data, bodyStart);
      if (dechunked === undefined) return undefined;
      if (dechunked.overLimit) keepAlive = false;
      return { status, headers, body: dechunked.body, end: dechunked.end, keepAlive };
    }
    if (lengthHeader !== undefined) {
      if (!/^\d+$/.test(lengthHeader)) throw new HttpProtocolError(`content-length ${JSON.stringify(lengthHeader.slice(0, 20))}`);
      const length = Number(lengthHeader);
      if (length > WORKER_RESPONSE_BYTES_MAX) {
        if (data.length - bodyStart <= WORKER_RESPONSE_BYTES_MAX) return undefined;
        return { status, headers, body: data.subarray(bodyStart, bodyStart + WORKER_RESPONSE_BYTES_MAX + 1), end: data.length, keepAlive: false };
      }
      if (data.length - bodyStart < length) return undefined;
      return { status, headers, body: data.subarray(bodyStart, bodyStart + length), end: bodyStart + length, keepAlive };
    }
    // No length: the body runs to the end of the connection.
    if (data.length - bodyStart > WORKER_RESPONSE_BYTES_MAX) return { status, headers, body: data.subarray(bodyStart, bodyStart + WORKER_RESPONSE_BYTES_MAX + 1), end: data.length, keepAlive: false };
    return atClose ? { status, headers, body: data.subarray(bodyStart), end: data.length, keepAlive: false } : undefined;
  }
}

function dechunk(data: Buffer, from: number): { body: Buffer; end: number; overLimit: boolean } | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at, "latin1");
    if (lineEnd < 0) return undefined;
    const sizeText = data.toString("latin1", at, lineEnd).split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new HttpProtocolError("chunk size");
    const n = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (n === 0) {
      // Trailers, if any, end with an empty line.
      const trailersEnd = data.indexOf("\r\n", at, "latin1");
      if (trailersEnd < 0) return undefined;
      if (trailersEnd === at) return { body: Buffer.concat(parts), end: at + 2, overLimit: false };
      const end = data.indexOf("\r\n\r\n", at, "latin1");
      return end < 0 ? undefined : { body: Buffer.concat(parts), end: end + 4, overLimit: false };
    }
    if (size + n > WORKER_RESPONSE_BYTES_MAX) {
      const take = Math.min(n, WORKER_RESPONSE_BYTES_MAX + 1 - size, data.length - at);
      parts.push(data.subarray(at, at + take));
      if (size + take <= WORKER_RESPONSE_BYTES_MAX) return undefined;
      return { body: Buffer.concat(parts), end: data.length, overLimit: true };
    }
    if (data.length < at + n + 2) return undefined;
    parts.push(data.subarray(at, at + n));
    size += n;
    at += n + 2;
  }
}

/** Keep-alive connections to one host:port. */
class Origin {
  private readonly idle: Connection[] = [];
  private open = 0;
  private readonly waiting: Array<(c: Connection) => void> = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** A connection for one exchange: an idle one, a new one, or the next to free up. */
  acquire(fresh: boolean): Promise<Connection> {
    if (!fresh) {
      const c = this.idle.pop();
      if (c !== undefined) return Promise.resolve(c);
    }
    if (this.open < SOCKETS_PER_WORKER_MAX || fresh) return Promise.resolve(this.connect());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private connect(): Connection {
    this.open++;
    const socket = connect({ host: this.host, port: this.port });
    return new Connection(
      socket,
      (c) => {
        const next = this.waiting.shift();
        if (next !== undefined) next(c);
        else this.idle.push(c);
      },
      (c) => {
        this.open--;
        const i = this.idle.indexOf(c);
        if (i >= 0) this.idle.splice(i, 1);
        const next = this.waiting.shift();
        if (next !== undefined) next(this.connect());
      },
    );
  }
}

const origins = new Map<string, Origin>();

function originOf(url: URL): Origin {
  const port = url.port === "" ? 80 : Number(url.port);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const key = `${host}:${port}`;
  let o = origins.get(key);
  if (o === undefined) {
    o = new Origin(host, port);
    origins.set(key, o);
  }
  return o;
}

function requestBytes(url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined): Buffer {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`header ${JSON.stringify(name)} has a line break or colon in it`);
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += "\r\n";
  const headBytes = Buffer.from(head, "latin1");
  return body === undefined || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);
}

function plainHttp(url: URL, init: NonNullable<Parameters<FetchLike>[1]> = {}): Promise<ResponseLike> {
  const bytes = requestBytes(url, init.method ?? "GET", init.headers ?? {}, init.body);
  const origin = originOf(url);
  const signal = init.signal;
  return new Promise<ResponseLike>((resolve, reject) => {
    let done = false;
    let current: Connection | undefined;
    const finish = (f: () => void): void => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
      f();
    };
    const timer =
      init.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const reason = named("TimeoutError", `no answer within ${init.timeoutMs} ms`);
            finish(() => reject(reason));
            current?.destroy(reason);
          }, init.timeoutMs);
    const onAbort = (): void => {
      const reason = signal?.reason instanceof Error ? signal.reason : named("AbortError", "the request was aborted");
      finish(() => reject(reason));
      current?.destroy(reason);
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener("abort", onAbort);
    const attempt = (fresh: boolean): void => {
      origin.acquire(fresh).then((c) => {
        if (done) {
          c.destroy(named("AbortError", "the request was aborted"));
          return;
        }
        current = c;
        c.send(bytes, {
          resolve: (r) => finish(() => resolve(r)),
          reject: (e) => {
            // A kept-alive connection the server had just closed: once more on a new one.
            if (!fresh && c.staleFailure && !done) attempt(true);
            else finish(() => reject(e));
          },
        });
      }, (e: Error) => finish(() => reject(e)));
    };
    attempt(false);
  });
}

function httpsResponseOf(res: IncomingMessage, body: Buffer): ResponseLike {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  return responseOf(res.statusCode ?? 0, headers, body);
}

function secureHttp(url: URL, init: Parameters<FetchLike>[1] = {}): Promise<ResponseLike> {
  return new Promise<ResponseLike>((resolve, reject) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body) headers["content-length"] = String(init.body.length);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    const req = httpsRequest(url, { method: init.method ?? "GET", headers, agent: httpsAgent, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
        if (size > WORKER_RESPONSE_BYTES_MAX) {
          settle(() => resolve(httpsResponseOf(res, Buffer.concat(chunks))));
          res.destroy();
        }
      });
      res.on("end", () => settle(() => resolve(httpsResponseOf(res, Buffer.concat(chunks)))));
      res.on("error", (e) => settle(() => reject(e)));
      res.on("close", () => settle(() => reject(new Error("the worker closed the connection mid-answer"))));
    });
    req.on("error", (e) => settle(() => reject(e)));
    req.end(init.body);
  });
}

const nodeFetch = Object.assign((input: string, init?: Parameters<FetchLike>[1]): Promise<ResponseLike> => {
  let url: URL;
  try {
    url = new URL(input);
  } catch (e) {
    return Promise.reject(e);
  }
  if (url.protocol === "http:") {
    try {
      return plainHttp(url, init);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  if (url.protocol === "https:") return secureHttp(url, init?.timeoutMs === undefined ? init : { ...init, signal: AbortSignal.timeout(init.timeoutMs) });
  return Promise.reject(new TypeError(`${url.protocol} is not an HTTP address`));
}, { handlesTimeout: true as const }) satisfies TimedFetch;

export function platformFetch(): FetchLike {
  return nodeFetch;
}
