import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { RpcDispatcher, type RpcHandler, type RpcSession } from "./dispatcher.ts";
import { encodeError } from "./encode.ts";
import { oversizedRequest } from "./errors.ts";
import { RPC_DEADLINE_CHECK_INTERVAL_MS, resolveRpcLimits, type RpcLimits } from "./limits.ts";
import { errorFields, NOOP_RPC_LOGGER, type RpcLogger } from "./logger.ts";
import { deniesUnsafe, type RpcMethodsPolicy } from "./rpc-methods.ts";
import { WS_CLOSE, WsConnection } from "./ws-connection.ts";

/** Substrate's default RPC port. */
export const DEFAULT_RPC_PORT = 9944;

/**
 * Sockets over maxConnections still get a polite refusal (HTTP 503, WebSocket close 1013).
 * Past this many refusals in progress at once, extra sockets are dropped without an answer.
 */
const REFUSING_SOCKETS_MAX = 64;

/**
 * An HTTP body over maxRequestBytes is still read to its end (and discarded) up to this many
 * bytes before the 413 is sent: a client that writes its whole body before reading would
 * otherwise get a connection reset instead of the answer, because closing a socket with
 * unread input makes the kernel send RST. Beyond this the 413 goes out at once and the
 * connection closes. 64 MiB is four times the default 15 MiB limit.
 */
const OVERSIZED_BODY_DRAIN_BYTES_MAX = 64 * 1024 * 1024;

export interface RpcServerOptions {
  /** Defaults to 127.0.0.1, like Substrate without --rpc-external. */
  readonly host?: string;
  /** 0 picks a free port; `listen()` returns it. */
  readonly port: number;
  readonly limits?: Partial<RpcLimits>;
  readonly logger?: RpcLogger;
  /** Substrate's --rpc-methods (default auto: unsafe methods only when listening on loopback). */
  readonly methods?: RpcMethodsPolicy;
}

interface SocketState {
  readonly connectionId: number;
  /** False for sockets over maxConnections: their first request is refused. */
  readonly admitted: boolean;
}

/**
 * JSON-RPC 2.0 over WebSocket and HTTP POST on one port, like a Substrate node.
 * It knows nothing about the chain: the node registers methods before `listen()`.
 */
export class RpcServer {
  readonly limits: RpcLimits;
  /** True when Substrate's unsafe methods are refused (--rpc-methods safe, or auto off loopback). */
  readonly denyUnsafe: boolean;
  readonly #host: string;
  readonly #port: number;
  readonly #logger: RpcLogger;
  readonly #dispatcher: RpcDispatcher;
  readonly #sockets = new Map<Duplex, SocketState>();
  readonly #wsConnections = new Set<WsConnection>();
  #http: Server | null = null;
  #wss: WebSocketServer | null = null;
  #closing: Promise<void> | null = null;
  #admitted = 0;
  #refusing = 0;
  #nextConnectionId = 1;
  #nextSubscriptionId = 1;

