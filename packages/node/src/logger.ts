/** The node logs through the shared structured logger; its root scope is "node". */
import { createLogger as create, type LogLevel, type Logger } from "@phala-ts/primitives";

export { silentLogger, type LogFields, type LogLevel, type Logger } from "@phala-ts/primitives";

export function createLogger(opts: { level?: LogLevel; scope?: string; write?: (line: string) => void } = {}): Logger {
  return create({ scope: "node", ...opts });
}
