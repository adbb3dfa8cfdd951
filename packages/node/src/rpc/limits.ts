/**
 * Every bound the RPC server enforces. The defaults follow Substrate's
 * `--rpc-*` flags where one exists, so clients tuned for a Substrate node
 * behave the same here.
 */
export interface RpcLimits {
  /** Largest HTTP body or WebSocket message accepted, in bytes. */
  maxRequestBytes: number;
  /** Largest single response or notification sent, in bytes. */
  maxResponseBytes: number;
  /** Open subscriptions one WebSocket connection may hold. */
  maxSubscriptionsPerConnection: number;
  /** Open TCP connections (HTTP keep-alive and WebSocket together). */
  maxConnections: number;
  /** Calls in one JSON-RPC batch. */
  maxBatchLength: number;
  /**
   * Notifications queued for one connection and not yet flushed to the socket
   * (including those held back until their subscription id is sent). A client
   * that falls this far behind is disconnected.
   */
  maxPendingNotificationsPerConnection: number;
  /**
   * Request messages of one WebSocket connection being handled or whose response
   * is not yet flushed. At the limit the server stops reading from that socket
   * (backpressure), so a client that floods requests without reading responses
   * cannot grow server memory.
   */
  maxInFlightRequestsPerConnection: number;
  /**
   * Time a client has to send a request's headers (an HTTP call or a WebSocket upgrade), from
   * its connect or its request's first byte. Past it: 408 and the connection closes.
   */
  headersTimeoutMs: number;
  /** Time a client has to send a whole HTTP request, body included. Past it: 408 and the connection closes. */
  requestTimeoutMs: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  // Substrate's --rpc-max-request-size default: 15 MiB (fits a runtime upgrade extrinsic).
  maxRequestBytes: 15 * MIB,
  // Substrate's --rpc-max-response-size default: 15 MiB (fits state_getMetadata and large storage pages).
  maxResponseBytes: 15 * MIB,
  // Substrate's --rpc-max-subscriptions-per-connection default.
  maxSubscriptionsPerConnection: 1024,
  // Substrate's --rpc-max-connections default.
  maxConnections: 100,
  // Substrate leaves batches unbounded by default; 256 covers polkadot.js batching with room to spare.
  maxBatchLength: 256,
  // A block import notifies every subscription of a connection in the same tick, before any write
  // completes, so this must exceed maxSubscriptionsPerConnection with headroom for bursts.
  maxPendingNotificationsPerConnection: 4096,
  // @polkadot/api and polkadot-api issue a few dozen concurrent calls at start-up; beyond this we only
  // pause reading, never fail a request.
  maxInFlightRequestsPerConnection: 128,
  // Headers are a few hundred bytes: a client still sending them after 10 s is trickling them to
  // hold one of the maxConnections slots (Node's default, 60 s, lets 100 such clients hold them all).
  headersTimeoutMs: 10_000,
  // The largest body (maxRequestBytes, 15 MiB) fits 30 s at 500 KB/s.
  requestTimeoutMs: 30_000,
});

/** How often the server looks for requests past their deadlines: the deadlines' precision. */
export const RPC_DEADLINE_CHECK_INTERVAL_MS = 1_000;

/** Fills in defaults and checks every limit is a positive integer. */
export function resolveRpcLimits(partial: Partial<RpcLimits> = {}): RpcLimits {
  const limits: RpcLimits = { ...DEFAULT_RPC_LIMITS };
  for (const key of Object.keys(DEFAULT_RPC_LIMITS) as (keyof RpcLimits)[]) {
    const value = partial[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`RPC limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
