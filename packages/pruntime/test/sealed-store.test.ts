import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "@phala-ts/primitives";
import { PruntimeError } from "../src/errors.ts";
import { SealedStore, type StoreChange, type StoreCommitmentValue } from "../src/sealed-store.ts";
import { DevSealer } from "../src/sealer.ts";
import { MemorySealer, type MemoryAppendFile } from "./memory-sealer.ts";

const put = (k: string, v: string): StoreChange => ({ key: utf8(k), value: utf8(v) });
const del = (k: string): StoreChange => ({ key: utf8(k), value: undefined });
const none = () => [];

/** One checkpoint: the record, then (as the core does after sealing the header) committed(). */
function checkpoint(store: SealedStore, changes: StoreChange[]): StoreCommitmentValue {
  const c = store.prepare(changes, none);
  store.committed();
  return structuredClone(c);
}

function load(sealer: MemorySealer, commitment: StoreCommitmentValue): Map<string, string> {
  const out = new Map<string, string>();
  SealedStore.open(sealer, commitment, (k, v) => out.set(Buffer.from(k).toString(), Buffer.from(v).toString()));
  return out;
}

function refused(code: string, pattern: RegExp) {
  return (e: unknown) => e instanceof PruntimeError && e.code === code && pattern.test(e.message);
}

function file(sealer: MemorySealer, c: StoreCommitmentValue): MemoryAppendFile {
  return sealer.storeFiles.get(c.file)!;
}

/** Byte offsets of the frames of the record that starts at `start`. */
function frames(bytes: Uint8Array, start: number): { offset: number; length: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const count = view.getUint32(start + 8, true);
  const out = [];
  let off = start + 12;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(off, true);
    out.push({ offset: off, length: 4 + len });
    off += 4 + len;
  }
  return out;
}

test("the store reads back what was checkpointed, removals included, across generations", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  checkpoint(store, [put("a", "1"), put("b", "2"), put("c", "3")]);
  const c = checkpoint(store, [put("a", "4"), del("b")]);
  assert.equal(c.generation, 2n);
  assert.deepEqual(load(sealer, c), new Map([["a", "4"], ["c", "3"]]));
  // A checkpoint without changes writes nothing and names the same store.
  const before = store.bytesWritten;
  assert.deepEqual(checkpoint(store, []), c);
  assert.equal(store.bytesWritten, before);
});

test("an entry swapped with another key's entry is refused", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const c = checkpoint(store, [put("alice", "balance 10"), put("bobby", "balance 99")]);
  const f = file(sealer, c);
  const [a, b] = frames(f.bytes, 0);
  assert.equal(a.length, b.length);
  const swapped = f.bytes.slice();
  swapped.set(f.bytes.subarray(b.offset, b.offset + b.length), a.offset);
  swapped.set(f.bytes.subarray(a.offset, a.offset + a.length), b.offset);
  f.bytes = swapped;
  assert.throws(() => load(sealer, c), refused("STORE_CORRUPTED", /does not authenticate at its place \(generation 1, entry 0\)/));
});

test("an older value of one entry replayed over its newer value is refused", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  checkpoint(store, [put("balance", "100")]);
  const c = checkpoint(store, [put("balance", "001")]);
  const f = file(sealer, c);
  const [old] = frames(f.bytes, 0);
  const gen2Start = old.offset + old.length;
  const [fresh] = frames(f.bytes, gen2Start);
  const replayed = f.bytes.slice();
  replayed.set(f.bytes.subarray(old.offset, old.offset + old.length), fresh.offset);
  f.bytes = replayed;
  assert.throws(() => load(sealer, c), refused("STORE_CORRUPTED", /does not authenticate at its place \(generation 2, entry 0\)/));
});

test("the whole store rolled back to an older generation is refused", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  checkpoint(store, [put("k", "v1")]);
  const f = file(sealer, store.commitment);
  const older = f.bytes.slice();
  const c = checkpoint(store, [put("k", "v2")]);
  f.bytes = older;
  assert.throws(() => load(sealer, c), refused("STORE_ROLLED_BACK", /holds \d+ bytes but the checkpoint committed/));
});

test("a store of the committed length but other contents (another run's generation) is refused", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const c1 = checkpoint(store, [put("k", "v1")]);
  // A generation 2 written but never committed (crash before the checkpoint header)...
  store.prepare([put("k", "v2")], none);
  const f = file(sealer, c1);
  const other = f.bytes.slice();
  // ...then the restart cuts it off and commits a different generation 2 of the same length.
  const again = SealedStore.open(sealer, c1, () => {});
  const c2 = checkpoint(again, [put("k", "v3")]);
  assert.equal(f.bytes.length, other.length);
  f.bytes = other;
  assert.throws(() => load(sealer, c2), refused("STORE_ROLLED_BACK", /not the committed 2, or its contents differ/));
});

