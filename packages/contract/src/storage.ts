import { host, STORAGE_KEYS_LIMIT_MAX } from "./host.ts";

/** The contract's own key/value storage, kept by the host and sealed at rest. Values are JSON. */
export interface Storage {
  /** The value stored under `key`, parsed from JSON, or `undefined`. Not validated: treat it as your own data. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores `value` as JSON. Throws `TypeError` for values JSON cannot represent. Read-only in a query. */
  set(key: string, value: unknown): void;
  /** Removes `key` (no-op when absent). Read-only in a query. */
  remove(key: string): void;
  /** Keys starting with `prefix`, sorted, at most `limit` (default and maximum `STORAGE_KEYS_LIMIT_MAX`). */
  keys(prefix: string, limit?: number): string[];
}

export const storage: Storage = {
  get<T = unknown>(key: string): T | undefined {
    const text = host().storageGet(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  },
  set(key: string, value: unknown): void {
    host().storageSet(key, toJson(value, "storage.set"));
  },
  remove(key: string): void {
    host().storageRemove(key);
  },
  keys(prefix: string, limit: number = STORAGE_KEYS_LIMIT_MAX): string[] {
    return host().storageKeys(prefix, limit);
  },
};

/** JSON text of `value`; `undefined`, functions and symbols have none, so they are refused. */
export function toJson(value: unknown, where: string): string {
  const text = JSON.stringify(value);
  if (typeof text !== "string") throw new TypeError(`${where}: value has no JSON form (${typeof value})`);
  return text;
}
