/**
 * Worker HTTP off Node (the default of `#worker-http`: browsers, edge runtimes): the platform's fetch,
 * called as a function of the global object, as browsers require.
 */
import type { FetchLike } from "./types.ts";

export function platformFetch(): FetchLike | undefined {
  const f = (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof f !== "function") return undefined;
  return (input, init) => f.call(globalThis, input, init);
}
