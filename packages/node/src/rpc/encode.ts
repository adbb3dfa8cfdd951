import type { RpcError } from "./errors.ts";
import type { RpcId } from "./message.ts";

/**
 * A result the node has already encoded as JSON, sent as is: a large answer several clients
 * ask for (a sync batch) is encoded once. Only for text the node built itself.
 */
export class RawJson {
  constructor(readonly json: string) {}

  /** A quoted hex string: hex needs no escaping. */
  static hex(hex: string): RawJson {
    return new RawJson(`"${hex}"`);
  }
}

/** Throws if `result` cannot be serialised (a bigint, a cycle, or nesting too deep). */
export function encodeResult(id: RpcId, result: unknown): string {
  // JSON.stringify returns undefined for undefined, functions and symbols; those answer null.
  const body = result instanceof RawJson ? result.json : (JSON.stringify(result) ?? "null");
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${body}}`;
}

/** Throws if the error's `data` cannot be serialised. */
export function encodeError(id: RpcId, error: RpcError): string {
  const object: { code: number; message: string; data?: unknown } = { code: error.code, message: error.message };
  if (error.data !== undefined) object.data = error.data;
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${JSON.stringify(object)}}`;
}

/** The prefix of every notification of one subscription; the result and `}}` follow. */
export function notificationPrefix(method: string, subscriptionId: string): string {
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":{"subscription":${JSON.stringify(subscriptionId)},"result":`;
}

/** Throws if `result` cannot be serialised. */
export function encodeNotification(prefix: string, result: unknown): string {
  return `${prefix}${JSON.stringify(result) ?? "null"}}}`;
}
