/** pHost: the untrusted bridge between a Phala node and one pRuntime (ARCHITECTURE §1, §4). */
export { startPhost, resolvePhostOptions, PHOST_DEFAULTS } from "./service.ts";
export type { Phost, PhostOptions, PhostStatus, PhostState } from "./service.ts";
export { PhostError, NodeRpcError, PruntimeRefusedError, ChainRefusedError } from "./errors.ts";
export type { PhostErrorCode } from "./errors.ts";
export { silentLogger } from "./logger.ts";
export type { Logger, LogFields } from "./logger.ts";
export { RpcClient, RPC_PENDING_MAX, RPC_SUBSCRIPTIONS_MAX, RPC_MESSAGE_BYTES_MAX } from "./rpc-client.ts";
export type { RpcClientOptions, RpcTimers, Subscription, SubscriptionSpec } from "./rpc-client.ts";
export { classifyEgressRefusal } from "./egress-relay.ts";
export { REGISTRY_REFUSAL_HINTS, REGISTRATION_REFUSALS_NEEDING_OPERATOR } from "./registry-refusals.ts";
export type { EgressStats } from "./egress-relay.ts";
