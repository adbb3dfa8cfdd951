/**
 * Adversarial: never returns. The VM must stop each call at its gas limit (interrupt
 * handler), charge the sender the gas used, discard the call's state changes, and keep
 * serving other contracts. Same gas on every worker.
 *
 * - `{ op: "ping" }` answers `"pong"` (shows the contract itself still works).
 * - `{ op: "loop" }` writes a key, then spins forever (the write must be rolled back).
 * - `{ op: "loopCatching" }` spins inside try/catch, re-entering the loop from every catch:
 *   an interrupt must not be catchable.
 * - `{ op: "jobLoop" }` spins through promise jobs, which run inside the same metered call.
 * The same ops are accepted as queries (read-only: `loop` skips its write there).
 */
import { defineContract, env, storage } from "@phala-ts/contract";

function run(input: unknown): unknown {
  const op = typeof input === "object" && input !== null ? (input as { op?: unknown }).op : undefined;
  if (op === "loop") {
    if (env().mode !== "query") storage.set("touched", true);
    let i = 0;
    for (;;) i = (i + 1) | 0;
  }
  if (op === "loopCatching") {
    for (;;) {
      try {
        for (;;) {}
      } catch {
        // keep going: only the VM can end this call
      }
    }
  }
  if (op === "jobLoop") {
    const spin = (): Promise<void> => Promise.resolve().then(spin);
    return spin();
  }
  return "pong";
}

export default defineContract({
  handle: (command: unknown) => run(command),
  query: (request: unknown) => run(request),
});
