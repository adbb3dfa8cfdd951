import type { AppendFile } from "../src/sealed-store.ts";
import type { Sealer } from "../src/sealer.ts";

/** An append-only file in memory; `bytesAppended` counts what a checkpoint wrote. */
export class MemoryAppendFile implements AppendFile {
  bytes = new Uint8Array(0);
  bytesAppended = 0;
  removed = false;

  size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }

  append(chunks: readonly Uint8Array[]): void {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(this.bytes.length + total);
    out.set(this.bytes);
    let off = this.bytes.length;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    this.bytes = out;
    this.bytesAppended += total;
    this.removed = false;
  }

  truncate(length: number): void {
    this.bytes = this.bytes.slice(0, length);
  }

  remove(): void {
    this.bytes = new Uint8Array(0);
    this.removed = true;
  }
}

/** A sealer that keeps plaintext in memory: for tests of everything but sealing itself. */
export class MemorySealer implements Sealer {
  readonly files = new Map<string, Uint8Array>();
  readonly storeFiles = new Map<string, MemoryAppendFile>();
  /** Fixed: a MemorySealer seals nothing for real, it only has to reopen what it wrote. */
  readonly #storeKey = new Uint8Array(32).fill(7);
  writes = 0;

  storeKey(): Uint8Array {
    return this.#storeKey.slice();
  }

  storeFileNames(): string[] {
    return [...this.storeFiles].filter(([, f]) => !f.removed).map(([name]) => name);
  }

  storeFile(name: string): AppendFile {
    let f = this.storeFiles.get(name);
    if (f === undefined) this.storeFiles.set(name, (f = new MemoryAppendFile()));
    return f;
  }

  seal(name: string, plaintext: Uint8Array): void {
    this.files.set(name, plaintext.slice());
    this.writes++;
  }

  unseal(name: string): Uint8Array | undefined {
    return this.files.get(name)?.slice();
  }
}

/** A seeded byte generator (xorshift32), so a failing run replays from its printed seed. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}
