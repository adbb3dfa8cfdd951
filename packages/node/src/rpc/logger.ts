/** Structured logger: a static message plus fields. Any object of this shape works. */
export interface RpcLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

export const NOOP_RPC_LOGGER: RpcLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Fields describing an unknown thrown value, for logs. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, errorName: err.name, stack: err.stack };
  return { error: String(err) };
}
