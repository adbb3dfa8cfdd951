import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressReporter, formatDuration } from "../src/progress.ts";
import { memoryLogger, type LogLine } from "./fakes.ts";

function reporter(intervalMs = 2000) {
  const lines: LogLine[] = [];
  let nowMs = 0;
  const p = new ProgressReporter({ logger: memoryLogger(lines), intervalMs, now: () => nowMs });
  return { p, lines, advance: (ms: number) => (nowMs += ms) };
}

test("formatDuration", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3720), "1h02m");
});

test("reports height, rate and time left every interval while behind", () => {
  const { p, lines, advance } = reporter();
  p.update(0, 10_000);
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0].fields, { height: 0, target: 10_000, remaining: 10_000, blocksPerSecond: "?", eta: "?" });
  advance(1000);
  p.update(1000, 10_000); // within the interval: no line
  assert.equal(lines.length, 1);
  advance(1000);
  p.update(2000, 10_000);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1].fields, { height: 2000, target: 10_000, remaining: 8000, blocksPerSecond: 1000, eta: "8s" });
  assert.equal(p.snapshot.blocksPerSecond, 1000);
  assert.equal(p.snapshot.etaSeconds, 8);
});

test("says 'caught up' once, and stays quiet following the chain block by block", () => {
  const { p, lines, advance } = reporter();
  p.update(0, 100);
  advance(500);
  p.update(100, 100);
  assert.deepEqual(
    lines.map((l) => l.msg),
    ["syncing", "caught up with the finalized chain"],
  );
  for (let h = 100; h < 110; h++) {
    advance(6000);
    p.update(h, h + 1); // a new block arrived
    advance(50);
    p.update(h + 1, h + 1); // and was synced in the same round
  }
  assert.equal(lines.length, 2);
  // A lag that lasts longer than the interval is reported, and its end too.
  p.update(110, 5000);
  advance(2500);
  p.update(2000, 5000);
  advance(500);
  p.update(5000, 5000);
  assert.deepEqual(
    lines.slice(2).map((l) => l.msg),
    ["syncing", "caught up with the finalized chain"],
  );
});
