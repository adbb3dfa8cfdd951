/**
 * Waiting for a command's (or an init's) result: ask the cluster's workers in turn until one
 * serves a result that verifies, or the time is up. A worker that is down or serves a forged
 * result is skipped; the genuine result from any member is as good as from another.
 */
import type { CallOutcomeValue } from "@phala-ts/runtime/phala";
import { PhalaSdkError } from "./errors.ts";
import { hex } from "./ids.ts";
import { randomBytes } from "./random.ts";
import { openCommandResult } from "./wire-crypto.ts";
import { getCommandResult, type FetchLike } from "./worker-client.ts";

export interface ReachableWorker {
  pubkey: Uint8Array;
  ecdhPubkey: Uint8Array;
  url: string;
}

export interface AwaitResultParams {
  workers: ReachableWorker[];
  contractId: Uint8Array;
  commandId: Uint8Array;
  contractEcdhPubkey: Uint8Array;
  senderPrivateKey: Uint8Array;
  timeoutMs: number;
  pollIntervalMs: number;
  workerTimeoutMs: number;
  fetch: FetchLike;
  now: () => number;
  /** "command" or "init", for messages. */
  what: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts at a random worker so clients spread over the cluster. */
export function rotated<T>(list: readonly T[]): T[] {
  if (list.length < 2) return [...list];
  const start = randomBytes(1)[0] % list.length;
  return [...list.slice(start), ...list.slice(0, start)];
}

export async function awaitCommandResult(p: AwaitResultParams): Promise<{ outcome: CallOutcomeValue; worker: Uint8Array }> {
  const deadline = p.now() + p.timeoutMs;
  const http = { fetch: p.fetch, timeoutMs: p.workerTimeoutMs };
  let lastError: PhalaSdkError | undefined;
  for (;;) {
    for (const w of rotated(p.workers)) {
      try {
        const bytes = await getCommandResult(w.url, p.contractId, p.commandId, http);
        if (bytes === undefined) continue;
        const outcome = openCommandResult({ result: bytes, contractId: p.contractId, commandId: p.commandId, contractEcdhPubkey: p.contractEcdhPubkey, senderPrivateKey: p.senderPrivateKey });
        return { outcome, worker: w.pubkey };
      } catch (e) {
        // One worker down or lying must not hide the result another one serves.
        if (!(e instanceof PhalaSdkError) || e.where !== "worker") throw e;
        lastError = e;
      }
    }
    if (p.now() >= deadline) {
      const why = lastError ? ` (last problem: ${lastError.message})` : "";
      throw new PhalaSdkError(
        "RESULT_TIMEOUT",
        "worker",
        `the ${p.what} ${hex(p.commandId)} is final on chain, but no worker of the cluster served its result within ${p.timeoutMs} ms${why}; the workers may be behind or down — check them, the ${p.what} itself is not lost`,
        { details: { contract: hex(p.contractId), command: hex(p.commandId) }, cause: lastError },
      );
    }
    await sleep(p.pollIntervalMs);
  }
}
