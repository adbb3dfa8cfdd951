/** What the SDK reads of an HTTP answer: a WHATWG `Response` has it, and so does the Node transport's. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FetchLike = (
  input: string,
  init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal; timeoutMs?: number },
) => Promise<ResponseLike>;

/**
 * A transport that stops a request after `init.timeoutMs` itself (with a TimeoutError), so
 * the caller need not make an AbortSignal per request. Any other FetchLike gets a signal.
 */
export interface TimedFetch extends FetchLike {
  readonly handlesTimeout: true;
}
