/**
 * Invariant assertions that run in browsers as well as Node (node:assert does not), for code
 * the SDK shares with the node: the runtime's codecs and state overlay. A failure is a bug in
 * this project, never bad input, so the error says so.
 */
export class InvariantError extends Error {
  readonly code = "INVARIANT_VIOLATED";
  constructor(message: string) {
    super(`internal invariant violated: ${message}; this is a bug, please report it`);
    this.name = "InvariantError";
  }
}

export interface Assert {
  (value: unknown, message?: string): asserts value;
  ok(value: unknown, message?: string): asserts value;
  /** Strict equality (`Object.is`), as node:assert/strict's `equal`. */
  equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  fail(message?: string): never;
}

function ok(value: unknown, message = "expected a truthy value"): asserts value {
  if (!value) throw new InvariantError(message);
}

export const assert: Assert = Object.assign(ok.bind(undefined) as Assert, {
  ok,
  equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T {
    if (!Object.is(actual, expected)) throw new InvariantError(message ?? `expected ${String(expected)}, got ${String(actual)}`);
  },
  fail(message = "unreachable"): never {
    throw new InvariantError(message);
  },
});
