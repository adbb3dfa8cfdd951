import assert from "node:assert/strict";
import { encodeError, encodeResult } from "./encode.ts";
import {
  RpcError,
  internalError,
  invalidParams,
  invalidRequest,
  methodNotFound,
  oversizedResponse,
  subscriptionsNeedWebSocket,
  tooBigBatchRequest,
  tooBigBatchResponse,
} from "./errors.ts";
import { errorFields, type RpcLogger } from "./logger.ts";
import { classifyRequest, parseMessage, PARSE_ERROR_RESPONSE, type RequestItem, type RpcId } from "./message.ts";
import { UNSAFE_RPC_METHODS, unsafeRpcCall } from "./rpc-methods.ts";
import type { Subscription, SubscriptionSink, SubscriptionTable } from "./subscription.ts";

export type RpcTransport = "ws" | "http";

/** What a handler learns about the caller, and how it opens subscriptions. */
export interface RpcContext {
  readonly connectionId: number;
  readonly transport: RpcTransport;
  /**
   * Opens a subscription on this connection. Return `sink.id` as the call's result.
   * Throws RpcError over HTTP or over the per-connection limit.
   * `unsubscribeMethods` are the names that end it; the server answers them itself
   * (closing the sink, `true`/`false`) unless a handler is registered under that name.
   */
  subscribe(notificationMethod: string, unsubscribeMethods: readonly string[]): SubscriptionSink;
  /** An open subscription of this connection, e.g. the follow subscription a chainHead_v1 call names. */
  subscription(id: string): SubscriptionSink | undefined;
}

export type RpcHandler = (params: unknown[], ctx: RpcContext) => unknown;

/** One connection as the dispatcher sees it. `subscriptions` is null over HTTP. */
export interface RpcSession {
  readonly connectionId: number;
  readonly transport: RpcTransport;
  readonly subscriptions: SubscriptionTable | null;
}

export interface DispatchResult {
  /** The text to send back, or null when nothing is owed (only notifications). */
  readonly response: string | null;
  /**
   * Must be called right after `response` was handed to the socket (`sent`) or dropped.
   * Subscriptions opened by successful calls start delivering; the others close.
   */
  delivered(sent: boolean): void;
}

export interface RpcDispatcherOptions {
  readonly maxBatchLength: number;
  readonly maxResponseBytes: number;
  readonly logger: RpcLogger;
  /** Refuse Substrate's unsafe methods (UNSAFE_RPC_METHODS), as `--rpc-methods safe` does. */
  readonly denyUnsafe?: boolean;
}

/** The subscriptions one call opened, waiting for its response to be written. */
class CallScope {
  readonly sinks: Subscription[] = [];
  isDelivered = false;

  deliver(ok: boolean): void {
    this.isDelivered = true;
    for (const sink of this.sinks) {
      if (ok) sink.activate();
      else sink.discard();
    }
    this.sinks.length = 0;
  }
}

interface CallOutcome {
  readonly text: string | null;
  readonly ok: boolean;
  readonly scope: CallScope | null;
}

const NOTHING: CallOutcome = { text: null, ok: true, scope: null };

/** Method names: printable ASCII without spaces, as every Substrate RPC name is. */
const METHOD_NAME = /^[\x21-\x7e]{1,128}$/;

/** The method table and the JSON-RPC processing; knows nothing about sockets. */
export class RpcDispatcher {
  readonly #options: RpcDispatcherOptions;
  readonly #handlers = new Map<string, RpcHandler>();
  readonly #aliases = new Map<string, string>();
  /** Names the server's default unsubscribe answers (unless a handler of that name is registered). */
  readonly #unsubscribeMethods = new Set<string>();

  constructor(options: RpcDispatcherOptions) {
    this.#options = options;
  }