test("a corrupted or truncated entry is refused", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const c = checkpoint(store, [put("k", "value")]);
  const f = file(sealer, c);
  const good = f.bytes.slice();
  f.bytes = good.slice();
  f.bytes[f.bytes.length - 3] ^= 1;
  assert.throws(() => load(sealer, c), refused("STORE_CORRUPTED", /does not authenticate/));
  f.bytes = good.slice(0, good.length - 5);
  assert.throws(() => load(sealer, c), refused("STORE_ROLLED_BACK", /holds \d+ bytes but the checkpoint committed/));
  // A frame length rewritten to something huge is refused before anything is allocated.
  f.bytes = good.slice();
  new DataView(f.bytes.buffer).setUint32(12, 0xfffffff0, true);
  assert.throws(() => load(sealer, c), refused("STORE_CORRUPTED", /impossible length/));
});

test("a crash after the record but before its checkpoint: the restart resumes from the last checkpoint", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const c1 = checkpoint(store, [put("k", "v1")]);
  store.prepare([put("k", "v2"), put("extra", "x")], none);
  assert.deepEqual(load(sealer, c1), new Map([["k", "v1"]]));
  assert.equal(file(sealer, c1).bytes.length, Number(c1.length), "the uncommitted tail is cut off");
  const reopened = SealedStore.open(sealer, c1, () => {});
  const c2 = checkpoint(reopened, [put("k", "v3")]);
  assert.deepEqual(load(sealer, c2), new Map([["k", "v3"]]));
});

test("a checkpoint after one small change writes the same few bytes whatever the total state", () => {
  const written = (entries: number): number => {
    const sealer = new MemorySealer();
    const store = SealedStore.create(sealer);
    const value = "x".repeat(64 * 1024);
    checkpoint(
      store,
      Array.from({ length: entries }, (_, i) => put(`key ${i}`, value)),
    );
    const f = file(sealer, store.commitment);
    const before = f.bytesAppended;
    checkpoint(store, [put("key 0", "small")]);
    return f.bytesAppended - before;
  };
  const small = written(4); // 256 KiB of state
  const large = written(256); // 16 MiB of state
  assert.equal(small, large);
  // header 12 + frame length 4 + nonce 12 + entry (4 + 5 + 1 + 5) + tag 16
  assert.equal(large, 59);
});

test("compaction: a log full of overwritten values is rewritten once, to a new file, and the old one removed after the checkpoint", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const value = "y".repeat(1024 * 1024);
  const live = new Map<string, string>();
  let c = store.commitment;
  let compactedAt: bigint | undefined;
  for (let i = 0; i < 200 && compactedAt === undefined; i++) {
    const change = put(`k${i % 4}`, value + i);
    live.set(`k${i % 4}`, value + i);
    c = store.prepare([change], () => [...live].map(([k, v]) => put(k, v)));
    const oldFile = sealer.storeFiles.get("contracts-0")!;
    assert.equal(oldFile.removed, false, "the old file stays until the checkpoint naming the new one is sealed");
    store.committed();
    if (c.file !== "contracts-0") {
      compactedAt = c.generation;
      assert.equal(oldFile.removed, true);
    }
  }
  assert.ok(compactedAt !== undefined, "the store compacted");
  assert.ok(Number(c.length) < 5 * 1024 * 1024, "the new file holds the live entries only");
  assert.deepEqual(load(sealer, structuredClone(c)), live);
  const next = checkpoint(store, [put("k0", "after")]);
  assert.equal(load(sealer, next).get("k0"), "after");
});

test("on disk: entries are sealed under a subkey of the sealing key, and another key cannot read them", () => {
  const dir = mkdtempSync(join(tmpdir(), "sealed-store-"));
  try {
    const sealer = new DevSealer(dir);
    const store = SealedStore.create(sealer);
    const c = checkpoint(store, [put("secret key", "secret value")]);
    const raw = readFileSync(join(dir, `${c.file}.sealed-log`));
    assert.equal(raw.includes(Buffer.from("secret")), false, "nothing in the clear");
    const out = new Map<string, string>();
    SealedStore.open(new DevSealer(dir), c, (k, v) => out.set(Buffer.from(k).toString(), Buffer.from(v).toString()));
    assert.equal(out.get("secret key"), "secret value");
    writeFileSync(join(dir, "sealing.key"), new Uint8Array(32).fill(1));
    assert.throws(() => SealedStore.open(new DevSealer(dir), c, () => {}), refused("STORE_CORRUPTED", /does not authenticate/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a compaction that crashed after its checkpoint was sealed: the restart deletes the old file", () => {
  const sealer = new MemorySealer();
  const store = SealedStore.create(sealer);
  const value = "z".repeat(1024 * 1024);
  let c = store.commitment;
  for (let i = 0; c.file === "contracts-0"; i++) {
    c = store.prepare([put("k", value + i)], () => [put("k", value + i)]);
    if (c.file === "contracts-0") store.committed();
  }
  // The checkpoint naming the new file is sealed, then the process dies before committed().
  assert.equal(sealer.storeFiles.get("contracts-0")!.removed, false);
  const out = load(sealer, structuredClone(c));
  assert.equal(out.size, 1);
  assert.equal(sealer.storeFiles.get("contracts-0")!.removed, true);
  assert.deepEqual(sealer.storeFileNames(), [c.file]);
});
