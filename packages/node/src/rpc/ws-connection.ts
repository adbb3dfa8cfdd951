import type { WebSocket, RawData } from "ws";
import type { RpcDispatcher, RpcSession } from "./dispatcher.ts";
import { errorFields, type RpcLogger } from "./logger.ts";
import type { RpcLimits } from "./limits.ts";
import { PARSE_ERROR_RESPONSE } from "./message.ts";
import { SubscriptionTable } from "./subscription.ts";

/** RFC 6455 close codes used here. */
export const WS_CLOSE = Object.freeze({
  goingAway: 1001,
  policyViolation: 1008,
  tryAgainLater: 1013,
});

export interface WsConnectionOptions {
  readonly connectionId: number;
  readonly limits: RpcLimits;
  readonly dispatcher: RpcDispatcher;
  readonly nextSubscriptionId: () => string;
  readonly logger: RpcLogger;
}

/**
 * One WebSocket client: runs its messages through the dispatcher, owns its
 * subscriptions, and applies backpressure when too many requests are in flight.
 */
export class WsConnection {
  readonly id: number;
  /** Resolves once the socket is closed and every subscription has ended. */
  readonly closed: Promise<void>;
  readonly #ws: WebSocket;
  readonly #options: WsConnectionOptions;
  readonly #session: RpcSession;
  readonly #subscriptions: SubscriptionTable;
  #inFlight = 0;

  constructor(ws: WebSocket, options: WsConnectionOptions) {
    this.id = options.connectionId;
    this.#ws = ws;
    this.#options = options;
    this.#subscriptions = new SubscriptionTable({
      connectionId: this.id,
      maxSubscriptions: options.limits.maxSubscriptionsPerConnection,
      maxPendingNotifications: options.limits.maxPendingNotificationsPerConnection,
      maxNotificationBytes: options.limits.maxResponseBytes,
      nextId: options.nextSubscriptionId,
      outlet: { send: (text, done) => this.#send(text, done) },
      onOverflow: () => this.close(WS_CLOSE.policyViolation, "Notification queue full"),
      logger: options.logger,
    });
    this.#session = { connectionId: this.id, transport: "ws", subscriptions: this.#subscriptions };
    this.closed = new Promise((resolve) => {
      ws.once("close", (code: number) => {
        this.#subscriptions.closeAll();
        options.logger.debug("rpc ws connection closed", { connectionId: this.id, code });
        resolve();
      });
    });
    ws.on("error", (err: Error) => {
      // ws has already closed the socket with the right code (1009 oversized, 1002 protocol, 1007 bad UTF-8).
      options.logger.debug("rpc ws connection error", { connectionId: this.id, ...errorFields(err) });
    });
    ws.on("message", (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  close(code: number, reason: string): void {
    this.#subscriptions.closeAll();
    if (this.#ws.readyState === this.#ws.CONNECTING || this.#ws.readyState === this.#ws.OPEN) this.#ws.close(code, reason);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      // JSON-RPC travels in text frames; a binary frame is not a request we can parse.
      this.#send(PARSE_ERROR_RESPONSE, () => {});
      return;
    }
    const text = toBuffer(data).toString("utf8");
    this.#inFlight += 1;
    if (this.#inFlight >= this.#options.limits.maxInFlightRequestsPerConnection) this.#ws.pause();
    this.#options.dispatcher.handle(text, this.#session).then(
      (result) => {
        const response = result.response;
        if (response !== null && this.#ws.readyState === this.#ws.OPEN) {
          this.#send(response, () => this.#requestDone());
          // Synchronously after the send, so the subscription id precedes every notification.
          result.delivered(true);
        } else {
          this.#requestDone();
          result.delivered(false);
        }
      },
      (err: unknown) => {
        // The dispatcher answers every failure itself; reaching this is a bug, but not the client's.
        this.#options.logger.error("rpc dispatcher rejected", { connectionId: this.id, ...errorFields(err) });
        this.#requestDone();
      },
    );
  }

  #requestDone(): void {
    this.#inFlight -= 1;
    if (this.#ws.isPaused && this.#inFlight < this.#options.limits.maxInFlightRequestsPerConnection) this.#ws.resume();
  }

  #send(text: string, done: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      done();
      return;
    }
    this.#ws.send(text, (err?: Error) => {
      if (err !== undefined && err !== null) {
        this.#options.logger.debug("rpc ws send failed", { connectionId: this.id, ...errorFields(err) });
      }
      done();
    });
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