  register(name: string, handler: RpcHandler): void {
    assert.match(name, METHOD_NAME, `invalid RPC method name ${JSON.stringify(name)}`);
    assert(!this.#handlers.has(name) && !this.#aliases.has(name), `RPC method ${name} registered twice`);
    this.#handlers.set(name, handler);
  }

  registerAlias(alias: string, target: string): void {
    assert.match(alias, METHOD_NAME, `invalid RPC method name ${JSON.stringify(alias)}`);
    assert(!this.#handlers.has(alias) && !this.#aliases.has(alias), `RPC method ${alias} registered twice`);
    assert(!this.#aliases.has(target), `RPC alias ${alias} must point at a method, not at alias ${target}`);
    this.#aliases.set(alias, target);
  }

  registerUnsubscribe(name: string): void {
    assert.match(name, METHOD_NAME, `invalid RPC method name ${JSON.stringify(name)}`);
    this.#unsubscribeMethods.add(name);
  }

  methods(): string[] {
    const all = new Set<string>([...this.#handlers.keys(), ...this.#aliases.keys(), ...this.#unsubscribeMethods]);
    return [...all].sort();
  }

  /** Never rejects: every failure becomes a JSON-RPC error in the response. */
  async handle(text: string, session: RpcSession): Promise<DispatchResult> {
    const message = parseMessage(text);
    if (message.kind === "parseError") return fixed(PARSE_ERROR_RESPONSE);
    if (message.kind === "single") {
      const outcome = await this.#call(message.item, session);
      return {
        response: outcome.text,
        delivered: (sent) => outcome.scope?.deliver(sent && outcome.ok),
      };
    }
    const { elements } = message;
    if (elements.length === 0) return fixed(encodeError(null, invalidRequest()));
    if (elements.length > this.#options.maxBatchLength) {
      return fixed(encodeError(null, tooBigBatchRequest(this.#options.maxBatchLength)));
    }
    const outcomes = await Promise.all(elements.map((element) => this.#call(classifyRequest(element), session)));
    const parts: string[] = [];
    let bytes = 1; // "["
    for (const outcome of outcomes) {
      if (outcome.text === null) continue;
      parts.push(outcome.text);
      bytes += Buffer.byteLength(outcome.text) + 1; // "," or "]"
    }
    const fits = bytes <= this.#options.maxResponseBytes;
    const response =
      parts.length === 0 ? null : fits ? `[${parts.join(",")}]` : encodeError(null, tooBigBatchResponse(this.#options.maxResponseBytes));
    return {
      response,
      delivered: (sent) => {
        for (const outcome of outcomes) outcome.scope?.deliver(sent && fits && outcome.ok);
      },
    };
  }

  async #call(item: RequestItem, session: RpcSession): Promise<CallOutcome> {
    if (item.kind === "invalid") return failed(item.id, invalidRequest());
    if (item.kind === "notification") {
      this.#options.logger.debug("rpc notification ignored", { method: item.method, connectionId: session.connectionId });
      return NOTHING;
    }
    const { id, method } = item;
    const target = this.#aliases.get(method) ?? method;
    const handler = this.#handlers.get(target);
    const isDefaultUnsubscribe = handler === undefined && this.#unsubscribeMethods.has(target);
    if (handler === undefined && !isDefaultUnsubscribe) return failed(id, methodNotFound(method));
    if (this.#options.denyUnsafe === true && UNSAFE_RPC_METHODS.has(target)) return failed(id, unsafeRpcCall());
    let params: unknown[];
    if (item.params === undefined || item.params === null) params = [];
    else if (Array.isArray(item.params)) params = item.params;
    else return failed(id, invalidParams("params must be an array"));

    const scope = new CallScope();
    let result: unknown;
    try {
      result = handler === undefined ? defaultUnsubscribe(target, params, session) : await handler(params, this.#context(session, scope));
    } catch (err) {
      if (err instanceof RpcError) return { ...failed(id, err), scope };
      this.#options.logger.error("rpc method failed", { method, connectionId: session.connectionId, ...errorFields(err) });
      return { ...failed(id, internalError()), scope };
    }
    let text: string;
    try {
      text = encodeResult(id, result);
    } catch (err) {
      this.#options.logger.error("rpc result not serialisable", { method, connectionId: session.connectionId, ...errorFields(err) });
      return { ...failed(id, internalError()), scope };
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#options.maxResponseBytes) {
      this.#options.logger.warn("rpc response too large", { method, connectionId: session.connectionId, bytes });
      return { ...failed(id, oversizedResponse(this.#options.maxResponseBytes)), scope };
    }
    return { text, ok: true, scope };
  }

  #context(session: RpcSession, scope: CallScope): RpcContext {
    return {
      connectionId: session.connectionId,
      transport: session.transport,
      subscribe: (notificationMethod, unsubscribeMethods) => {
        const table = session.subscriptions;
        if (table === null) throw subscriptionsNeedWebSocket();
        assert.match(notificationMethod, METHOD_NAME, `invalid notification method ${JSON.stringify(notificationMethod)}`);
        for (const name of unsubscribeMethods) this.registerUnsubscribe(name);
        // A handler that subscribes after its response went out needs no holding back.
        const sink = table.open(notificationMethod, [...unsubscribeMethods], !scope.isDelivered);
        if (!scope.isDelivered && !sink.closed) scope.sinks.push(sink);
        return sink;
      },
      subscription: (id) => session.subscriptions?.get(id),
    };
  }
}

function defaultUnsubscribe(method: string, params: unknown[], session: RpcSession): boolean {
  if (session.subscriptions === null) throw subscriptionsNeedWebSocket();
  const id = params[0];
  if (typeof id !== "string" && typeof id !== "number") throw invalidParams("expected a subscription id");
  return session.subscriptions.unsubscribe(String(id), method);
}

function failed(id: RpcId, error: RpcError): CallOutcome {
  let text: string;
  try {
    text = encodeError(id, error);
  } catch {
    // The handler's error `data` cannot be serialised: answer without it (the code and message survive).
    text = encodeError(id, new RpcError(error.code, error.message));
  }
  return { text, ok: false, scope: null };
}

function fixed(response: string): DispatchResult {
  return { response, delivered: () => {} };
}
