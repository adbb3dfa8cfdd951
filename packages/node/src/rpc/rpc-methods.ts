/**
 * Substrate's `--rpc-methods`: which RPC methods a node answers. Some methods change the node
 * itself or tell a stranger about its peers (rotating session keys, inserting keys, dropping
 * extrinsics from the pool, adding reserved peers); Substrate calls them unsafe and refuses
 * them unless the node runs with `--rpc-methods unsafe`, or with `auto` (the default) while it
 * listens on loopback only.
 */
import { RpcError } from "./errors.ts";

export type RpcMethodsPolicy = "safe" | "unsafe" | "auto";
export const RPC_METHODS_POLICIES: readonly RpcMethodsPolicy[] = ["safe", "unsafe", "auto"];

/**
 * Substrate's unsafe methods (those whose implementation calls `deny_unsafe.check_if_safe()`
 * in sc-rpc: author, system, state, offchain, dev), so that a method added here under one of
 * these names is refused the way a Substrate node refuses it. Only those this node implements
 * can be called at all; the others answer "Method not found" in every mode.
 */
export const UNSAFE_RPC_METHODS: ReadonlySet<string> = new Set([
  "author_insertKey",
  "author_rotateKeys",
  "author_hasSessionKeys",
  "author_hasKey",
  "author_removeExtrinsic",
  "system_peers",
  "system_networkState",
  "system_unstable_networkState",
  "system_addReservedPeer",
  "system_removeReservedPeer",
  "system_addLogFilter",
  "system_resetLogFilter",
  "system_dryRun",
  "system_dryRunAt",
  "state_getPairs",
  "state_queryStorage",
  "state_traceBlock",
  "offchain_localStorageSet",
  "offchain_localStorageGet",
  "dev_getBlockStats",
]);

/** What Substrate answers for an unsafe method in safe mode (sc-rpc-api's UnsafeRpcError). */
export function unsafeRpcCall(): RpcError {
  return new RpcError(-32601, "RPC call is unsafe to be called externally");
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** True when unsafe methods are refused: `safe`, or `auto` on any interface but loopback (as Substrate's `auto`). */
export function deniesUnsafe(policy: RpcMethodsPolicy, host: string): boolean {
  if (policy === "auto") return !isLoopback(host);
  return policy === "safe";
}
