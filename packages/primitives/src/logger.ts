/**
 * Structured logging shared by the node, pRuntime, pHost and the CLI: a static message plus
 * fields. Levels: error = the process cannot do what it was asked; warn = something external
 * misbehaved; info = what an operator wants to see; debug = everything else. Keys, secrets
 * and message payloads are never logged.
 */
import { toHex } from "./bytes.ts";

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function format(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/** Writes `time level [scope] message key=value…` lines to a stream (stderr by default). */
export function createLogger(opts: { level?: LogLevel; scope?: string; write?: (line: string) => void } = {}): Logger {
  const level = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const scope = opts.scope ?? "phala";
  const emit = (lv: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[lv] < level) return;
    const kv = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${format(v)}`).join("") : "";
    write(`${new Date().toISOString()} ${lv.toUpperCase().padEnd(5)} [${scope}] ${msg}${kv}`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (s) => createLogger({ level: opts.level, scope: `${scope}:${s}`, write }),
  };
}


const noop = () => {};

/** Discards everything; the default for libraries until the caller hands in a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };
