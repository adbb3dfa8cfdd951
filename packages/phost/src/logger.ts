/**
 * pHost logs through the shared structured logger. Levels: error = pHost cannot do its job
 * without the operator (wrong chain); warn = the node or pRuntime misbehaved or is
 * unreachable, pHost retries; info = progress an operator wants to see; debug = the rest.
 */
export { silentLogger, type LogFields, type Logger } from "@phala-ts/primitives";
