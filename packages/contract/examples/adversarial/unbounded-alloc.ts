/**
 * Adversarial: allocates without bound. The VM's memory limit must stop the call; an
 * out-of-memory condition is fatal to the call even when the contract catches it. The
 * sender pays the gas used, state changes are discarded, and other contracts keep running.
 *
 * - `{ op: "ping" }` answers `"pong"`.
 * - `{ op: "array" }` fills ever more arrays.
 * - `{ op: "string" }` doubles a string until it cannot.
 * - `{ op: "catching" }` catches every allocation failure and allocates again, and
 *   answers `"survived"` if it is ever allowed to finish (it must not be).
 */
import { defineContract } from "@phala-ts/contract";

/** Elements per chunk: large enough to reach any memory limit quickly. */
const CHUNK_LENGTH = 1 << 16;

function run(input: unknown): unknown {
  const op = typeof input === "object" && input !== null ? (input as { op?: unknown }).op : undefined;
  if (op === "array") {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(CHUNK_LENGTH).fill(hoard.length));
  }
  if (op === "string") {
    let s = "x";
    for (;;) s = s + s;
  }
  if (op === "catching") {
    const hoard: unknown[] = [];
    for (let round = 0; round < 1_000_000; round++) {
      try {
        for (;;) hoard.push(new Array<number>(CHUNK_LENGTH).fill(round));
      } catch {
        hoard.length = 0; // free everything and go again
      }
    }
    return "survived";
  }
  return "pong";
}

export default defineContract({
  handle: (command: unknown) => run(command),
  query: (request: unknown) => run(request),
});
