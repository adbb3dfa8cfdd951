import { encodeError } from "./encode.ts";
import { parseError } from "./errors.ts";

/** A JSON-RPC id: the spec allows strings, numbers and null. */
export type RpcId = string | number | null;

/** One element of a request message, validated. */
export type RequestItem =
  | { readonly kind: "call"; readonly id: RpcId; readonly method: string; readonly params: unknown }
  /** No `id` member: the caller wants no answer. Like jsonrpsee, we do not run these. */
  | { readonly kind: "notification"; readonly method: string }
  | { readonly kind: "invalid"; readonly id: RpcId };

export type ParsedMessage =
  | { readonly kind: "parseError" }
  | { readonly kind: "single"; readonly item: RequestItem }
  /** Elements are classified one by one with `classifyRequest` once the length is checked. */
  | { readonly kind: "batch"; readonly elements: readonly unknown[] };

export function parseMessage(text: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Any failure here (syntax, or a RangeError on pathological nesting) is the client's malformed input.
    return { kind: "parseError" };
  }
  if (Array.isArray(value)) return { kind: "batch", elements: value };
  return { kind: "single", item: classifyRequest(value) };
}

function isRpcId(value: unknown): value is RpcId {
  return value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

export function classifyRequest(value: unknown): RequestItem {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "invalid", id: null };
  const obj = value as Record<string, unknown>;
  const hasId = Object.hasOwn(obj, "id");
  const id = hasId && isRpcId(obj.id) ? obj.id : null;
  if (hasId && !isRpcId(obj.id)) return { kind: "invalid", id: null };
  if (obj.jsonrpc !== "2.0" || typeof obj.method !== "string") return { kind: "invalid", id };
  if (!hasId) return { kind: "notification", method: obj.method };
  return { kind: "call", id, method: obj.method, params: obj.params };
}

/** The answer to a message that is not JSON. */
export const PARSE_ERROR_RESPONSE: string = encodeError(null, parseError());
