/**
 * How every bench figure is summarised: the median of its measured runs beside the best one,
 * with all runs kept. The best alone flatters a shared machine's luckiest moment; the median is
 * what a run typically gets. Both are reported, and neither hides the runs.
 */

export interface Figure {
  /** Median of the measured runs (for an even count, the mean of the middle two). */
  median: number;
  /** The best run: the highest rate, or the lowest time when `lowerIsBetter`. */
  best: number;
  /** Every measured run, in the order they ran (warm-up runs are never in here). */
  runs: number[];
}

export function figure(runs: number[], options: { lowerIsBetter?: boolean; digits?: number } = {}): Figure {
  if (runs.length === 0) throw new RangeError("a figure needs at least one run");
  const digits = options.digits ?? 0;
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const best = options.lowerIsBetter ? sorted[0] : sorted[sorted.length - 1];
  return { median: round(median, digits), best: round(best, digits), runs: runs.map((r) => round(r, digits)) };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, not "${v}"`);
  return n;
}
