import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake2b256, concatBytes, utf8 } from "@phala-ts/primitives";
import { measurePruntimeBuild } from "./measure.ts";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "phala-measure-"));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

test("the measurement is blake2b-256 of SCALE Vec<(path, contents)> sorted by path", async () => {
  const dir = tree({ "b.ts": "B", "a/x.ts": "AX" });
  try {
    const expected = blake2b256(concatBytes(Uint8Array.of(2 << 2), Uint8Array.of(6 << 2), utf8("a/x.ts"), Uint8Array.of(2 << 2), utf8("AX"), Uint8Array.of(4 << 2), utf8("b.ts"), Uint8Array.of(1 << 2), utf8("B")));
    assert.deepEqual(await measurePruntimeBuild(dir), expected);
    assert.deepEqual(await measurePruntimeBuild(["b.ts", "a/x.ts"], dir), expected, "a file list in any order gives the same hash");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("contents, names and boundaries between files all change the measurement", async () => {
  const dirs = [tree({ "a.ts": "ab", "b.ts": "c" }), tree({ "a.ts": "a", "b.ts": "bc" }), tree({ "a.ts": "ab", "c.ts": "c" }), tree({ "a.ts": "ab", "b.ts": "d" })];
  try {
    const hashes = await Promise.all(dirs.map((d) => measurePruntimeBuild(d)));
    assert.equal(new Set(hashes.map((h) => Buffer.from(h).toString("hex"))).size, dirs.length);
    await assert.rejects(measurePruntimeBuild(["../outside.ts"], dirs[0]), /outside the measured root/);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true });
  }
});
