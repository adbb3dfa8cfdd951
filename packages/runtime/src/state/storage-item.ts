import { blake2b128, blake2b256, concatBytes, twox128, twox256, twox64, utf8 } from "@phala-ts/primitives";
import type { Type } from "../types/index.ts";
import { decodeLength, encodeCompact, withCursor } from "../types/codecs.ts";
import { keyId } from "./overlay.ts";

/** Full storage keys remembered per map; a block touches far fewer distinct keys than this. */
export const MAP_KEY_CACHE_ENTRIES_MAX = 16_384;

export type Hasher = "Blake2_128" | "Blake2_256" | "Blake2_128Concat" | "Twox128" | "Twox256" | "Twox64Concat" | "Identity";

/** Read-only state, enough for every `get`. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /** A `Vec` value's element count, if the state can tell without assembling the value (StateOverlay). */
  vecLength?(key: Uint8Array): number;
}

/** The part of the state overlay a storage item needs. */
export interface StateAccess extends StateReader {
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Appends to a `Vec` value without copying it, if the state can (StateOverlay); returns the new length. */
  appendToVec?(key: Uint8Array, element: Uint8Array): number;
}

export function hashKey(hasher: Hasher, data: Uint8Array): Uint8Array {
  switch (hasher) {
    case "Blake2_128":
      return blake2b128(data);
    case "Blake2_256":
      return blake2b256(data);
    case "Blake2_128Concat":
      return concatBytes(blake2b128(data), data);
    case "Twox128":
      return twox128(data);
    case "Twox256":
      return twox256(data);
    case "Twox64Concat":
      return concatBytes(twox64(data), data);
    case "Identity":
      return data;
  }
}

/** Bytes the hasher leaves in front of the raw key, for iterating maps; undefined for opaque hashers. */
export function hasherPrefixLength(hasher: Hasher): number | undefined {
  switch (hasher) {
    case "Blake2_128Concat":
      return 16;
    case "Twox64Concat":
      return 8;
    case "Identity":
      return 0;
    default:
      return undefined;
  }
}

export interface StorageEntryMeta {
  name: string;
  modifier: "Optional" | "Default";
  kind: { tag: "plain"; value: Type<any> } | { tag: "map"; hashers: Hasher[]; key: Type<any>; value: Type<any> };
  fallback: Uint8Array;
  docs: string[];
}

type Read<V, D extends boolean> = D extends true ? V : V | undefined;

interface Common<V, D extends boolean> {
  readonly pallet: string;
  readonly name: string;
  readonly type: Type<V>;
  readonly prefix: Uint8Array;
  readonly meta: StorageEntryMeta;
  readonly hasDefault: D;
}

export interface StorageValue<V, D extends boolean> extends Common<V, D> {
  readonly kind: "value";
  key(): Uint8Array;
  get(s: StateReader): Read<V, D>;
  set(s: StateAccess, v: V): void;
  remove(s: StateAccess): void;
  exists(s: StateReader): boolean;
  mutate<R>(s: StateAccess, f: (v: Read<V, D>) => { value: V | undefined; result: R }): R;
}

export interface StorageMap<K, V, D extends boolean> extends Common<V, D> {
  readonly kind: "map";
  readonly hasher: Hasher;
  readonly keyType: Type<K>;
  key(k: K): Uint8Array;
  get(s: StateReader, k: K): Read<V, D>;
  set(s: StateAccess, k: K, v: V): void;
  remove(s: StateAccess, k: K): void;
  exists(s: StateReader, k: K): boolean;
  /** Decodes the map key back out of a full storage key (concat hashers only). */
  decodeKey(full: Uint8Array): K;
}

export interface StorageDoubleMap<K1, K2, V, D extends boolean> extends Common<V, D> {
  readonly kind: "doubleMap";
  key(k1: K1, k2: K2): Uint8Array;
  prefixFor(k1: K1): Uint8Array;
  get(s: StateReader, k1: K1, k2: K2): Read<V, D>;
  set(s: StateAccess, k1: K1, k2: K2, v: V): void;
  remove(s: StateAccess, k1: K1, k2: K2): void;
  exists(s: StateReader, k1: K1, k2: K2): boolean;
}

