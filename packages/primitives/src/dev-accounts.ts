/** The well-known development accounts `//Alice` ... `//Ferdie` derived from `DEV_PHRASE`. */
import { keyPairFromUri, type KeyPair, type KeyType } from "./keys.ts";

export const DEV_ACCOUNT_NAMES = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"] as const;
export type DevAccountName = (typeof DEV_ACCOUNT_NAMES)[number];

/** `//<name>` on the dev phrase, e.g. `devAccount("Alice")` is Substrate's Alice (sr25519 by default). */
export function devAccount(name: DevAccountName, type: KeyType = "sr25519"): KeyPair {
  if (!DEV_ACCOUNT_NAMES.includes(name)) {
    throw new RangeError(`unknown dev account "${String(name)}"; use one of ${DEV_ACCOUNT_NAMES.join(", ")}`);
  }
  return keyPairFromUri(`//${name}`, type);
}

/** All six dev accounts of one key type, by name. */
export function devKeyring(type: KeyType = "sr25519"): Readonly<Record<DevAccountName, KeyPair>> {
  const ring = {} as Record<DevAccountName, KeyPair>;
  for (const name of DEV_ACCOUNT_NAMES) ring[name] = devAccount(name, type);
  return Object.freeze(ring);
}
