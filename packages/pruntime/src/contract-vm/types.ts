/** What goes into and comes out of one contract call (contract ABI, docs/contract-abi.md). */
import type { ContractStorage } from "./storage-overlay.ts";

/** Version of the contract ABI this VM implements (host interface, bundle format, value encoding). */
export const CONTRACT_API_VERSION = 1;

export type CallMode = "init" | "handle" | "query";

/** Who sent a command or signed a query; `id` is `0x` and 64 lower-case hex digits. */
export interface CallOrigin {
  kind: "account" | "contract";
  id: string;
}

/** The environment the contract reads through `env()`. There is no clock besides `timestamp`. */
export interface CallEnv {
  blockNumber: number;
  /** Milliseconds, the block's timestamp. */
  timestamp: number;
  contractId: string;
  caller: string | null;
}

export interface CallRequest {
  /** The bundle: UTF-8 JavaScript, an esbuild IIFE with `globalName: "__contract"`. */
  code: Uint8Array;
  /** blake2b-256 of `code`; keys the VM's caches, so it must really be the hash of `code`. */
  codeHash: Uint8Array;
  mode: CallMode;
  /** JSON text: init args, the command, or the query request. */
  input: string;
  /** `null` for init and for unsigned queries. */
  origin: CallOrigin | null;
  env: CallEnv;
  /** 32 bytes seeding `Math.random` (contract key ++ message, hashed by the host). Never visible to the contract. */
  seed: Uint8Array;
  gasLimit: bigint;
  /**
   * The contract's storage. Written only if the call succeeds, all at once after it ends, in
   * sorted key order; pass a `StorageOverlay` to decide later whether to keep the writes.
   */
  storage: ContractStorage;
  /**
   * Queries only: `performance.now()` after which the call stops with kind "timeout". Wall
   * time differs between workers, so a command (which every worker must agree on) never sets it.
   */
  deadlineMs?: number;
}

export interface ContractEvent {
  topic: string;
  /** JSON text. */
  data: string;
}

export type CallErrorKind =
  /** The gas limit was reached; `gasUsed` is the limit. */
  | "gas"
  /** A query ran past its wall-clock deadline. */
  | "timeout"
  /** The memory limit was reached (even if the contract caught the error). */
  | "memory"
  /** The stack limit was reached (even if caught); `gasUsed` is the limit, see ContractVm. */
  | "stack"
  /** The contract threw, or returned something the VM refuses (message from the contract). */
  | "contract"
  /** The bundle does not parse, throws while loading, or does not define `__contract.default`. */
  | "invalid-code"
  /** `input` is not JSON. */
  | "invalid-input"
  /** A fault of the VM itself; never caused by a contract alone. */
  | "internal";

export interface CallError {
  kind: CallErrorKind;
  message: string;
}

export type CallOutcome =
  | {
      ok: true;
      /** JSON text of what the contract returned (`null` for `undefined`). */
      output: string;
      gasUsed: bigint;
      events: ContractEvent[];
      /** Keys the call set or removed (each counted once). */
      storageWrites: number;
    }
  | { ok: false; error: CallError; gasUsed: bigint };