  constructor(options: RpcServerOptions) {
    assert(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535, `invalid RPC port ${options.port}`);
    this.limits = resolveRpcLimits(options.limits);
    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port;
    this.#logger = options.logger ?? NOOP_RPC_LOGGER;
    this.denyUnsafe = deniesUnsafe(options.methods ?? "auto", this.#host);
    this.#dispatcher = new RpcDispatcher({
      denyUnsafe: this.denyUnsafe,
      maxBatchLength: this.limits.maxBatchLength,
      maxResponseBytes: this.limits.maxResponseBytes,
      logger: this.#logger,
    });
  }

  /** Registers a method, e.g. "chain_getHeader". Names are unique. */
  register(name: string, handler: RpcHandler): void {
    this.#dispatcher.register(name, handler);
  }

  /** `alias` calls whatever `target` resolves to at call time (a method or an unsubscribe name). */
  registerAlias(alias: string, target: string): void {
    this.#dispatcher.registerAlias(alias, target);
  }

  /**
   * Declares an unsubscribe method the server answers itself (params[0] is the id; closes the
   * sink and returns true, or false for an unknown id). `ctx.subscribe` declares its names too;
   * this makes one callable, and listed by `methods()`, before the first subscription.
   * A handler registered under the same name takes precedence.
   */
  registerUnsubscribe(name: string): void {
    this.#dispatcher.registerUnsubscribe(name);
  }

  /** Every callable name, sorted: for rpc_methods. */
  methods(): string[] {
    return this.#dispatcher.methods();
  }

  /** Open TCP connections (HTTP and WebSocket) currently admitted. */
  get connectionCount(): number {
    return this.#admitted;
  }

  async listen(): Promise<{ port: number }> {
    assert(this.#http === null && this.#closing === null, "RpcServer.listen called twice");
    const server = createServer(
      {
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        connectionsCheckingInterval: RPC_DEADLINE_CHECK_INTERVAL_MS,
      },
      (req, res) => this.#onRequest(req, res),
    );
    this.#http = server;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxRequestBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    server.on("connection", (socket: Socket) => this.#onSocket(socket));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.#host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err: Error) => this.#logger.error("rpc server error", errorFields(err)));
    const port = (server.address() as AddressInfo).port;
    this.#logger.info("rpc server listening", { host: this.#host, port, methods: this.denyUnsafe ? "safe" : "unsafe" });
    return { port };
  }

  /** Stops accepting, closes WebSocket clients (1001) and HTTP connections; resolves when all are gone. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const server = this.#http;
    if (server === null) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    const wsClosed = [...this.#wsConnections].map((conn) => {
      conn.close(WS_CLOSE.goingAway, "Server shutting down");
      return conn.closed;
    });
    this.#closing = Promise.all([httpClosed, ...wsClosed]).then(() => {
      this.#wss?.close();
      this.#logger.info("rpc server closed");
    });
    return this.#closing;
  }

  #onSocket(socket: Socket): void {
    const admitted = this.#closing === null && this.#admitted < this.limits.maxConnections;
    if (!admitted && this.#refusing >= REFUSING_SOCKETS_MAX) {
      socket.destroy();
      return;
    }
    const state: SocketState = { connectionId: this.#nextConnectionId++, admitted };
    if (admitted) this.#admitted += 1;
    else {
      this.#refusing += 1;
      this.#logger.warn("rpc connection refused, too many connections", { max: this.limits.maxConnections });
    }
    this.#sockets.set(socket, state);
    socket.on("error", (err: Error) => this.#logger.debug("rpc socket error", { connectionId: state.connectionId, ...errorFields(err) }));
    socket.once("close", () => {
      this.#sockets.delete(socket);
      if (admitted) this.#admitted -= 1;
      else this.#refusing -= 1;
    });
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const state = this.#sockets.get(socket);
    const wss = this.#wss;
    if (state === undefined || wss === null) {
      socket.destroy();
      return;
    }
    // Any path is accepted for WebSocket, as jsonrpsee does.
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (!state.admitted || this.#closing !== null) {
        ws.on("error", (err: Error) => this.#logger.debug("rpc refused ws error", errorFields(err)));
        ws.close(WS_CLOSE.tryAgainLater, "Too many connections");
        return;
      }
      const conn = new WsConnection(ws, {
        connectionId: state.connectionId,
        limits: this.limits,
        dispatcher: this.#dispatcher,
        nextSubscriptionId: () => (this.#nextSubscriptionId++).toString(16).padStart(16, "0"),
        logger: this.#logger,
      });
      this.#wsConnections.add(conn);
      void conn.closed.then(() => this.#wsConnections.delete(conn));
      this.#logger.debug("rpc ws connection opened", { connectionId: conn.id });
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const state = this.#sockets.get(req.socket);
    req.on("error", (err: Error) => this.#logger.debug("rpc http request error", errorFields(err)));
    if (state === undefined || !state.admitted) {
      plain(res, 503, "Too many connections\n", true);
      return;
    }
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/") {
      plain(res, 404, "Not found\n");
      return;
    }
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      plain(res, 405, "Use POST with a JSON-RPC request, or a WebSocket\n");
      return;
    }
    if (!isJsonContentType(req.headers["content-type"])) {
      plain(res, 415, "Content-Type must be application/json\n");
      return;
    }
    const max = this.limits.maxRequestBytes;
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > OVERSIZED_BODY_DRAIN_BYTES_MAX) {
      this.#tooLarge(res);
      return;
    }
    // The body is counted while it streams; past the limit it is discarded, never buffered,
    // and the 413 waits for its end (see OVERSIZED_BODY_DRAIN_BYTES_MAX).
    const chunks: Buffer[] = [];
    let bytes = 0;
    let over = declared !== undefined && Number(declared) > max;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (over) {
        if (bytes > OVERSIZED_BODY_DRAIN_BYTES_MAX) this.#tooLarge(res);
        return;
      }
      if (bytes > max) {
        over = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      if (over) {
        this.#tooLarge(res);
        return;
      }
      this.#respond(Buffer.concat(chunks, bytes).toString("utf8"), state, res);
    });
  }

  #respond(text: string, state: SocketState, res: ServerResponse): void {
    const session: RpcSession = { connectionId: state.connectionId, transport: "http", subscriptions: null };
    this.#dispatcher.handle(text, session).then(
      (result) => {
        result.delivered(false); // nothing to activate: HTTP has no subscriptions
        if (res.writableEnded || res.destroyed) return;
        if (result.response === null) {
          res.writeHead(204).end();
          return;
        }
        json(res, 200, result.response);
      },
      (err: unknown) => {
        this.#logger.error("rpc dispatcher rejected", { connectionId: state.connectionId, ...errorFields(err) });
        if (!res.writableEnded && !res.destroyed) plain(res, 500, "Internal error\n");
      },
    );
  }

  #tooLarge(res: ServerResponse): void {
    if (res.headersSent) return;
    this.#logger.debug("rpc http request too large", { max: this.limits.maxRequestBytes });
    json(res, 413, encodeError(null, oversizedRequest(this.limits.maxRequestBytes)), true);
  }
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(";", 1)[0].trim().toLowerCase() === "application/json";
}

function json(res: ServerResponse, status: number, body: string, closeConnection = false): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    ...(closeConnection ? { Connection: "close" } : {}),
  });
  res.end(body);
}

function plain(res: ServerResponse, status: number, body: string, closeConnection = false): void {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    ...(closeConnection ? { Connection: "close" } : {}),
  });
  res.end(body);
}
