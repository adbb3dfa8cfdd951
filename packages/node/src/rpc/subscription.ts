import assert from "node:assert/strict";
import { encodeNotification, notificationPrefix } from "./encode.ts";
import { tooManySubscriptions } from "./errors.ts";
import { errorFields, type RpcLogger } from "./logger.ts";

/** The handle a subscribe handler gets back from `ctx.subscribe`. */
export interface SubscriptionSink {
  readonly id: string;
  /**
   * Sends `{"method":<notificationMethod>,"params":{"subscription":id,"result":result}}`.
   * Before the subscribe call's response is written the notification is held back, so it
   * always arrives after the id. A no-op once closed. Never throws: a result that cannot be
   * serialised or is too large is logged and ends the subscription.
   */
  notify(result: unknown): void;
  /**
   * Ends the subscription from the server side. Sends no message of its own (new-spec
   * handlers send their final event first); anything notified before, even while the
   * subscribe response is still unwritten, is delivered.
   */
  close(): void;
  readonly closed: boolean;
  /** Runs once when the subscription ends for any reason; at once if it already has. */
  onClose(cb: () => void): void;
}

/** Where a connection's notifications go. `done` runs once the text is flushed or the send failed. */
export interface NotificationOutlet {
  send(text: string, done: () => void): void;
}

export interface SubscriptionTableOptions {
  readonly connectionId: number;
  readonly maxSubscriptions: number;
  readonly maxPendingNotifications: number;
  readonly maxNotificationBytes: number;
  readonly nextId: () => string;
  readonly outlet: NotificationOutlet;
  /** Called once when the client falls too far behind; the table is already closed by then. */
  readonly onOverflow: () => void;
  readonly logger: RpcLogger;
}

type State = "pending" | "active" | "closed";

class Subscription implements SubscriptionSink {
  readonly id: string;
  readonly unsubscribeMethods: readonly string[];
  readonly #table: SubscriptionTable;
  readonly #prefix: string;
  readonly #notificationMethod: string;
  #state: State;
  /** Notifications held until the subscription id has been sent. Counted in the table's pending total. */
  #held: string[] = [];
  #closeCallbacks: (() => void)[] = [];
  /** close() was called before the id went out: deliver what is held, then end. */
  #closeAfterActivate = false;

