import type { LogFields, Logger } from "../src/logger.ts";

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields?: LogFields;
}

/** A logger that records entries, to assert on errors and on what is (never) logged. */
export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (): Logger & { entries: LogEntry[] } => ({
    entries,
    debug: (msg, fields) => entries.push({ level: "debug", msg, fields }),
    info: (msg, fields) => entries.push({ level: "info", msg, fields }),
    warn: (msg, fields) => entries.push({ level: "warn", msg, fields }),
    error: (msg, fields) => entries.push({ level: "error", msg, fields }),
    child: () => make(),
  });
  return make();
}
