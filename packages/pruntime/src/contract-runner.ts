/**
 * What pRuntime needs from the contract VM: one metered call against a contract's committed
 * storage, returning the net writes instead of applying them, so that the caller decides
 * (after charging) whether they are committed. The VM (contract-vm/) is wrapped in this shape
 * by `VmRunner` (on the calling thread) and `ThreadedVmRunner` (commands on a worker thread);
 * tests may give a runner of their own.
 */
import type { StorageWrites } from "./contract-storage.ts";

/** Committed storage as a call reads it; the call never writes through it. */
export interface StorageReader {
  get(key: string): string | undefined;
  /** Keys starting with `prefix`, sorted, at most `limit`. */
  keys(prefix: string, limit: number): string[];
}

export type CallMode = "init" | "handle" | "query";

export interface CallOrigin {
  kind: "account";
  /** 0x-prefixed hex of the AccountId32. */
  id: string;
}

export interface CallEnv {
  blockNumber: number;
  /** Unix ms of the block (proven `Timestamp.Now`). */
  timestamp: number;
  contractId: string;
  caller: string | null;
}

export interface ContractCall {
  code: Uint8Array;
  codeHash: Uint8Array;
  mode: CallMode;
  /** JSON text. */
  input: string;
  origin: CallOrigin;
  env: CallEnv;
  /** 32 bytes seeding the call's PRNG. */
  seed: Uint8Array;
  gasLimit: bigint;
  /** Committed state; the call sees it through an overlay and never changes it. */
  storage: StorageReader;
  /** Wall-clock cap (queries only: commands must stop at the same point on every worker). */
  timeLimitMs?: number;
}

export interface ContractEventOut {
  topic: string;
  data: string;
}

export type ContractCallResult =
  | { ok: true; output: string; gasUsed: bigint; events: ContractEventOut[]; writes: StorageWrites }
  | { ok: false; error: { kind: string; message: string }; gasUsed: bigint };

export interface ContractRunner {
  /** Runs on the calling thread and blocks it until the call ends (queries: bounded by `timeLimitMs`). */
  call(call: ContractCall): ContractCallResult;
  /**
   * Commands and inits, when the runner can run them off the calling thread: resolves with
   * exactly what `call` would return. Calls are run one at a time, in the order given.
   * Without it, pRuntime runs commands through `call` (and its sync blocks the thread).
   */
  execute?(call: ContractCall): Promise<ContractCallResult>;
}
