/**
 * The logger pHost writes to: a static message plus fields, the same shape as the node's
 * logger so the CLI can hand one in. Levels: error = pHost cannot do its job without the
 * operator (wrong chain); warn = the node or pRuntime misbehaved or is unreachable, pHost
 * retries; info = progress an operator wants to see; debug = everything else.
 * pHost never logs keys, sealed data or message payloads.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

const noop = () => {};

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };
