/**
 * Operating errors of pHost: a short message, a stable `code`, structured `details` and a
 * `cause`. pHost never crashes on these; the service logs them and retries.
 */
export type PhostErrorCode =
  /** startPhost was given options it cannot run with. */
  | "INVALID_OPTIONS"
  /** The node's WebSocket is not connected (refused, closed, or never opened). */
  | "NODE_UNAVAILABLE"
  /** The node did not answer a request in time. */
  | "NODE_TIMEOUT"
  /** The node answered a request with a JSON-RPC error. */
  | "NODE_RPC_ERROR"
  /** The node answered with something that is not what the method returns. */
  | "NODE_BAD_RESPONSE"
  /** Too many requests are waiting for the node; a bug or a stuck node. */
  | "NODE_BUSY"
  /** pRuntime's HTTP port cannot be reached or did not answer in time. */
  | "PRUNTIME_UNAVAILABLE"
  /** pRuntime answered with an error status (its own code is in `details.pruntimeCode`). */
  | "PRUNTIME_REFUSED"
  /** pRuntime answered with something that is not what the endpoint returns. */
  | "PRUNTIME_BAD_RESPONSE"
  /** pRuntime follows another chain than the node serves. */
  | "GENESIS_MISMATCH"
  /** pRuntime accepted a batch but its height did not advance. */
  | "NO_PROGRESS"
  /** The chain included the worker's `register_worker` but its dispatch failed (`details.dispatchError`). */
  | "REGISTRATION_REFUSED"
  /** The chain included the worker's `update_worker_endpoint` but its dispatch failed (`details.dispatchError`). */
  | "ENDPOINT_REFUSED"
  /** The service was stopped while the operation was in flight. */
  | "STOPPED";

export class PhostError<Code extends PhostErrorCode = PhostErrorCode> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PhostError";
    this.code = code;
    this.details = options.details;
  }
}

/** A JSON-RPC error answer from the node, with the node's own code, message and data. */
export class NodeRpcError extends PhostError<"NODE_RPC_ERROR"> {
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    readonly rpcMessage: string,
    readonly rpcData: unknown,
  ) {
    super("NODE_RPC_ERROR", `${method}: ${rpcMessage}${typeof rpcData === "string" && rpcData ? ` (${rpcData})` : ""}`, {
      details: { method, rpcCode, rpcData },
    });
    this.name = "NodeRpcError";
  }
}

/** pRuntime refused a request: its error code (BAD_LINK, NOT_NEXT, …), message and HTTP status. */
export class PruntimeRefusedError extends PhostError<"PRUNTIME_REFUSED"> {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly pruntimeCode: string,
    readonly pruntimeMessage: string,
  ) {
    super("PRUNTIME_REFUSED", `pRuntime refused ${path}: ${pruntimeCode}: ${pruntimeMessage}`, { details: { path, status, pruntimeCode } });
    this.name = "PruntimeRefusedError";
  }
}

/**
 * The chain included one of the operator's extrinsics but refused it in dispatch: a
 * `System.ExtrinsicFailed` event named `dispatchError` ("PhalaRegistry.DevAttestationNotAllowed",
 * "BadOrigin", "Token.FundsUnavailable", …), with a hint for the operator when there is one.
 */
export class ChainRefusedError extends PhostError<"REGISTRATION_REFUSED" | "ENDPOINT_REFUSED"> {
  constructor(
    code: "REGISTRATION_REFUSED" | "ENDPOINT_REFUSED",
    readonly dispatchError: string,
    readonly hint: string | undefined,
    readonly blockNumber: number,
    readonly blockHash: Uint8Array,
  ) {
    const what = code === "REGISTRATION_REFUSED" ? "registration" : "endpoint update";
    super(code, `the chain refused this worker's ${what}: ${dispatchError}${hint ? ` — ${hint}` : ""}`, {
      details: { dispatchError, blockNumber },
    });
    this.name = "ChainRefusedError";
  }
}

/** The code of any error, for logs and status: PhostError codes, else the error's name. */
export function errorCode(e: unknown): string {
  if (e instanceof PhostError) return e.code;
  if (e instanceof Error) return e.name;
  return "UNKNOWN";
}

/** Whether an error means the node or pRuntime could not be reached (or pHost is stopping): the caller's loop retries those. */
export function isConnectivityError(e: unknown): boolean {
  const code = errorCode(e);
  return code === "NODE_UNAVAILABLE" || code === "NODE_TIMEOUT" || code === "PRUNTIME_UNAVAILABLE" || code === "STOPPED";
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
