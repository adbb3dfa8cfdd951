/**
 * The logger pRuntime writes to: a static message plus fields, the same shape as the node's
 * and pHost's, so the CLI can hand one in. Levels: error = pRuntime cannot do its job or saw
 * something that must not happen (a beacon mismatch, a key that does not verify); warn =
 * input from outside was refused; info = progress an operator wants to see (init, role
 * changes, checkpoints); debug = everything else.
 * Never logged: keys, secrets, sealed bytes, message payloads.
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
