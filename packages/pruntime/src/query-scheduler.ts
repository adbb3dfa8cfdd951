/**
 * Fair admission of queries (POST /query and POST /queries). Queries are free for the caller and
 * run one at a time on pRuntime's thread, so a client that sends them as fast as it can would
 * otherwise take every turn. Each query waits in a bounded queue and is served round-robin:
 * first across sources (the client's IP address, or its /64 for IPv6), then, inside a source,
 * across the (account, contract) pairs its query certificates name.
 *
 * Why two levels: the account is known before the query runs (it is in the certificate, in clear),
 * but it is proven only once the certificate's signature verifies inside the query, and accounts
 * cost nothing to make. Round-robin by account alone would let one client take as many turns as
 * it mints accounts, or queue bogus certificates under someone else's account. The source comes
 * from the TCP connection, which the client cannot choose, so it bounds what one client gets;
 * the account only splits a source's share among the accounts behind it (users behind one NAT,
 * or one dApp backend serving many users).
 *
 * A batch counts as as many turns as it holds queries, so batching buys no larger share.
 */
import { toHex } from "@phala-ts/primitives";
import { ScaleDecodeError, decodeExact } from "@phala-ts/runtime/types";
import { QueryRequest } from "@phala-ts/runtime/phala";
import { PruntimeError } from "./errors.ts";

/**
 * Requests waiting in the queue, all sources together. Queries take about a millisecond each
 * (longer ones are capped by QUERY_TIME_LIMIT_MS), so 1024 is about a second of work: a client
 * further back is better told to retry or ask another worker of the cluster.
 */
export const QUERY_QUEUE_REQUESTS_MAX = 1024;
/**
 * Requests one source may have waiting. The SDK keeps at most 8 batches in flight to a worker;
 * 64 leaves room for several users behind one NAT, and keeps one client from filling the queue.
 */
export const QUERY_QUEUE_PER_SOURCE_MAX = 64;
/**
 * Bytes of request bodies held by waiting requests. A batch is at most ~2 MiB, so without this
 * bound a full queue of batches could hold 2 GiB; 64 MiB is far above what honest queries need.
 */
export const QUERY_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/**
 * A request that waited longer than this is refused (503) instead of run: its client has likely
 * given up, and an answer that late is no use to a dApp that must render.
 */
export const QUERY_QUEUE_WAIT_MAX_MS = 10_000;
/**
 * Quick queries run back to back for up to this long before the event loop reads new requests:
 * one loop turn per query cost about a quarter of the throughput of 16 queries in flight, and
 * 2 ms delays a request that arrives meanwhile by no more than one slow query would.
 */
export const QUERY_TURN_SLICE_MS = 2;

export interface QuerySchedulerLimits {
  requestsMax: number;
  perSourceMax: number;
  bytesMax: number;
  waitMaxMs: number;
}

export const DEFAULT_QUERY_SCHEDULER_LIMITS: Readonly<QuerySchedulerLimits> = Object.freeze({
  requestsMax: QUERY_QUEUE_REQUESTS_MAX,
  perSourceMax: QUERY_QUEUE_PER_SOURCE_MAX,
  bytesMax: QUERY_QUEUE_BYTES_MAX,
  waitMaxMs: QUERY_QUEUE_WAIT_MAX_MS,
});

export interface QueryJob {
  /** Who sent it, as the connection says: see `sourceOfAddress`. */
  source: string;
  /** Whom the query is for, as the request says: see `laneOfQuery`. */
  lane: string;
  /** Queries it holds (1, or a batch's length): the turns it is charged. */
  cost: number;
  /** Body bytes it holds while it waits. */
  bytes: number;
  /** True once nobody waits for the answer (the client went away): the job is dropped, not run. */
  abandoned: () => boolean;
  run: () => Uint8Array | Promise<Uint8Array>;
}

interface Waiting {
  job: QueryJob;
  enqueuedAtMs: number;
  resolve: (answer: Uint8Array) => void;
  reject: (e: unknown) => void;
}

interface Source {
  /** Waiting jobs by lane; Map order is the round-robin order (a served lane moves to the end). */
  lanes: Map<string, Waiting[]>;
  queued: number;
  /** Turns this source still owes for batches served (a batch of n is charged n turns). */
  owed: number;
}

function refuse(code: "QUERY_QUEUE_FULL" | "TOO_MANY_QUERIES", message: string, details: Record<string, unknown>): PruntimeError {
  return new PruntimeError(code, message, { details });
}

/** Runs queries one at a time, round-robin across sources and their lanes; bounded in requests and bytes. */
export class QueryScheduler {
  readonly limits: QuerySchedulerLimits;
  readonly #now: () => number;
  /** Sources with waiting jobs; Map order is the round-robin order. */
  readonly #sources = new Map<string, Source>();
  #queued = 0;
  #bytes = 0;
  /** A job runs, or the next turn is scheduled. */
  #running = false;
  #served = 0;
  #listeners = new Set<() => void>();

  constructor(limits: Partial<QuerySchedulerLimits> = {}, now: () => number = () => performance.now()) {
    this.limits = { ...DEFAULT_QUERY_SCHEDULER_LIMITS, ...limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`query scheduler limit ${k} must be a positive integer, got ${String(v)}`);
    }
    this.#now = now;
  }

  /** Requests waiting (not counting the one running). */
  get queued(): number {
    return this.#queued;
  }

  /** Jobs run so far. */
  get served(): number {
    return this.#served;
  }

  /** Calls `listener` after every change of the queue (a job queued, started or finished); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues `job`; resolves to its answer, rejects with its error or with a refusal when the queue is full. */
  submit(job: QueryJob): Promise<Uint8Array> {
    const source = this.#sources.get(job.source);
    if ((source?.queued ?? 0) >= this.limits.perSourceMax) {
      return Promise.reject(
        refuse("TOO_MANY_QUERIES", `this address already has ${this.limits.perSourceMax} queries waiting on this worker; wait for their answers before sending more`, { max: this.limits.perSourceMax }),
      );
    }
    if (this.#queued >= this.limits.requestsMax || this.#bytes + job.bytes > this.limits.bytesMax) {
      return Promise.reject(refuse("QUERY_QUEUE_FULL", "this worker has too many queries waiting; retry in a moment or query another worker of the cluster", { max: this.limits.requestsMax }));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      let s = source;
      if (s === undefined) {
        s = { lanes: new Map(), queued: 0, owed: 0 };
        this.#sources.set(job.source, s);
      }
      let lane = s.lanes.get(job.lane);
      if (lane === undefined) {
        lane = [];
        s.lanes.set(job.lane, lane);
      }
      lane.push({ job, enqueuedAtMs: this.#now(), resolve, reject });
      s.queued += 1;
      this.#queued += 1;
      this.#bytes += job.bytes;
      this.#changed();
      this.#schedule();
    });
  }

  /** The next job by the round-robin rule, removed from the queue. */
  #next(): Waiting | undefined {
    for (;;) {
      const first = this.#sources.entries().next();
      if (first.done) return undefined;
      const [key, source] = first.value;
      this.#sources.delete(key);
      // A source that owes turns for a batch lets the others go first, unless it is alone.
      if (source.owed > 0 && this.#sources.size > 0) {
        source.owed -= 1;
        this.#sources.set(key, source);
        continue;
      }
      const [laneKey, lane] = source.lanes.entries().next().value as [string, Waiting[]];
      source.lanes.delete(laneKey);
      const waiting = lane.shift() as Waiting;
      if (lane.length > 0) source.lanes.set(laneKey, lane);
      source.queued -= 1;
      source.owed = this.#sources.size > 0 ? source.owed + waiting.job.cost - 1 : 0;
      // An emptied source is forgotten, debt and all: it gets its first turn back only by waiting its turn.
      if (source.queued > 0) this.#sources.set(key, source);
      this.#queued -= 1;
      this.#bytes -= waiting.job.bytes;
      return waiting;
    }
  }

  /**
   * Runs the next job in the event loop's check phase, never straight from a request handler:
   * the poll phase before it has then read every request that arrived while the last job ran,
   * so they all compete for this turn. Run on arrival, jobs would go in arrival order, and each
   * would delay reading the next request, so a queue (and any fairness) would never form.
   */
  #schedule(): void {
    if (this.#running) return;
    this.#running = true;
    setImmediate(() => this.#pump());
  }

  /**
   * One turn: jobs in round-robin order, back to back while they answer synchronously and
   * QUERY_TURN_SLICE_MS has not passed, then the event loop reads what arrived meanwhile. A
   * job that answers asynchronously (a batch yields between its queries) ends the turn.
   */
  #pump(): void {
    const turnStart = this.#now();
    for (;;) {
      const waiting = this.#next();
      if (waiting === undefined) {
        this.#running = false;
        return;
      }
      const pending = this.#start(waiting);
      if (pending !== undefined) {
        void pending.then(() => {
          this.#changed();
          setImmediate(() => this.#pump());
        });
        return;
      }
      this.#changed();
      if (this.#now() - turnStart >= QUERY_TURN_SLICE_MS) {
        setImmediate(() => this.#pump());
        return;
      }
    }
  }

  /** Runs (or refuses) one job; a promise that settles when it is done if it answers asynchronously. */
  #start(waiting: Waiting): Promise<void> | undefined {
    const { job } = waiting;
    if (job.abandoned()) {
      waiting.reject(new PruntimeError("BAD_REQUEST", "the client closed the connection before its query ran"));
      return undefined;
    }
    if (this.#now() - waiting.enqueuedAtMs > this.limits.waitMaxMs) {
      waiting.reject(refuse("QUERY_QUEUE_FULL", `this query waited more than ${this.limits.waitMaxMs} ms for its turn; retry or query another worker of the cluster`, { waitMaxMs: this.limits.waitMaxMs }));
      return undefined;
    }
    this.#served += 1;
    let answer: Uint8Array | Promise<Uint8Array>;
    try {
      answer = job.run();
    } catch (e) {
      waiting.reject(e);
      return undefined;
    }
    if (answer instanceof Uint8Array) {
      waiting.resolve(answer);
      return undefined;
    }
    return answer.then(waiting.resolve, waiting.reject);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** Leading 16-bit groups of an IPv6 address that name its /64: one subscriber usually holds a whole /64. */
const IPV6_SOURCE_GROUPS = 4;

/**
 * The source a connection counts against: its IPv4 address (also when IPv4-mapped), or the /64
 * of its IPv6 address, since one IPv6 subscriber can use any address of its /64.
 */
export function sourceOfAddress(address: string | undefined): string {
  if (address === undefined) return "unknown";
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice("::ffff:".length);
  if (!address.includes(":")) return address;
  const [head, tail] = address.split("::", 2) as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, IPV6_SOURCE_GROUPS)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * The lane of one SCALE QueryRequest: its certificate's account and its contract, as claimed
 * (the signature is checked when the query runs). A body that does not decode gets the lane ""
 * and is refused by the query itself, with the same error as without the queue.
 */
export function laneOfQuery(requestBytes: Uint8Array): string {
  try {
    const request = decodeExact(QueryRequest, requestBytes);
    return `${toHex(request.certificate.body.account)}/${toHex(request.contract)}`;
  } catch (e) {
    // Not refused here: the query's own decode answers it (BAD_REQUEST) in its turn.
    if (e instanceof ScaleDecodeError) return "";
    throw e;
  }
}
