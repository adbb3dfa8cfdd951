/**
 * The host interface the contract VM installs as `globalThis.__phala_host` before a
 * contract's code runs (contract ABI, "Host interface"). Every value crossing it is a
 * string: keys are strings, stored values and event data are JSON text.
 *
 * The VM owns these functions; the kit only calls them. Each call is charged gas.
 */
export interface PhalaHost {
  /** The stored JSON text under `key`, or `undefined` when there is none. */
  storageGet(key: string): string | undefined;
  /** Stores JSON text under `key`. Throws in a query (read-only). */
  storageSet(key: string, value: string): void;
  /** Removes `key`. Throws in a query. */
  storageRemove(key: string): void;
  /** Keys starting with `prefix`, sorted, at most `limit` of them. */
  storageKeys(prefix: string, limit: number): string[];
  /** An event for the sender of the current command. Throws in a query. */
  emit(topic: string, data: string): void;
  /** JSON text of the call's environment (see `Env`). */
  env(): string;
}

/** Longest storage key the host accepts, in UTF-8 bytes (contract ABI). */
export const STORAGE_KEY_BYTES_MAX = 256;
/** Largest stored value the host accepts, in UTF-8 bytes of its JSON text (contract ABI). */
export const STORAGE_VALUE_BYTES_MAX = 65_536; // 64 KiB
/** Most keys one `storage.keys` call returns: bounds the work a single host call can do (contract ABI). */
export const STORAGE_KEYS_LIMIT_MAX = 1000;

/**
 * The installed host. Looked up on every call rather than captured at load time, so the
 * kit never holds a host from an earlier call. Missing means the code runs outside the
 * contract VM, which is a broken setup, not a contract error.
 */
export function host(): PhalaHost {
  const h = (globalThis as unknown as { __phala_host?: PhalaHost }).__phala_host;
  if (h === undefined) throw new ReferenceError("__phala_host is missing: contracts run only inside the Phala contract VM");
  return h;
}
