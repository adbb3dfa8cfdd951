/**
 * The logger pRuntime writes to: a static message plus fields, the same shape as the node's
 * and pHost's, so the CLI can hand one in. Levels: error = pRuntime cannot do its job or saw
 * something that must not happen (a beacon mismatch, a key that does not verify); warn =
 * input from outside was refused; info = progress an operator wants to see (init, role
 * changes, checkpoints); debug = everything else.
 * Never logged: keys, secrets, sealed bytes, message payloads.
 */
export { silentLogger, type LogFields, type Logger } from "@phala-ts/primitives";
