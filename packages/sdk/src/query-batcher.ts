/**
 * Queries to one worker that are in flight together travel as one `POST /queries` request,
 * answered under one signature: the worker signs once and the SDK verifies once per batch, and
 * both sides parse and write one HTTP message instead of one per query. A query sent alone
 * (nothing else for that worker in the same turn of the event loop) goes as `POST /query`, so a
 * lone query waits for nothing. Every answer is still checked query by query (wire-crypto).
 */
import { PhalaSdkError } from "./errors.ts";
import { QUERY_BATCH_MAX, UNBATCHED_ENDPOINTS_MAX } from "./limits.ts";
import { readQueryBatchResponse, type QueryBatchReceipt } from "./wire-crypto.ts";
import { postQuery, postQueryBatch, type WorkerRequestOptions } from "./worker-client.ts";

/** A worker's answer to one query, not verified yet. */
export type WorkerAnswer =
  /** SCALE QueryResponse from `POST /query`. */
  | { kind: "single"; bytes: Uint8Array }
  /** This query's place in a batch answer whose signature was checked against the key it names. */
  | { kind: "batch"; receipt: QueryBatchReceipt; index: number };

interface Waiting {
  request: Uint8Array;
  resolve(answer: WorkerAnswer): void;
  reject(error: unknown): void;
}

const nextTurn: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function" ? (fn) => void globalThis.setImmediate(fn) : (fn) => void setTimeout(fn, 0);

export class QueryBatcher {
  readonly #max: number;
  readonly #http: WorkerRequestOptions;
  /** Queries waiting for the end of this turn, by endpoint. */
  readonly #waiting = new Map<string, Waiting[]>();
  /** Endpoints without `POST /queries` (a pRuntime older than batches): their queries go one by one. */
  readonly #unbatched = new Set<string>();

  constructor(max: number, http: WorkerRequestOptions) {
    if (!Number.isSafeInteger(max) || max < 1 || max > QUERY_BATCH_MAX) {
      throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `queryBatchMax must be an integer from 1 (no batches) to ${QUERY_BATCH_MAX}, got ${max}`);
    }
    this.#max = max;
    this.#http = http;
  }

  /** Sends the SCALE QueryRequest to the worker at `endpoint`, with whatever else is sent there in this turn. */
  post(endpoint: string, request: Uint8Array): Promise<WorkerAnswer> {
    return new Promise((resolve, reject) => {
      let batch = this.#waiting.get(endpoint);
      if (batch === undefined) {
        const opened: Waiting[] = [];
        batch = opened;
        this.#waiting.set(endpoint, opened);
        nextTurn(() => this.#flush(endpoint, opened));
      }
      batch.push({ request, resolve, reject });
      if (batch.length >= this.#max) this.#flush(endpoint, batch);
    });
  }

  #flush(endpoint: string, batch: Waiting[]): void {
    // A batch that filled up was sent already; its end-of-turn flush finds another one or none.
    if (this.#waiting.get(endpoint) !== batch) return;
    this.#waiting.delete(endpoint);
    if (batch.length === 1 || this.#unbatched.has(endpoint)) {
      for (const w of batch) this.#sendOne(endpoint, w);
      return;
    }
    void this.#sendBatch(endpoint, batch);
  }

  /** Settles every query of the batch, whatever happens: nothing here may reject unhandled. */
  async #sendBatch(endpoint: string, batch: Waiting[]): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await postQueryBatch(endpoint, batch.map((w) => w.request), this.#http);
    } catch (e) {
      if (e instanceof PhalaSdkError && e.code === "WORKER_HTTP_ERROR" && e.details?.status === 404) {
        if (this.#unbatched.size >= UNBATCHED_ENDPOINTS_MAX) this.#unbatched.clear();
        this.#unbatched.add(endpoint);
        for (const w of batch) this.#sendOne(endpoint, w);
        return;
      }
      for (const w of batch) w.reject(e);
      return;
    }
    try {
      const receipt = readQueryBatchResponse(bytes);
      if (receipt === undefined || receipt.answers.length !== batch.length) {
        throw new PhalaSdkError(
          "WORKER_BAD_RESPONSE",
          "worker",
          receipt === undefined
            ? `the worker at ${endpoint} answered a query batch with bytes that are not a QueryBatchResponse; its pRuntime is incompatible with this SDK`
            : `the worker at ${endpoint} answered ${receipt.answers.length} of a batch of ${batch.length} queries; the answer is refused`,
          { details: { url: endpoint } },
        );
      }
      batch.forEach((w, index) => w.resolve({ kind: "batch", receipt, index }));
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
  }

  #sendOne(endpoint: string, w: Waiting): void {
    postQuery(endpoint, w.request, this.#http).then((bytes) => w.resolve({ kind: "single", bytes }), w.reject);
  }
}
