/**
 * Host-side contract storage and a write-buffering overlay over it. Keys and values are
 * strings (values are JSON text); the VM checks their sizes before they get here.
 */

/**
 * One contract's key/value store as the VM sees it. `keys` returns keys starting with
 * `prefix` in ascending JavaScript string order (UTF-16 code units, i.e. `a < b`), at most
 * `limit` of them. The overlay relies on that order when it merges.
 */
export interface ContractStorage {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  remove(key: string): void;
  keys(prefix: string, limit: number): string[];
}

/** A buffered write: `value` undefined means the key is removed. */
export interface StorageWrite {
  key: string;
  value: string | undefined;
}

const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reads through to `base`, keeps writes to itself until `commit()`. Overlays stack: an
 * overlay can be the base of another.
 */
export class StorageOverlay implements ContractStorage {
  /** key -> new value, or undefined for a removal. */
  private readonly pending = new Map<string, string | undefined>();

  constructor(private readonly base: ContractStorage) {}

  get(key: string): string | undefined {
    return this.pending.has(key) ? this.pending.get(key) : this.base.get(key);
  }

  set(key: string, value: string): void {
    this.pending.set(key, value);
  }

  remove(key: string): void {
    this.pending.set(key, undefined);
  }

  keys(prefix: string, limit: number): string[] {
    if (limit <= 0) return [];
    let removed = 0;
    const added: string[] = [];
    for (const [k, v] of this.pending) {
      if (!k.startsWith(prefix)) continue;
      if (v === undefined) removed++;
      else added.push(k);
    }
    // Each pending removal can hide at most one of the base's keys, so asking for `removed`
    // more than `limit` still leaves `limit` visible ones whenever the base has them.
    const merged = new Set<string>(added);
    for (const k of this.base.keys(prefix, limit + removed)) {
      if (!this.pending.has(k)) merged.add(k);
    }
    return [...merged].sort(compareKeys).slice(0, limit);
  }

  /** Distinct keys written (set or removed) and not yet committed. */
  get size(): number {
    return this.pending.size;
  }

  /** The buffered writes in ascending key order. */
  writes(): StorageWrite[] {
    return [...this.pending.keys()].sort(compareKeys).map((key) => ({ key, value: this.pending.get(key) }));
  }

  /** Applies the buffered writes to the base in ascending key order and forgets them. */
  commit(): void {
    for (const { key, value } of this.writes()) {
      if (value === undefined) this.base.remove(key);
      else this.base.set(key, value);
    }
    this.pending.clear();
  }

  /** Forgets the buffered writes. */
  discard(): void {
    this.pending.clear();
  }
}

/** A plain in-memory ContractStorage (tests, benches, a contract's first instantiation). */
export class MemoryContractStorage implements ContractStorage {
  private readonly map = new Map<string, string>();

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  set(key: string, value: string): void {
    this.map.set(key, value);
  }

  remove(key: string): void {
    this.map.delete(key);
  }

  keys(prefix: string, limit: number): string[] {
    const out: string[] = [];
    for (const k of this.map.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort(compareKeys).slice(0, Math.max(0, limit));
  }

  /** Every entry in ascending key order. */
  entries(): Array<[string, string]> {
    return [...this.map].sort((a, b) => compareKeys(a[0], b[0]));
  }
}
