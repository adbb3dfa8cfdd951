import { fromHex, toHex } from "@phala-ts/primitives";
import { PhostError, PruntimeRefusedError, errorMessage } from "./errors.ts";

/** Largest pRuntime answer read: the egress list is the biggest, and a backlog stays far below this. */
export const PRUNTIME_RESPONSE_BYTES_MAX = 64 * 1024 * 1024;
/** Egress messages taken from one /egress answer; the rest wait for the next round. */
export const EGRESS_MESSAGES_MAX = 4096;

/** The part of `GET /info` pHost uses (contract: pRuntime HTTP API). */
export interface PruntimeInfo {
  initialized: boolean;
  genesisHash: Uint8Array | undefined;
  syncedHeight: number;
  identityKey: Uint8Array;
  registered: boolean;
  egressPending: number;
}

export interface PruntimeRegistration {
  /** SCALE WorkerRegistrationInfo. */
  info: Uint8Array;
  /** encodeEvidence bytes. */
  evidence: Uint8Array;
}

export interface PruntimeEndpoint {
  /** SCALE WorkerEndpointPayload. */
  payload: Uint8Array;
  /** 64-byte ed25519 signature by the identity key. */
  signature: Uint8Array;
}

export interface PruntimeClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  requestTimeoutMs: number;
  /** Aborts every request in flight when the service stops. */
  signal: AbortSignal;
}

type Json = Record<string, unknown>;

function bad(path: string, what: string): PhostError<"PRUNTIME_BAD_RESPONSE"> {
  return new PhostError("PRUNTIME_BAD_RESPONSE", `pRuntime ${path} answered ${what}`, { details: { path } });
}

function hexField(path: string, o: Json, name: string, length?: number): Uint8Array {
  const v = o[name];
  if (typeof v !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(v)) throw bad(path, `a "${name}" that is not hex`);
  const b = fromHex(v);
  if (length !== undefined && b.length !== length) throw bad(path, `a "${name}" of ${b.length} bytes where ${length} were expected`);
  return b;
}

function heightField(path: string, o: Json, name: string): number {
  const v = o[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 0xffff_ffff) throw bad(path, `a "${name}" that is not a block height`);
  return v;
}

function boolField(path: string, o: Json, name: string): boolean {
  const v = o[name];
  if (typeof v !== "boolean") throw bad(path, `a "${name}" that is not a boolean`);
  return v;
}

/** The pRuntime HTTP API as pHost consumes it, with every answer checked at the boundary. */
export class PruntimeClient {
  readonly #base: string;
  readonly #opts: PruntimeClientOptions;

  constructor(options: PruntimeClientOptions) {
    this.#opts = options;
    this.#base = options.url.replace(/\/+$/, "");
  }

  async info(): Promise<PruntimeInfo> {
    const path = "/info";
    const o = await this.#json("GET", path);
    const gh = o.genesisHash;
    if (gh !== null && gh !== undefined && typeof gh !== "string") throw bad(path, `a "genesisHash" that is not hex or null`);
    const egress = o.egressPending;
    return {
      initialized: boolField(path, o, "initialized"),
      genesisHash: typeof gh === "string" ? hexField(path, o, "genesisHash", 32) : undefined,
      syncedHeight: heightField(path, o, "syncedHeight"),
      identityKey: hexField(path, o, "identityKey", 32),
      registered: o.registered === true,
      egressPending: typeof egress === "number" && Number.isSafeInteger(egress) && egress >= 0 ? egress : 0,
    };
  }

  async init(genesisHeader: Uint8Array): Promise<void> {
    await this.#json("POST", "/init", { body: JSON.stringify({ genesisHeader: toHex(genesisHeader) }), contentType: "application/json" });
  }

  /** Feeds one SCALE SyncBatch; returns pRuntime's new synced height. */
  async sync(batch: Uint8Array): Promise<{ syncedHeight: number; syncedHash: Uint8Array }> {
    const path = "/sync";
    const o = await this.#json("POST", path, { body: batch, contentType: "application/octet-stream" });
    return { syncedHeight: heightField(path, o, "syncedHeight"), syncedHash: hexField(path, o, "syncedHash", 32) };
  }