  constructor(table: SubscriptionTable, id: string, notificationMethod: string, unsubscribeMethods: readonly string[], state: State) {
    this.#table = table;
    this.id = id;
    this.#notificationMethod = notificationMethod;
    this.unsubscribeMethods = unsubscribeMethods;
    this.#prefix = notificationPrefix(notificationMethod, id);
    this.#state = state;
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  notify(result: unknown): void {
    if (this.#state === "closed" || this.#closeAfterActivate) return;
    let text: string;
    try {
      text = encodeNotification(this.#prefix, result);
    } catch (err) {
      this.#table.logger.error("rpc notification not serialisable, closing subscription", {
        method: this.#notificationMethod,
        subscription: this.id,
        ...errorFields(err),
      });
      this.close();
      return;
    }
    if (Buffer.byteLength(text) > this.#table.maxNotificationBytes) {
      this.#table.logger.warn("rpc notification too large, closing subscription", {
        method: this.#notificationMethod,
        subscription: this.id,
        bytes: Buffer.byteLength(text),
      });
      this.close();
      return;
    }
    if (!this.#table.reserve()) return; // the table closed everything, this subscription included
    if (this.#state === "pending") this.#held.push(text);
    else this.#table.transmit(text);
  }

  /** The subscription id has been written: flush what was held, in order. */
  activate(): void {
    if (this.#state !== "pending") return;
    this.#state = "active";
    const held = this.#held;
    this.#held = [];
    for (const text of held) this.#table.transmit(text);
    if (this.#closeAfterActivate) this.discard();
  }

  /**
   * Ends the subscription. A handler may notify and close before its own response is
   * written (a transaction refused at once); those notifications still follow the id.
   */
  close(): void {
    if (this.#state === "pending") {
      this.#closeAfterActivate = true;
      return;
    }
    this.discard();
  }

  /** Ends the subscription and drops anything held (the subscribe call itself failed). */
  discard(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#table.release(this.#held.length);
    this.#held = [];
    this.#table.forget(this.id);
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = [];
    for (const cb of callbacks) this.#runCloseCallback(cb);
  }

  onClose(cb: () => void): void {
    if (this.#state === "closed") this.#runCloseCallback(cb);
    else this.#closeCallbacks.push(cb);
  }

  #runCloseCallback(cb: () => void): void {
    try {
      cb();
    } catch (err) {
      this.#table.logger.error("rpc subscription onClose callback threw", { subscription: this.id, ...errorFields(err) });
    }
  }
}

export type { Subscription };

/**
 * The subscriptions of one WebSocket connection, and the count of its notifications
 * not yet flushed (held plus in flight), which is bounded.
 */
export class SubscriptionTable {
  readonly logger: RpcLogger;
  readonly maxNotificationBytes: number;
  readonly #options: SubscriptionTableOptions;
  readonly #open = new Map<string, Subscription>();
  #pending = 0;
  #closed = false;

  constructor(options: SubscriptionTableOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.maxNotificationBytes = options.maxNotificationBytes;
  }

  get size(): number {
    return this.#open.size;
  }

  get pendingNotifications(): number {
    return this.#pending;
  }

  /**
   * Opens a subscription. `held` keeps its notifications back until `activate()`.
   * On a closed table (connection gone) returns an already-closed sink, so the handler's
   * `onClose` cleanup runs at once. Throws RpcError over the per-connection limit.
   */
  open(notificationMethod: string, unsubscribeMethods: readonly string[], held: boolean): Subscription {
    const id = this.#options.nextId();
    if (this.#closed) return new Subscription(this, id, notificationMethod, unsubscribeMethods, "closed");
    if (this.#open.size >= this.#options.maxSubscriptions) throw tooManySubscriptions(this.#options.maxSubscriptions);
    assert(!this.#open.has(id), "subscription ids are unique");
    const sub = new Subscription(this, id, notificationMethod, unsubscribeMethods, held ? "pending" : "active");
    this.#open.set(id, sub);
    return sub;
  }

  get(id: string): Subscription | undefined {
    return this.#open.get(id);
  }

  /** The default unsubscribe: true if `id` is open here and `method` is one of its unsubscribe methods. */
  unsubscribe(id: string, method: string): boolean {
    const sub = this.#open.get(id);
    if (sub === undefined || !sub.unsubscribeMethods.includes(method)) return false;
    sub.close();
    return true;
  }

  /** Closes every subscription (connection closed). Later `open` calls return closed sinks. */
  closeAll(): void {
    this.#closed = true;
    for (const sub of [...this.#open.values()]) sub.discard();
    assert.equal(this.#open.size, 0);
  }

  // --- used by Subscription ---

  /** Counts one more pending notification; false (and the table is closed) if over the limit. */
  reserve(): boolean {
    if (this.#closed) return false;
    if (this.#pending >= this.#options.maxPendingNotifications) {
      this.logger.warn("rpc client too slow, notification queue full; closing connection", {
        connectionId: this.#options.connectionId,
        pending: this.#pending,
        subscriptions: this.#open.size,
      });
      this.closeAll();
      this.#options.onOverflow();
      return false;
    }
    this.#pending += 1;
    return true;
  }

  /** Sends a reserved notification; its count is released once flushed. */
  transmit(text: string): void {
    this.#options.outlet.send(text, () => this.release(1));
  }

  release(count: number): void {
    this.#pending -= count;
    assert(this.#pending >= 0, "pending notification count never goes negative");
  }

  forget(id: string): void {
    this.#open.delete(id);
  }
}
