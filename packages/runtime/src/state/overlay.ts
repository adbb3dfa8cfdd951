import { assert, bytesKey } from "@phala-ts/primitives";

/** Map key for storage keys: latin1 of the bytes, far cheaper than hex. */
export const keyId = bytesKey;

/** What the runtime reads underneath its overlay: the trie at the parent state, or a pending block batch. */
export interface StateBackend {
  get(key: Uint8Array): Uint8Array | undefined;
}

export type StateChanges = Map<string, { key: Uint8Array; value: Uint8Array | null }>;

/**
 * Layered write overlay for one block. `begin()` opens a nested transactional layer;
 * `rollback()` drops it and `commit()` folds it into the layer below. A failed call
 * therefore changes nothing, as FRAME's `#[transactional]` dispatch guarantees.
 */
export class StateOverlay {
  readonly #backend: StateBackend;
  readonly #layers: StateChanges[] = [new Map()];

  constructor(backend: StateBackend) {
    this.#backend = backend;
  }

  get depth(): number {
    return this.#layers.length;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const k = keyId(key);
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const hit = this.#layers[i].get(k);
      if (hit !== undefined) return hit.value ?? undefined;
    }
    return this.#backend.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#top().set(keyId(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.#top().set(keyId(key), { key, value: null });
  }

  begin(): void {
    this.#layers.push(new Map());
  }

  commit(): void {
    assert.ok(this.#layers.length > 1, "commit without an open transactional layer");
    const top = this.#layers.pop()!;
    const below = this.#top();
    for (const [k, v] of top) below.set(k, v);
  }

  rollback(): void {
    assert.ok(this.#layers.length > 1, "rollback without an open transactional layer");
    this.#layers.pop();
  }

  /** All changes of the block, once every nested layer is closed. */
  changes(): StateChanges {
    assert.equal(this.#layers.length, 1, "changes() with open transactional layers");
    return this.#layers[0];
  }

  #top(): StateChanges {
    return this.#layers[this.#layers.length - 1];
  }
}
