export { RpcServer, DEFAULT_RPC_PORT } from "./server.ts";
export type { RpcServerOptions } from "./server.ts";
export type { RpcContext, RpcHandler, RpcTransport } from "./dispatcher.ts";
export type { SubscriptionSink } from "./subscription.ts";
export { RpcError, RPC_ERROR_CODE } from "./errors.ts";
export { RawJson } from "./encode.ts";
export { DEFAULT_RPC_LIMITS, resolveRpcLimits } from "./limits.ts";
export type { RpcLimits } from "./limits.ts";
export type { RpcLogger } from "./logger.ts";
