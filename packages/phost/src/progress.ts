import type { Logger } from "./logger.ts";

/** Samples kept for the sync rate; older ones fall out of the window anyway. */
export const PROGRESS_SAMPLES_MAX = 64;
/** The rate is measured over this much recent time, so it follows changes in speed. */
export const PROGRESS_WINDOW_MS = 20_000;

export interface ProgressOptions {
  logger: Logger;
  /** A progress line at most this often while behind. */
  intervalMs: number;
  /** Milliseconds on a monotonic clock. */
  now: () => number;
}

export interface ProgressSnapshot {
  height: number;
  target: number;
  /** Blocks per second over the recent window; undefined until two samples exist. */
  blocksPerSecond: number | undefined;
  /** Seconds until caught up at the current rate; undefined when the rate is unknown. */
  etaSeconds: number | undefined;
}

/** "1h02m", "3m05s", "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/**
 * Turns sync heights into log lines: a progress line with height, rate and time left
 * every `intervalMs` while pRuntime is behind, and one "caught up" line when it reaches
 * the finalized head (the first time, and after each stretch that was worth a progress
 * line). Following the chain block by block stays quiet.
 */
export class ProgressReporter {
  readonly #opts: ProgressOptions;
  readonly #samples: Array<{ atMs: number; height: number }> = [];
  #lastLineMs = -Infinity;
  #behindSinceMs: number | undefined;
  #everCaughtUp = false;
  #reportedBehind = false;
  #snapshot: ProgressSnapshot = { height: 0, target: 0, blocksPerSecond: undefined, etaSeconds: undefined };

  constructor(options: ProgressOptions) {
    this.#opts = options;
  }

  get snapshot(): ProgressSnapshot {
    return this.#snapshot;
  }

  /** pRuntime is at `height`; the node's finalized head is `target`. */
  update(height: number, target: number): void {
    const now = this.#opts.now();
    this.#samples.push({ atMs: now, height });
    while (this.#samples.length > PROGRESS_SAMPLES_MAX || (this.#samples.length > 2 && now - this.#samples[1].atMs >= PROGRESS_WINDOW_MS)) {
      this.#samples.shift();
    }
    const first = this.#samples[0];
    const elapsedMs = now - first.atMs;
    const blocksPerSecond = elapsedMs > 0 && height >= first.height ? ((height - first.height) * 1000) / elapsedMs : undefined;
    const remaining = Math.max(0, target - height);
    const etaSeconds = blocksPerSecond && blocksPerSecond > 0 ? remaining / blocksPerSecond : undefined;
    this.#snapshot = { height, target, blocksPerSecond, etaSeconds };

    const log = this.#opts.logger;
    if (height >= target) {
      if (!this.#everCaughtUp || this.#reportedBehind) log.info("caught up with the finalized chain", { height });
      this.#everCaughtUp = true;
      this.#reportedBehind = false;
      this.#behindSinceMs = undefined;
      // The rate of a finished stretch says nothing about the next one.
      this.#samples.length = 0;
      this.#samples.push({ atMs: now, height });
      return;
    }
    this.#behindSinceMs ??= now;
    // Once caught up, falling a block or two behind until the next round is normal: only
    // a lag that lasts a whole interval is reported.
    if (this.#everCaughtUp && now - this.#behindSinceMs < this.#opts.intervalMs) return;
    if (now - this.#lastLineMs < this.#opts.intervalMs) return;
    this.#lastLineMs = now;
    this.#reportedBehind = true;
    log.info("syncing", {
      height,
      target,
      remaining,
      blocksPerSecond: blocksPerSecond === undefined ? "?" : Math.round(blocksPerSecond * 10) / 10,
      eta: etaSeconds === undefined ? "?" : formatDuration(etaSeconds),
    });
  }
}
