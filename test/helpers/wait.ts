/** Between polls of a condition; tests wait on state, never for a fixed time. */
export const POLL_INTERVAL_MS = 50;

/** Polls `probe` until it returns a value other than undefined, within a deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