export type AnyStorageItem = StorageValue<any, boolean> | StorageMap<any, any, boolean> | StorageDoubleMap<any, any, any, boolean>;

interface ItemOptions<V> {
  default?: V;
  docs?: string[];
}

/**
 * The value at a key, or the item's default. An object default (a list, a struct) is decoded
 * afresh from its bytes, so a caller that changes what it read cannot change the default.
 */
function decodeValue<V>(type: Type<V>, raw: Uint8Array | undefined, dflt: V | undefined, fallback: Uint8Array): V | undefined {
  if (raw !== undefined) return type.codec.dec(raw);
  return dflt !== null && typeof dflt === "object" ? type.codec.dec(fallback) : dflt;
}

function metaFallback<V>(type: Type<V>, opts: ItemOptions<V>): { modifier: "Optional" | "Default"; fallback: Uint8Array } {
  if (opts.default === undefined) return { modifier: "Optional", fallback: new Uint8Array([0]) };
  return { modifier: "Default", fallback: type.codec.enc(opts.default) };
}

/**
 * Storage items of one pallet. Keys are `twox128(pallet) ++ twox128(item) ++ hasher(key)`,
 * exactly as FRAME lays them out, so polkadot-js and polkadot-api read them unchanged.
 */
export function palletStorage(pallet: string) {
  const palletPrefix = twox128(utf8(pallet));
  const prefixOf = (name: string) => concatBytes(palletPrefix, twox128(utf8(name)));

  function value<V>(name: string, type: Type<V>, opts: ItemOptions<V> & { default: V }): StorageValue<V, true>;
  function value<V>(name: string, type: Type<V>, opts?: ItemOptions<V>): StorageValue<V, false>;
  function value<V>(name: string, type: Type<V>, opts: ItemOptions<V> = {}): StorageValue<V, boolean> {
    const prefix = prefixOf(name);
    const { modifier, fallback } = metaFallback(type, opts);
    const item: StorageValue<V, boolean> = {
      kind: "value",
      pallet,
      name,
      type,
      prefix,
      hasDefault: opts.default !== undefined,
      meta: { name, modifier, kind: { tag: "plain", value: type }, fallback, docs: opts.docs ?? [] },
      key: () => prefix,
      get: (s) => decodeValue(type, s.get(prefix), opts.default, fallback) as V,
      set: (s, v) => s.set(prefix, type.codec.enc(v)),
      remove: (s) => s.delete(prefix),
      exists: (s) => s.get(prefix) !== undefined,
      mutate: (s, f) => {
        const { value: next, result } = f(item.get(s));
        if (next === undefined) s.delete(prefix);
        else s.set(prefix, type.codec.enc(next));
        return result;
      },
    };
    return item;
  }

  function map<K, V>(name: string, hasher: Hasher, keyType: Type<K>, type: Type<V>, opts: ItemOptions<V> & { default: V }): StorageMap<K, V, true>;
  function map<K, V>(name: string, hasher: Hasher, keyType: Type<K>, type: Type<V>, opts?: ItemOptions<V>): StorageMap<K, V, false>;
  function map<K, V>(name: string, hasher: Hasher, keyType: Type<K>, type: Type<V>, opts: ItemOptions<V> = {}): StorageMap<K, V, boolean> {
    const prefix = prefixOf(name);
    const { modifier, fallback } = metaFallback(type, opts);
    // Hot maps (System.Account) see the same few keys many times per block; hashing is
    // the costly part, so full keys are remembered by their encoded map key.
    const keyCache = new Map<string, Uint8Array>();
    const key = (k: K) => {
      const raw = keyType.codec.enc(k);
      const id = keyId(raw);
      let full = keyCache.get(id);
      if (full === undefined) {
        full = concatBytes(prefix, hashKey(hasher, raw));
        if (keyCache.size >= MAP_KEY_CACHE_ENTRIES_MAX) keyCache.clear();
        keyCache.set(id, full);
      }
      return full;
    };
    return {
      kind: "map",
      pallet,
      name,
      type,
      prefix,
      hasher,
      keyType,
      hasDefault: opts.default !== undefined,
      meta: { name, modifier, kind: { tag: "map", hashers: [hasher], key: keyType, value: type }, fallback, docs: opts.docs ?? [] },
      key,
      get: (s, k) => decodeValue(type, s.get(key(k)), opts.default, fallback) as V,
      set: (s, k, v) => s.set(key(k), type.codec.enc(v)),
      remove: (s, k) => s.delete(key(k)),
      exists: (s, k) => s.get(key(k)) !== undefined,
      decodeKey: (full) => {
        const skip = hasherPrefixLength(hasher);
        if (skip === undefined) throw new Error(`storage map ${pallet}.${name} uses opaque hasher ${hasher}; its keys cannot be decoded`);
        return keyType.codec.dec(full.subarray(prefix.length + skip));
      },
    };
  }

  function doubleMap<K1, K2, V>(
    name: string,
    h1: Hasher,
    k1Type: Type<K1>,
    h2: Hasher,
    k2Type: Type<K2>,
    type: Type<V>,
    tupleKey: Type<[K1, K2]>,
    opts: ItemOptions<V> = {},
  ): StorageDoubleMap<K1, K2, V, false> {
    const prefix = prefixOf(name);
    const { modifier, fallback } = metaFallback(type, opts);
    const prefixFor = (a: K1) => concatBytes(prefix, hashKey(h1, k1Type.codec.enc(a)));
    const key = (a: K1, b: K2) => concatBytes(prefixFor(a), hashKey(h2, k2Type.codec.enc(b)));
    return {
      kind: "doubleMap",
      pallet,
      name,
      type,
      prefix,
      hasDefault: false,
      meta: { name, modifier, kind: { tag: "map", hashers: [h1, h2], key: tupleKey, value: type }, fallback, docs: opts.docs ?? [] },
      key,
      prefixFor,
      get: (s, a, b) => decodeValue(type, s.get(key(a, b)), opts.default, fallback),
      set: (s, a, b, v) => s.set(key(a, b), type.codec.enc(v)),
      remove: (s, a, b) => s.delete(key(a, b)),
      exists: (s, a, b) => s.get(key(a, b)) !== undefined,
    };
  }

  return { value, map, doubleMap };
}

