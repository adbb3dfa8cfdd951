/**
 * The one error class of the SDK. Every failure says where it happened — the chain, a
 * worker, the contract, gas — and what to do, with a stable `code` for programs.
 */

/** Where a failure happened, so a user knows whom to blame and what to fix. */
export type PhalaSdkErrorWhere = "chain" | "worker" | "contract" | "gas" | "sdk";

export type PhalaSdkErrorCode =
  // ---- the node and the chain
  /** The node cannot be reached, or the connection closed before it answered. */
  | "NODE_UNAVAILABLE"
  /** The node did not answer within the request timeout. */
  | "NODE_TIMEOUT"
  /** The node answered a JSON-RPC error (`details.rpcCode`). */
  | "NODE_RPC_ERROR"
  /** The node answered something that is not what the method returns. */
  | "NODE_BAD_RESPONSE"
  /**
   * What the node sent does not verify against the trust anchor: a read proof, a state root,
   * a commit certificate, a validator-set change, a stale state or a key's provenance
   * (`details.link` names which). Nothing was encrypted to or sent on its word.
   */
  | "CHAIN_UNVERIFIED"
  /** The transaction pool refused the extrinsic (bad nonce, bad signature, …). */
  | "TX_INVALID"
  /** The pool dropped the extrinsic before it was included. */
  | "TX_DROPPED"
  /** The extrinsic was not finalized in time. */
  | "TX_TIMEOUT"
  /** The extrinsic was included and its dispatch failed (`details.error` = `Pallet.Error`). */
  | "DISPATCH_FAILED"
  | "CLUSTER_NOT_FOUND"
  | "CONTRACT_NOT_FOUND"
  | "WORKER_NOT_FOUND"
  /** The cluster's public key is not on chain: nothing may be encrypted to it yet. */
  | "CLUSTER_KEY_MISSING"
  /** The contract's public key is not on chain: nothing may be encrypted to it yet. */
  | "CONTRACT_KEY_MISSING"
  // ---- workers
  /** The contract was instantiated but its public key did not appear on chain in time. */
  | "CONTRACT_KEY_TIMEOUT"
  /** No worker of the cluster has an endpoint on chain. */
  | "NO_WORKER_ENDPOINT"
  | "WORKER_UNREACHABLE"
  /** The worker answered an HTTP error (`details.status`, `details.workerCode`). */
  | "WORKER_HTTP_ERROR"
  /** The worker answered something that does not decode. */
  | "WORKER_BAD_RESPONSE"
  /** No worker had the command's result in time. */
  | "RESULT_TIMEOUT"
  /** A result or answer is not authentic: wrong worker, key, signature, id or nonce. */
  | "RESPONSE_UNVERIFIED"
  /** The worker failed inside (a bug or a broken pRuntime), not the contract. */
  | "WORKER_INTERNAL"
  // ---- the contract
  /** The contract refused the input (it threw). */
  | "CONTRACT_ERROR"
  /** The contract hit its memory or stack limit. */
  | "CONTRACT_LIMIT"
  /** The contract's code or the input is not acceptable to the VM. */
  | "CONTRACT_INVALID"
  /** The contract answered something that is not JSON. */
  | "CONTRACT_BAD_OUTPUT"
  // ---- gas
  | "OUT_OF_GAS"
  | "INSUFFICIENT_BALANCE"
  // ---- the SDK itself
  | "INVALID_ARGUMENT"
  | "CLOSED";

export interface PhalaSdkErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class PhalaSdkError extends Error {
  readonly code: PhalaSdkErrorCode;
  readonly where: PhalaSdkErrorWhere;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: PhalaSdkErrorCode, where: PhalaSdkErrorWhere, message: string, options: PhalaSdkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PhalaSdkError";
    this.code = code;
    this.where = where;
    this.details = options.details;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
