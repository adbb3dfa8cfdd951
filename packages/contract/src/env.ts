import { host } from "./host.ts";
import { toJson } from "./storage.ts";

/** Who sent a command or signed a query. `id` is `0x` and 64 lower-case hex digits. */
export interface Origin {
  kind: "account" | "contract";
  id: string;
}

/** The environment of the current call, given by the host. There is no clock besides `timestamp`. */
export interface Env {
  /** Block the command was included in; for a query, the worker's latest block. */
  blockNumber: number;
  /** That block's timestamp in milliseconds. */
  timestamp: number;
  contractId: string;
  /** Account that sent the command or signed the query; `null` when there is none. */
  caller: string | null;
  mode: "init" | "handle" | "query";
}

/** The current call's environment. */
export function env(): Env {
  return JSON.parse(host().env()) as Env;
}

/** Emits an event, delivered encrypted to the command's sender only. Throws in a query. */
export function emit(topic: string, data: unknown): void {
  host().emit(topic, toJson(data, "emit"));
}

/**
 * A number in [0, 1) from the VM's PRNG, seeded per call from the contract key and the
 * message, so every worker draws the same sequence. Same as `Math.random()` inside the VM.
 */
export function random(): number {
  return Math.random();
}