/** The element count of a stored `Vec` value, read from its length prefix alone (FRAME's `decode_len`); 0 when absent. */
export function vecValueLength<E>(s: StateReader, item: StorageValue<E[], boolean>): number {
  if (s.vecLength !== undefined) return s.vecLength(item.key());
  const raw = s.get(item.key());
  return raw === undefined ? 0 : withCursor(raw, decodeLength).value;
}

/**
 * Appends one element to a stored `Vec` value without decoding the others (FRAME's
 * `StorageValue::append`): the length prefix is rewritten and the element's encoding added at
 * the end, so a block that pushes n elements costs n copies of bytes, not n decodes and
 * re-encodes of the whole vector. Returns the new length.
 */
export function appendToVecValue<E>(s: StateAccess, item: StorageValue<E[], boolean>, elementType: Type<E>, element: E): number {
  const key = item.key();
  const encoded = elementType.codec.enc(element);
  if (s.appendToVec !== undefined) return s.appendToVec(key, encoded);
  const raw = s.get(key);
  if (raw === undefined) {
    s.set(key, concatBytes(encodeCompact(1), encoded));
    return 1;
  }
  const { value: count, consumed } = withCursor(raw, decodeLength);
  s.set(key, concatBytes(encodeCompact(count + 1), raw.subarray(consumed), encoded));
  return count + 1;
}
