/**
 * Contract bundles by code hash. Code is public (it travels on chain), but it is sealed like
 * everything else in the data directory: one sealed file per hash, named by the hash, written
 * when the chain delivers the code. Content-addressed, so a write is idempotent and a file
 * that outlives a crash before the next checkpoint is merely unused. A few bundles stay in
 * memory; the rest are read back on demand.
 */
import assert from "node:assert/strict";
import { blake2b256, bytesEqual } from "@phala-ts/primitives";
import { CODE_CACHE_MAX } from "./limits.ts";
import type { Sealer } from "./sealer.ts";

/** Sealed-file name of a code hash: its 64 lowercase hex digits. */
function nameOf(codeHash: Uint8Array): string {
  return Buffer.from(codeHash).toString("hex");
}

export class CodeStore {
  readonly #sealer: Sealer;
  /** Most recently used last. */
  readonly #cache = new Map<string, Uint8Array>();

  constructor(sealer: Sealer) {
    this.#sealer = sealer;
  }

  /** Seals `code` under its hash; the caller has checked that `codeHash` is its hash. */
  put(codeHash: Uint8Array, code: Uint8Array): void {
    assert.ok(bytesEqual(blake2b256(code), codeHash), "code is stored under its own hash");
    const name = nameOf(codeHash);
    if (!this.#cache.has(name)) this.#sealer.seal(name, code);
    this.remember(name, code);
  }

  /** The bundle, or undefined if it was never stored here. */
  get(codeHash: Uint8Array): Uint8Array | undefined {
    const name = nameOf(codeHash);
    const cached = this.#cache.get(name);
    if (cached !== undefined) {
      this.remember(name, cached);
      return cached;
    }
    const code = this.#sealer.unseal(name);
    if (code === undefined) return undefined;
    // A sealed file authenticates, so only a bug could make this differ; crash rather than run other code.
    assert.ok(bytesEqual(blake2b256(code), codeHash), `sealed code ${name} hashes to its name`);
    this.remember(name, code);
    return code;
  }

  private remember(name: string, code: Uint8Array): void {
    this.#cache.delete(name);
    this.#cache.set(name, code);
    while (this.#cache.size > CODE_CACHE_MAX) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
