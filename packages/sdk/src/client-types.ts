/**
 * The records the client returns and the settings it runs with, apart from the client, so
 * that what a contract handle needs (contract.ts) does not import the client.
 */
import type { WorkerInfoValue } from "@phala-ts/runtime/phala";
import type { ChainEvent } from "./dispatch-outcome.ts";
import type { Hex } from "./ids.ts";
import type { FetchLike } from "./worker-client.ts";

/** Resolved options; what PhalaContract reads. */
export interface ClientSettings {
  finalizationTimeoutMs: number;
  contractKeyTimeoutMs: number;
  resultTimeoutMs: number;
  workerTimeoutMs: number;
  pollIntervalMs: number;
  fetch: FetchLike;
  now: () => number;
}

export interface AccountBalance {
  nonce: number;
  free: bigint;
  reserved: bigint;
  frozen: bigint;
}

export interface WorkerDetails {
  pubkey: Hex;
  /** `PhalaRegistry.Workers`: undefined when the worker is not (or no longer) registered. */
  info: WorkerInfoValue | undefined;
  /** Its latest endpoint from `PhalaRegistry.Endpoints` (signed by the worker; the chain checked the signature). */
  endpoint: { url: string; signedAt: number } | undefined;
}

export interface ClusterDetails {
  id: Hex;
  owner: Hex;
  gasPrice: bigint;
  depositPerByte: bigint;
  depositPerItem: bigint;
  /** Published by a gatekeeper; undefined until then (nothing can be deployed to it before). */
  publicKeys: { pubkey: Hex; ecdhPubkey: Hex } | undefined;
  workers: WorkerDetails[];
}

export interface ContractDetails {
  id: Hex;
  deployer: Hex;
  codeHash: Hex;
  cluster: Hex;
  salt: Uint8Array;
  /** Published by the cluster once the contract is instantiated; undefined until then. */
  publicKeys: { pubkey: Hex; ecdhPubkey: Hex } | undefined;
}

export interface IncludedExtrinsic {
  hash: Hex;
  blockHash: Hex;
  blockNumber: number;
  index: number;
  /** The runtime events of this extrinsic, in order. */
  events: ChainEvent[];
}

