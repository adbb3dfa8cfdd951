/**
 * pRuntime's HTTP API (docs/interfaces.md, "pRuntime HTTP API" and "Contracts"). JSON
 * everywhere except the SCALE bodies of /sync, /query and /queries (and the SCALE answers of the last two). Bodies are bounded, every request gets an answer, bad input gets a
 * 4xx `{ error: { code, message } }`, and nothing a client sends can crash the server.
 * The handlers only translate: state lives in PruntimeCore, whose calls are synchronous (a query
 * batch yields only between its queries), so no request observes another half-done.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { HexError, fromHex, toHex } from "@phala-ts/primitives";
import { ENDPOINT_BYTES_MAX, SignedMessage, WorkerRegistrationInfo, registrationReportData } from "@phala-ts/runtime/phala";
import { encodeEvidence, type AttestationProvider } from "@phala-ts/attestation";
import { PruntimeError, SyncError, httpStatusOf } from "./errors.ts";
import { limitConnections, resolveListenerLimits, serverDeadlineOptions, type ConnectionCounts, type ListenerLimits } from "./listener-limits.ts";
import { QueryScheduler, laneOfQuery, sourceOfAddress } from "./query-scheduler.ts";
import { decodeQueryBatch } from "./queries.ts";
import { decodeSyncBatch } from "./light-client.ts";
import { JSON_BODY_BYTES_MAX, QUERY_BATCH_BODY_BYTES_MAX, QUERY_BODY_BYTES_MAX, SYNC_BODY_BYTES_MAX } from "./limits.ts";
import type { Logger } from "./logger.ts";
import type { PruntimeCore } from "./pruntime.ts";
import { PRUNTIME_VERSION } from "./version.ts";

export interface HttpApiModules {
  core: PruntimeCore;
  attestation: AttestationProvider;
  logger: Logger;
  /** Where queries wait for their turn; one per pRuntime, shared by its listeners. A server makes its own without one. */
  queries?: QueryScheduler;
}

/** Seconds a client refused with 429/503 should wait before it retries. */
const RETRY_AFTER_SECONDS = 1;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A binary answer (SCALE), as opposed to the JSON every other route returns. */
class BinaryBody {
  constructor(readonly bytes: Uint8Array) {}
}

function sendBytes(res: ServerResponse, bytes: Uint8Array): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
  res.end(bytes);
}

function sendError(res: ServerResponse, e: PruntimeError): void {
  const status = httpStatusOf(e.code);
  if ((status === 429 || status === 503) && !res.headersSent) res.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
  sendJson(res, status, { error: { code: e.code, message: e.message } });
}

/** Bytes of request bodies a listener is receiving at once, against its bodyBytesInFlightMax. */
interface BodyBudget {
  used: number;
  readonly max: number;
}

/**
 * Reads a body of at most `max` bytes. While it arrives it holds its declared length (or what
 * arrived, without one) of the listener's `budget`, so slow senders together cannot make the
 * process buffer more than the budget; past it the request gets 503 SERVER_BUSY.
 */
function readBody(req: IncomingMessage, max: number, budget: BodyBudget): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new PruntimeError("BODY_TOO_LARGE", `request body exceeds ${max} bytes; send smaller batches`);
    const busy = () => new PruntimeError("SERVER_BUSY", "this pRuntime is receiving too many request bodies at once; retry in a moment");
    let reserved = 0;
    const reserve = (bytes: number): boolean => {
      if (bytes <= reserved) return true;
      if (budget.used + bytes - reserved > budget.max) return false;
      budget.used += bytes - reserved;
      reserved = bytes;
      return true;
    };
    const release = () => {
      budget.used -= reserved;
      reserved = 0;
    };
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) {
      reject(tooLarge());
      return;
    }
    if (Number.isFinite(declared) && !reserve(declared)) {
      reject(busy());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: PruntimeError) => {
      done = true;
      chunks.length = 0;
      release();
      reject(e);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) fail(tooLarge());
      else if (!reserve(size)) fail(busy());
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      release();
      const body = Buffer.concat(chunks, size);
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    });
    req.on("error", (e) => {
      if (done) return;
      fail(new PruntimeError("BAD_REQUEST", "the request body could not be read", { cause: e }));
    });
    // A client that goes away mid-body leaves nothing waiting behind it.
    req.on("close", () => {
      if (done) return;
      fail(new PruntimeError("BAD_REQUEST", "the client closed the connection before sending the whole body"));
    });
  });
}

