import { assert, bytesKey, concatByteList } from "@phala-ts/primitives";
import { decodeLength, encodeCompact, withCursor } from "../types/codecs.ts";

/** Map key for storage keys: latin1 of the bytes, far cheaper than hex. */
export const keyId = bytesKey;

/** What the runtime reads underneath its overlay: the trie at the parent state, or a pending block batch. */
export interface StateBackend {
  get(key: Uint8Array): Uint8Array | undefined;
}

export type StateChanges = Map<string, { key: Uint8Array; value: Uint8Array | null }>;

/**
 * A `Vec` value appended to during the block, kept as its parts: the value it had before
 * (`base`, with its length prefix) and the appended elements' encodings. `items` is shared
 * by the layers that see this value; each layer's entry says how many items it includes, so
 * a rolled-back layer's items (beyond every remaining layer's count) are cut off by the next
 * append. The encoding is assembled only when the value is read.
 */
interface VecParts {
  readonly base: Uint8Array | undefined;
  readonly baseCount: number;
  readonly baseBodyStart: number;
  readonly items: Uint8Array[];
}

interface Entry {
  key: Uint8Array;
  value: Uint8Array | null;
  vec?: VecParts;
  /** Items of `vec` this layer's value includes. */
  vecItems?: number;
}

type Layer = Map<string, Entry>;

/**
 * Layered write overlay for one block. `begin()` opens a nested transactional layer;
 * `rollback()` drops it and `commit()` folds it into the layer below. A failed call
 * therefore changes nothing, as FRAME's `#[transactional]` dispatch guarantees.
 */
export class StateOverlay {
  readonly #backend: StateBackend;
  readonly #layers: Layer[] = [new Map()];

  constructor(backend: StateBackend) {
    this.#backend = backend;
  }

  get depth(): number {
    return this.#layers.length;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const hit = this.#find(keyId(key));
    if (hit === undefined) return this.#backend.get(key);
    if (hit.vec !== undefined) return assemble(hit.vec, hit.vecItems!);
    return hit.value ?? undefined;
  }

  /**
   * Appends an element's encoding to the `Vec` stored at `key` (FRAME's `StorageValue::append`)
   * without copying the elements already there: a block pushing n messages costs O(n), not
   * O(n²). A value that is absent counts as empty. Returns the new length.
   */
  appendToVec(key: Uint8Array, element: Uint8Array): number {
    const k = keyId(key);
    const hit = this.#find(k);
    let vec: VecParts;
    let count: number;
    if (hit?.vec !== undefined) {
      vec = hit.vec;
      count = hit.vecItems!;
      vec.items.length = count;
    } else {
      const base = hit === undefined ? this.#backend.get(key) : (hit.value ?? undefined);
      const prefix = base === undefined ? { value: 0, consumed: 0 } : withCursor(base, decodeLength);
      vec = { base, baseCount: prefix.value, baseBodyStart: prefix.consumed, items: [] };
      count = 0;
    }
    vec.items.push(element);
    this.#top().set(k, { key, value: null, vec, vecItems: count + 1 });
    return vec.baseCount + count + 1;
  }

  /** The element count of the `Vec` at `key` from its length prefix alone; 0 when absent. */
  vecLength(key: Uint8Array): number {
    const hit = this.#find(keyId(key));
    if (hit?.vec !== undefined) return hit.vec.baseCount + hit.vecItems!;
    const raw = hit === undefined ? this.#backend.get(key) : (hit.value ?? undefined);
    return raw === undefined ? 0 : withCursor(raw, decodeLength).value;
  }

  #find(k: string): Entry | undefined {
    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const hit = this.#layers[i].get(k);
      if (hit !== undefined) return hit;
    }
    return undefined;
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
    const changes = this.#layers[0];
    for (const [k, e] of changes) {
      if (e.vec !== undefined) changes.set(k, { key: e.key, value: assemble(e.vec, e.vecItems!) });
    }
    return changes;
  }

  #top(): Layer {
    return this.#layers[this.#layers.length - 1];
  }
}

function assemble(vec: VecParts, items: number): Uint8Array {
  const body = vec.base === undefined ? [] : [vec.base.subarray(vec.baseBodyStart)];
  return concatByteList([encodeCompact(vec.baseCount + items), ...body, ...vec.items.slice(0, items)]);
}
