/**
 * Limits of pRuntime's HTTP listeners, so that no client can hold the port: connections in
 * total and per source address, and deadlines for each part of a request. Excess connections
 * are closed at accept, before any HTTP parsing, which is the cheapest refusal there is.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { sourceOfAddress } from "./query-scheduler.ts";

/**
 * Open connections per listener. An idle connection costs a file descriptor and a few KiB of
 * memory (about 6 KiB of RSS each, measured with 2,000 open in listener-limits.test.ts); 2048 is far
 * above what the SDK and pHost open, and below the 4096 descriptors most systems allow a
 * service. Keep `ulimit -n` above this, or accept() fails before the limit is reached.
 */
export const CONNECTIONS_MAX = 2048;
/**
 * Open connections from one address (one IPv6 /64) on the public listener. A browser opens at
 * most 6 per host; 64 leaves room for a NAT or an office. Behind a reverse proxy every client
 * has the proxy's address: raise this (or let the proxy enforce it).
 */
export const CONNECTIONS_PER_SOURCE_MAX = 64;
/**
 * Time to send a request's headers, from the connect (or, on a kept-alive connection, from the
 * request's first byte): a few hundred bytes, so a client still sending them after 10 s is
 * trickling them (Node's default is 60 s).
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Time to send a whole request, headers and body. The largest body is a 64 MiB /sync batch
 * from pHost on the same host (well under a second); public bodies are at most ~2 MiB, which
 * fits 30 s even at 100 KB/s. Past it the client gets 408 and the connection closes.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Bytes of request bodies one listener receives at once (each request holds its declared
 * length while its body arrives). Without it, connections × largest body is the bound:
 * 2048 × 2 MiB of query batches on the public port, 4 GiB. 256 MiB holds four /sync batches
 * of the largest size, or 128 largest query batches, at once.
 */
export const BODY_BYTES_IN_FLIGHT_MAX = 256 * 1024 * 1024;
/** How long an idle keep-alive connection stays open after a response (Node's default, made explicit). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often the server looks for requests past their header or request deadline: the deadlines' precision. */
export const DEADLINE_CHECK_INTERVAL_MS = 1_000;

export interface ListenerLimits {
  connectionsMax: number;
  /** Per source address (IPv6: per /64). Infinity turns it off (the operator listener). */
  connectionsPerSourceMax: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  bodyBytesInFlightMax: number;
}

export const DEFAULT_LISTENER_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  connectionsMax: CONNECTIONS_MAX,
  connectionsPerSourceMax: CONNECTIONS_PER_SOURCE_MAX,
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  bodyBytesInFlightMax: BODY_BYTES_IN_FLIGHT_MAX,
});

/** Fills in defaults; throws RangeError for a limit that is not a positive integer (Infinity allowed per source). */
export function resolveListenerLimits(partial: Partial<ListenerLimits> = {}): ListenerLimits {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS };
  for (const key of Object.keys(DEFAULT_LISTENER_LIMITS) as (keyof ListenerLimits)[]) {
    const value = partial[key];
    if (value === undefined) continue;
    const unbounded = key === "connectionsPerSourceMax" && value === Infinity;
    if (!unbounded && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new RangeError(`listener limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new RangeError(`requestTimeoutMs (${limits.requestTimeoutMs}) must be at least headersTimeoutMs (${limits.headersTimeoutMs})`);
  }
  return limits;
}

/** Options for `http.createServer` that carry the deadlines (the check interval can only be set there). */
export function serverDeadlineOptions(limits: ListenerLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS,
  };
}

/** What a listener's connection limits did, for /info-style status and for tests to wait on. */
export class ConnectionCounts {
  /** Connections open now. */
  open = 0;
  /** Connections closed at accept because the listener was full. */
  refusedTotal = 0;
  /** Connections closed at accept because their source had too many open. */
  refusedPerSource = 0;
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

/**
 * Installs the connection limits on `server` (before it listens). The deadlines are Node's
 * (serverDeadlineOptions): a connection that sends nothing, or trickles its headers, gets 408
 * once headersTimeout passes since it connected; one that trickles its body, once
 * requestTimeout passes (checked every DEADLINE_CHECK_INTERVAL_MS).
 */
export function limitConnections(server: Server, limits: ListenerLimits): ConnectionCounts {
  const counts = new ConnectionCounts();
  // Node closes the accepted handle itself past this, before creating a socket object.
  server.maxConnections = limits.connectionsMax;
  server.on("drop", () => {
    counts.refusedTotal += 1;
    counts.changed();
  });
  const perSource = new Map<string, number>();
  // Before the HTTP machinery sees the socket, so a refused one is closed before any parsing.
  server.prependListener("connection", (socket: Socket) => {
    const source = sourceOfAddress(socket.remoteAddress);
    const open = perSource.get(source) ?? 0;
    if (open >= limits.connectionsPerSourceMax) {
      counts.refusedPerSource += 1;
      socket.destroy();
      counts.changed();
      return;
    }
    perSource.set(source, open + 1);
    counts.open += 1;
    socket.once("close", () => {
      counts.open -= 1;
      const left = (perSource.get(source) ?? 1) - 1;
      if (left === 0) perSource.delete(source);
      else perSource.set(source, left);
      counts.changed();
    });
    counts.changed();
  });
  return counts;
}