function hexParam(value: unknown, what: string, length?: number): Uint8Array {
  if (typeof value !== "string") throw new PruntimeError("BAD_REQUEST", `${what} must be a hex string`);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch (e) {
    if (e instanceof HexError) throw new PruntimeError("BAD_REQUEST", `${what} is not valid hex: ${e.message}`);
    throw e;
  }
  if (length !== undefined && bytes.length !== length) throw new PruntimeError("BAD_REQUEST", `${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function parseJson(body: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new PruntimeError("BAD_REQUEST", "the body is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new PruntimeError("BAD_REQUEST", "the body must be a JSON object");
  return v as Record<string, unknown>;
}

export function pruntimeInfo(core: PruntimeCore, tee: string): Record<string, unknown> {
  const s = core.status();
  return {
    version: PRUNTIME_VERSION,
    identityKey: toHex(core.keys.identityPublicKey),
    ecdhKey: toHex(core.keys.ecdhPublicKey),
    initialized: s.initialized,
    genesisHash: s.genesisHash ? toHex(s.genesisHash) : null,
    syncedHeight: s.syncedHeight,
    syncedHash: s.syncedHash ? toHex(s.syncedHash) : null,
    role: s.role,
    registered: s.registered,
    masterPubkey: s.masterPubkey ? toHex(s.masterPubkey) : null,
    holdsMasterKey: s.holdsMasterKey,
    rotationId: s.rotationId,
    tee,
    egressPending: s.egressPending,
    beaconMismatches: s.beaconMismatches,
    egressConflicts: s.egressConflicts,
    gatekeeperSequence: Number(s.gatekeeperSequence),
    clusters: core.clusters().map((c) => ({ id: toHex(c.id), holdsKey: c.holdsKey })),
  };
}

/** `GET /contracts/<id>` and `GET /contracts/<id>/results/<commandId>`. */
function contractRoute(core: PruntimeCore, path: string): unknown {
  const parts = path.split("/");
  // ["", "contracts", id] or ["", "contracts", id, "results", commandId]
  if (parts.length === 3 || (parts.length === 5 && parts[3] === "results")) {
    const contract = hexParam(parts[2], "the contract id", 32);
    if (parts.length === 5) {
      const commandId = hexParam(parts[4], "the command id", 32);
      const result = core.commandResult(contract, commandId);
      if (result === undefined) {
        throw new PruntimeError("NOT_FOUND", "this worker has no result for this command: it has not executed it yet, does not run the contract, or dropped it as too old");
      }
      return { result: toHex(result) };
    }
    const info = core.contractInfo(contract);
    if (info === undefined) throw new PruntimeError("NOT_FOUND", "no such contract (or this worker has not synced its instantiation yet)");
    return {
      cluster: toHex(info.cluster),
      codeHash: toHex(info.codeHash),
      deployer: toHex(info.deployer),
      running: info.running,
      stateHash: info.stateHash === undefined ? null : toHex(info.stateHash),
      commands: Number(info.commands),
      storageItems: info.storageItems,
      storageBytes: info.storageBytes,
    };
  }
  throw new PruntimeError("NOT_FOUND", `no such endpoint ${path}`);
}

/**
 * A batch's lane (its first query's) and cost (its length), for the query queue. A body that is
 * no batch is queued as one query and refused by the batch's own checks in its turn, so it gets
 * the same answer as without the queue (NOT_INITIALIZED before BAD_REQUEST).
 */
function batchShape(body: Uint8Array): { lane: string; cost: number } {
  try {
    const items = decodeQueryBatch(body);
    return { lane: laneOfQuery(items[0]), cost: items.length };
  } catch (e) {
    if (e instanceof PruntimeError && e.code === "BAD_REQUEST") return { lane: "", cost: 1 };
    throw e;
  }
}

type Route = (req: IncomingMessage, url: URL) => Promise<unknown>;

/**
 * Routes for users (besides `/contracts/…`): the SDK's queries and result reads, and the
 * worker's status. They answer any origin (CORS), so dApp pages can call them, and they are all
 * a public listener serves. The rest is for the worker's own pHost and operator: browsers get no
 * CORS grant for them, so a web page cannot drive them.
 */
const BROWSER_ROUTES = new Set(["/health", "/info", "/query", "/queries"]);
/** How long a browser may reuse a preflight answer. */
const CORS_MAX_AGE_SECONDS = 600;

/**
 * Which routes a listener serves: "operator" serves everything (pHost's sync, registration,
 * endpoint signing and egress, besides the public routes) and must stay private; "public" serves
 * only what users and their browsers need, so a worker can face the internet without letting
 * strangers register it under their own operator account or sign endpoints for their URLs.
 */
export type ApiScope = "operator" | "public";

/** A listener and what its connection limits counted. */
export type PruntimeServer = Server & { readonly connectionCounts: ConnectionCounts };

/**
 * The HTTP server of one listener. `limits` bound its connections and deadlines (listener-limits.ts);
 * the operator listener is usually given no per-source bound, since pHost and the operator's
 * tools all come from one address.
 */
export function createPruntimeServer(modules: HttpApiModules, scope: ApiScope = "operator", limits: Partial<ListenerLimits> = {}): PruntimeServer {
  const { core, attestation } = modules;
  const log = modules.logger;
  const resolved = resolveListenerLimits(limits);
  const bodies: BodyBudget = { used: 0, max: resolved.bodyBytesInFlightMax };
  const queries = modules.queries ?? new QueryScheduler();
  const sourceOf = (req: IncomingMessage) => sourceOfAddress(req.socket.remoteAddress);
  // Nobody waits for the answer any more: the connection is gone.
  const abandonedBy = (req: IncomingMessage) => () => req.socket.destroyed;

  const routes: Record<string, { method: "GET" | "POST"; handle: Route }> = {
    "/health": {
      method: "GET",
      handle: async () => {
        // A pRuntime that must restart is not healthy: pendingEgress() throws its failure.
        core.pendingEgress();
        return { ok: true, syncedHeight: core.status().syncedHeight };
      },
    },
    "/info": { method: "GET", handle: async () => pruntimeInfo(core, attestation.tee) },
    "/init": {
      method: "POST",
      handle: async (req) => {
        const body = parseJson(await readBody(req, JSON_BODY_BYTES_MAX, bodies));
        core.init(hexParam(body.genesisHeader, "genesisHeader"));
        return pruntimeInfo(core, attestation.tee);
      },
    },
    "/registration": {
      method: "GET",
      handle: async (_req, url) => {
        const op = url.searchParams.get("operator");
        const operator = op === null || op === "" ? undefined : hexParam(op, "operator", 32);
        const info = core.registrationInfo(operator);
        let evidence;
        try {
          evidence = await attestation.getEvidence(registrationReportData(info));
        } catch (e) {
          throw new PruntimeError("ATTESTATION_FAILED", `the ${attestation.tee} attestation provider failed: ${(e as Error).message}`, { cause: e });
        }
        return { info: toHex(WorkerRegistrationInfo.codec.enc(info)), evidence: toHex(encodeEvidence(evidence)) };
      },
    },
    "/sync": {
      method: "POST",
      handle: async (req) => {
        const body = await readBody(req, SYNC_BODY_BYTES_MAX, bodies);
        const result = await core.sync(decodeSyncBatch(body));
        return { syncedHeight: result.height, syncedHash: toHex(result.hash) };
      },
    },
    "/query": {
      method: "POST",
      handle: async (req) => {
        const body = await readBody(req, QUERY_BODY_BYTES_MAX, bodies);
        const answer = await queries.submit({ source: sourceOf(req), lane: laneOfQuery(body), cost: 1, bytes: body.length, abandoned: abandonedBy(req), run: () => core.query(body) });
        return new BinaryBody(answer);
      },
    },
    "/queries": {
      method: "POST",
      handle: async (req) => {
        const body = await readBody(req, QUERY_BATCH_BODY_BYTES_MAX, bodies);
        const shape = batchShape(body);
        const answer = await queries.submit({
          source: sourceOf(req),
          lane: shape.lane,
          cost: shape.cost,
          bytes: body.length,
          abandoned: abandonedBy(req),
          run: () => core.queryBatch(body),
        });
        return new BinaryBody(answer);
      },
    },
    "/egress": {
      method: "GET",
      handle: async () => ({ messages: core.pendingEgress().map((m) => toHex(SignedMessage.codec.enc(m))) }),
    },
    "/endpoint": {
      method: "GET",
      handle: async (_req, url) => {
        const endpoint = url.searchParams.get("url");
        // No longer than the chain stores: a longer one would be signed only to fail on chain.
        if (endpoint === null || endpoint.length === 0 || Buffer.byteLength(endpoint) > ENDPOINT_BYTES_MAX) {
          throw new PruntimeError("BAD_REQUEST", `url must be given, 1..${ENDPOINT_BYTES_MAX} bytes of UTF-8 (the chain stores no longer endpoint)`);
        }
        const signed = core.signEndpoint(endpoint);
        return { payload: toHex(signed.encoded), signature: toHex(signed.signature) };
      },
    },
  };

  const server = createServer(serverDeadlineOptions(resolved), (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://pruntime");
    } catch {
      sendError(res, new PruntimeError("BAD_REQUEST", "the request URL does not parse"));
      return;
    }
    const contracts = url.pathname.startsWith("/contracts/");
    const route = contracts
      ? { method: "GET" as const, handle: async () => contractRoute(core, url.pathname) }
      : Object.hasOwn(routes, url.pathname)
        ? routes[url.pathname]
        : undefined;
    const isPublic = contracts || BROWSER_ROUTES.has(url.pathname);
    if (isPublic) {
      res.setHeader("access-control-allow-origin", "*");
      if (req.method === "OPTIONS" && route !== undefined) {
        res.writeHead(204, {
          "access-control-allow-methods": `${route.method}, OPTIONS`,
          "access-control-allow-headers": "content-type, accept",
          "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
        });
        res.end();
        return;
      }
    }
    const run = async (): Promise<unknown> => {
      if (route === undefined) throw new PruntimeError("NOT_FOUND", `no such endpoint ${url.pathname}`);
      if (scope === "public" && !isPublic) throw new PruntimeError("NOT_FOUND", `${url.pathname} is served on the worker's operator port only, not on its public one`);
      if (req.method !== route.method) throw new PruntimeError("METHOD_NOT_ALLOWED", `${url.pathname} takes ${route.method}`);
      return route.handle(req, url);
    };
    run().then(
      (body) => (body instanceof BinaryBody ? sendBytes(res, body.bytes) : sendJson(res, 200, body)),
      (e: unknown) => {
        if (e instanceof PruntimeError) {
          if (e instanceof SyncError) log.warn("sync batch refused", { code: e.code, reason: e.message });
          else if (httpStatusOf(e.code) >= 500) log.error("request failed", { path: url.pathname, code: e.code, reason: e.message });
          // The rest of the body is not read: the connection cannot carry another request.
          if (e.code === "BODY_TOO_LARGE" || e.code === "SERVER_BUSY") res.setHeader("connection", "close");
          sendError(res, e);
          return;
        }
        // A bug, not bad input: say so without details (they could carry state).
        log.error("unexpected error handling a request", { path: url.pathname, error: (e as Error)?.stack ?? String(e) });
        sendError(res, new PruntimeError("INTERNAL", "internal error; see the pRuntime log"));
      },
    );
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Node reports a request past its header or request deadline as a client error too.
    const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    const status = timedOut ? "408 Request Timeout" : "400 Bad Request";
    // Closed once the answer is out: a client that trickles bytes must not keep the socket open.
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  });
  const connectionCounts = limitConnections(server, resolved);
  return Object.assign(server, { connectionCounts });
}
