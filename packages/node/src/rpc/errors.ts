/**
 * JSON-RPC error codes. The first five are the JSON-RPC 2.0 spec's; the rest are
 * jsonrpsee's (what Substrate nodes send), so clients see identical codes.
 */
export const RPC_ERROR_CODE = Object.freeze({
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  tooManySubscriptions: -32006,
  oversizedRequest: -32007,
  oversizedResponse: -32008,
  tooBigBatchRequest: -32010,
  tooBigBatchResponse: -32011,
});

/** An error a handler throws to answer with a JSON-RPC error object. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    if (!Number.isSafeInteger(code)) throw new RangeError(`RpcError code must be an integer, got ${code}`);
    this.code = code;
    this.data = data;
  }
}

export function parseError(): RpcError {
  return new RpcError(RPC_ERROR_CODE.parseError, "Parse error");
}

export function invalidRequest(): RpcError {
  return new RpcError(RPC_ERROR_CODE.invalidRequest, "Invalid request");
}

/** Longest method name echoed back in an error message. */
const METHOD_NAME_ECHO_CHARS_MAX = 128;

export function methodNotFound(method: string): RpcError {
  const shown = method.length > METHOD_NAME_ECHO_CHARS_MAX ? `${method.slice(0, METHOD_NAME_ECHO_CHARS_MAX)}…` : method;
  return new RpcError(RPC_ERROR_CODE.methodNotFound, `Method not found: ${shown}`);
}

export function invalidParams(detail?: string): RpcError {
  return new RpcError(RPC_ERROR_CODE.invalidParams, "Invalid params", detail);
}

export function internalError(): RpcError {
  return new RpcError(RPC_ERROR_CODE.internalError, "Internal error");
}

export function oversizedRequest(maxBytes: number): RpcError {
  return new RpcError(RPC_ERROR_CODE.oversizedRequest, "Request is too big", `Exceeded max limit of ${maxBytes}`);
}

export function oversizedResponse(maxBytes: number): RpcError {
  return new RpcError(RPC_ERROR_CODE.oversizedResponse, "Response is too big", `Exceeded max limit of ${maxBytes}`);
}

export function tooManySubscriptions(max: number): RpcError {
  return new RpcError(
    RPC_ERROR_CODE.tooManySubscriptions,
    "Too many subscriptions on the connection",
    `Exceeded max limit of ${max}`,
  );
}

export function tooBigBatchRequest(max: number): RpcError {
  return new RpcError(RPC_ERROR_CODE.tooBigBatchRequest, "The batch request was too large", `Exceeded max limit of ${max}`);
}

export function tooBigBatchResponse(maxBytes: number): RpcError {
  return new RpcError(
    RPC_ERROR_CODE.tooBigBatchResponse,
    "The batch response was too large",
    `Exceeded max limit of ${maxBytes}`,
  );
}

export function subscriptionsNeedWebSocket(): RpcError {
  return new RpcError(RPC_ERROR_CODE.internalError, "Subscriptions are only supported over WebSocket");
}
