import type { Sealer } from "../src/sealer.ts";

/** A sealer that keeps plaintext in memory: for tests of everything but sealing itself. */
export class MemorySealer implements Sealer {
  readonly files = new Map<string, Uint8Array>();
  writes = 0;

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
