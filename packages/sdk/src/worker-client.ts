/**
 * HTTP to a worker's pRuntime (docs/interfaces.md, "pRuntime HTTP API"): queries and command
 * results. Everything a worker answers is untrusted here; callers verify it.
 * Encrypted things travel as binary SCALE (ARCHITECTURE §5); a JSON body carrying the same
 * bytes as hex is read too.
 */
import { HexError, fromHex, toHex } from "@phala-ts/primitives";
import { QueryBatchRequest } from "@phala-ts/runtime/phala";
import { PhalaSdkError, errorMessage } from "./errors.ts";
import { WORKER_RESPONSE_BYTES_MAX } from "./limits.ts";

import type { FetchLike, ResponseLike, TimedFetch } from "./worker-http/types.ts";

export type { FetchLike, ResponseLike };

export interface WorkerRequestOptions {
  fetch: FetchLike;
  timeoutMs: number;
}

/** Fields of a JSON answer that may carry the SCALE bytes as hex. */
const HEX_FIELDS = ["response", "result", "scale", "data"] as const;

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

async function readBounded(res: ResponseLike, url: string, max = WORKER_RESPONSE_BYTES_MAX): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", `the worker at ${url} answered ${declared} bytes, over the ${max}-byte limit`);
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > max) {
    throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", `the worker at ${url} answered ${body.length} bytes, over the ${max}-byte limit`);
  }
  return body;
}

function workerError(url: string, status: number, body: Uint8Array): PhalaSdkError {
  let workerCode: string | undefined;
  let workerMessage: string | undefined;
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as { error?: { code?: unknown; message?: unknown } };
    if (typeof j.error?.code === "string") workerCode = j.error.code;
    if (typeof j.error?.message === "string") workerMessage = j.error.message;
  } catch {
    // Not the JSON error shape; the status alone is reported.
  }
  return refusedError(url, status, workerCode, workerMessage);
}

/**
 * What a worker's refusal becomes: an HTTP error answer, or a refused query inside a batch answer
 * (same status and code). `signedBy` is set only for a refusal whose worker signature the caller
 * verified (a batch answer); an HTTP error status and its body are unsigned, anyone on the path
 * could have written them, so `details.signedBy` stays undefined for those.
 */
export function refusedError(url: string, status: number, workerCode: string | undefined, workerMessage: string | undefined, signedBy?: string): PhalaSdkError {
  const said = workerMessage ? `: ${workerCode ? `[${workerCode}] ` : ""}${workerMessage}` : "";
  const signed = signedBy === undefined ? " (unsigned)" : ` (signed by worker ${signedBy})`;
  return new PhalaSdkError("WORKER_HTTP_ERROR", "worker", `the worker at ${url} answered HTTP ${status}${said}${signed}`, { details: { url, status, workerCode, workerMessage, signedBy } });
}

/** The SCALE bytes of a successful answer: the body itself, or the hex in a JSON body. */
function scaleOf(res: ResponseLike, body: Uint8Array, url: string): Uint8Array {
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("json")) return body;
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    for (const f of HEX_FIELDS) if (typeof j[f] === "string") return fromHex(j[f] as string);
  } catch (e) {
    if (!(e instanceof SyntaxError) && !(e instanceof HexError)) throw e;
  }
  throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", `the worker at ${url} answered JSON without SCALE bytes; its pRuntime is incompatible with this SDK`);
}

async function send(url: string, init: { method: string; headers?: Record<string, string>; body?: Uint8Array }, o: WorkerRequestOptions): Promise<ResponseLike> {
  try {
    const timed = (o.fetch as Partial<TimedFetch>).handlesTimeout === true;
    return await o.fetch(url, timed ? { ...init, timeoutMs: o.timeoutMs } : { ...init, signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    throw new PhalaSdkError("WORKER_UNREACHABLE", "worker", timedOut ? `the worker at ${url} did not answer within ${o.timeoutMs} ms` : `cannot reach the worker at ${url}: ${errorMessage(e)}`, {
      cause: e,
      details: { url },
    });
  }
}

/** POSTs SCALE bytes to a worker route and returns its SCALE answer (unverified), at most `max` bytes. */
async function postScale(endpoint: string, path: string, body: Uint8Array, max: number, o: WorkerRequestOptions): Promise<Uint8Array> {
  const url = joinUrl(endpoint, path);
  const res = await send(url, { method: "POST", headers: { "content-type": "application/octet-stream", accept: "application/octet-stream" }, body }, o);
  const answer = await readBounded(res, url, max);
  if (!res.ok) throw workerError(url, res.status, answer);
  return scaleOf(res, answer, url);
}

/** `POST /query` with a SCALE QueryRequest; returns the SCALE QueryResponse bytes (unverified). */
export function postQuery(endpoint: string, request: Uint8Array, o: WorkerRequestOptions): Promise<Uint8Array> {
  return postScale(endpoint, "/query", request, WORKER_RESPONSE_BYTES_MAX, o);
}

/**
 * `POST /queries` with a SCALE QueryBatchRequest of the given QueryRequests; returns the SCALE
 * QueryBatchResponse bytes (unverified). Each answer may be as large as a single one.
 */
export async function postQueryBatch(endpoint: string, requests: readonly Uint8Array[], o: WorkerRequestOptions): Promise<Uint8Array> {
  return postScale(endpoint, "/queries", QueryBatchRequest.codec.enc([...requests]), WORKER_RESPONSE_BYTES_MAX * requests.length, o);
}

/**
 * `GET /contracts/<id>/results/<command id>`: the SCALE CommandResult bytes (unverified), or
 * undefined while the worker has not executed the command (404).
 */
export async function getCommandResult(endpoint: string, contractId: Uint8Array, commandId: Uint8Array, o: WorkerRequestOptions): Promise<Uint8Array | undefined> {
  const url = joinUrl(endpoint, `/contracts/${toHex(contractId)}/results/${toHex(commandId)}`);
  const res = await send(url, { method: "GET", headers: { accept: "application/octet-stream" } }, o);
  const body = await readBounded(res, url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw workerError(url, res.status, body);
  return scaleOf(res, body, url);
}
