/**
 * `@phala-ts/contract`: the API a confidential contract is written against. It is bundled
 * into every contract, so it imports nothing but its own files and stays small; at run
 * time it only calls `globalThis.__phala_host`, installed by the contract VM.
 */
export { storage, type Storage } from "./storage.ts";
export { env, emit, random, type Env, type Origin } from "./env.ts";
export { defineContract, ContractError, type ContractDefinition } from "./contract.ts";
export { STORAGE_KEY_BYTES_MAX, STORAGE_VALUE_BYTES_MAX, STORAGE_KEYS_LIMIT_MAX, type PhalaHost } from "./host.ts";