  async registration(operator: Uint8Array): Promise<PruntimeRegistration> {
    const path = "/registration";
    const o = await this.#json("GET", `${path}?operator=${toHex(operator)}`);
    return { info: hexField(path, o, "info"), evidence: hexField(path, o, "evidence") };
  }

  /** Pending signed messages (SCALE SignedMessage each), in sequence order per origin. */
  async egress(): Promise<Uint8Array[]> {
    const path = "/egress";
    const o = await this.#json("GET", path);
    const list = o.messages;
    if (!Array.isArray(list)) throw bad(path, `a "messages" that is not a list`);
    return list.slice(0, EGRESS_MESSAGES_MAX).map((m, i) => {
      if (typeof m !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(m)) throw bad(path, `message ${i} that is not hex`);
      return fromHex(m);
    });
  }

  async endpoint(url: string): Promise<PruntimeEndpoint> {
    const path = "/endpoint";
    const o = await this.#json("GET", `${path}?url=${encodeURIComponent(url)}`);
    return { payload: hexField(path, o, "payload"), signature: hexField(path, o, "signature", 64) };
  }

  async #json(method: "GET" | "POST", pathAndQuery: string, body?: { body: string | Uint8Array; contentType: string }): Promise<Json> {
    const path = pathAndQuery.split("?")[0];
    if (this.#opts.signal.aborted) throw new PhostError("STOPPED", `pRuntime ${path}: pHost is stopping`);
    let res: Response;
    let text: string;
    try {
      const signal = AbortSignal.any([this.#opts.signal, AbortSignal.timeout(this.#opts.requestTimeoutMs)]);
      res = await fetch(this.#base + pathAndQuery, {
        method,
        signal,
        headers: body ? { "content-type": body.contentType } : undefined,
        body: body?.body,
      });
      text = await readBounded(res, path);
    } catch (e) {
      if (e instanceof PhostError) throw e;
      if (this.#opts.signal.aborted) throw new PhostError("STOPPED", `pRuntime ${path}: pHost is stopping`, { cause: e });
      const timedOut = e instanceof Error && e.name === "TimeoutError";
      const reason = timedOut ? `no answer within ${this.#opts.requestTimeoutMs} ms` : describeFetchError(e);
      throw new PhostError("PRUNTIME_UNAVAILABLE", `cannot reach pRuntime at ${this.#base} (${method} ${path}): ${reason}`, { details: { path }, cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      if (!res.ok) throw new PruntimeRefusedError(path, res.status, `HTTP_${res.status}`, text.slice(0, 200));
      throw new PhostError("PRUNTIME_BAD_RESPONSE", `pRuntime ${path} answered something that is not JSON`, { details: { path }, cause: e });
    }
    const o = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : undefined;
    if (!res.ok) {
      const err = o && typeof o.error === "object" && o.error !== null ? (o.error as Json) : {};
      const code = typeof err.code === "string" ? err.code : `HTTP_${res.status}`;
      const message = typeof err.message === "string" ? err.message : res.statusText;
      throw new PruntimeRefusedError(path, res.status, code, message);
    }
    if (!o) throw bad(path, "JSON that is not an object");
    return o;
  }
}

async function readBounded(res: Response, path: string): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > PRUNTIME_RESPONSE_BYTES_MAX) {
    await res.body?.cancel();
    throw bad(path, `${declared} bytes, more than the ${PRUNTIME_RESPONSE_BYTES_MAX} pHost reads`);
  }
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.length;
    // Leaving the loop by throwing cancels the stream.
    if (total > PRUNTIME_RESPONSE_BYTES_MAX) throw bad(path, `more than the ${PRUNTIME_RESPONSE_BYTES_MAX} bytes pHost reads`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeFetchError(e: unknown): string {
  // undici hides the socket error (ECONNREFUSED, ECONNRESET) in `cause`.
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  if (cause && typeof cause.message === "string") return cause.message;
  return errorMessage(e);
}
