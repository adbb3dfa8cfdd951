import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "@phala-ts/primitives";
import { PruntimeError } from "../src/errors.ts";
import { DevSealer } from "../src/sealer.ts";

function tempDir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-sealer-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const isCode = (code: string) => (e: unknown) => e instanceof PruntimeError && e.code === code;

test("sealed data round-trips across sealer instances and never sits on disk in clear", (t) => {
  const dir = tempDir(t);
  const secret = utf8("the master key is 0123456789abcdef");
  new DevSealer(dir).seal("checkpoint", secret);
  assert.deepEqual(new DevSealer(dir).unseal("checkpoint"), secret);
  assert.equal(new DevSealer(dir).unseal("absent"), undefined);
  const onDisk = readFileSync(join(dir, "checkpoint.sealed"));
  assert.ok(!onDisk.includes(Buffer.from(secret)));
  assert.equal(statSync(join(dir, "sealing.key")).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "checkpoint.sealed")).mode & 0o777, 0o600);
});

test("a corrupted, truncated or renamed sealed file is detected and names the file", (t) => {
  const dir = tempDir(t);
  const s = new DevSealer(dir);
  s.seal("checkpoint", utf8("state"));
  const path = join(dir, "checkpoint.sealed");
  const good = readFileSync(path);

  const flipped = Buffer.from(good);
  flipped[flipped.length - 20] ^= 1;
  writeFileSync(path, flipped);
  assert.throws(() => s.unseal("checkpoint"), (e: unknown) => isCode("SEALED_CORRUPTED")(e) && (e as Error).message.includes(path));

  writeFileSync(path, good.subarray(0, good.length - 1));
  assert.throws(() => s.unseal("checkpoint"), isCode("SEALED_CORRUPTED"));
  writeFileSync(path, good.subarray(0, 10));
  assert.throws(() => s.unseal("checkpoint"), (e: unknown) => isCode("SEALED_CORRUPTED")(e) && (e as Error).message.includes("truncated"));
  writeFileSync(path, Buffer.alloc(0));
  assert.throws(() => s.unseal("checkpoint"), isCode("SEALED_CORRUPTED"));

  // The name is authenticated: a file moved onto another name does not open.
  writeFileSync(path, good);
  renameSync(path, join(dir, "other.sealed"));
  assert.throws(() => s.unseal("other"), isCode("SEALED_CORRUPTED"));
});

test("replacing is atomic: a crash leaves the old contents and a stale temp file is cleaned up", (t) => {
  const dir = tempDir(t);
  const s = new DevSealer(dir);
  s.seal("checkpoint", utf8("one"));
  s.seal("checkpoint", utf8("two"));
  assert.deepEqual(s.unseal("checkpoint"), utf8("two"));
  // A crash between writing the temp file and renaming it.
  writeFileSync(join(dir, "checkpoint.sealed.tmp"), "half-written garbage");
  const again = new DevSealer(dir);
  assert.deepEqual(again.unseal("checkpoint"), utf8("two"));
  assert.deepEqual(readdirSync(dir).sort(), ["checkpoint.sealed", "sealing.key"]);
});

test("sealed files without their sealing key are refused, not replaced by a new key", (t) => {
  const dir = tempDir(t);
  new DevSealer(dir).seal("checkpoint", utf8("state"));
  rmSync(join(dir, "sealing.key"));
  assert.throws(() => new DevSealer(dir), isCode("SEALING_KEY_MISSING"));
  writeFileSync(join(dir, "sealing.key"), Buffer.alloc(5));
  assert.throws(() => new DevSealer(dir), isCode("SEALED_CORRUPTED"));
  // Another key opens nothing.
  writeFileSync(join(dir, "sealing.key"), Buffer.alloc(32, 7));
  assert.throws(() => new DevSealer(dir).unseal("checkpoint"), isCode("SEALED_CORRUPTED"));
});
