/** Formats shared by the Phala pallets and pRuntime: message queue, registry and their storage. */
export * from "./pallets/phala-mq/types.ts";
export { PhalaMqStorage } from "./pallets/phala-mq/storage.ts";
export * from "./pallets/phala-registry/types.ts";
export * from "./pallets/phala-mq/sync-batch.ts";
export { PhalaRegistryStorage } from "./pallets/phala-registry/storage.ts";
export { laneNextSequence } from "./pallets/phala-mq/pallet.ts";
export * from "./pallets/phala-phat-contracts/types.ts";
export { PhatContractsStorage, clusterPotAccount, CODE_SIZE_MAX, COMMAND_GAS_MAX } from "./pallets/phala-phat-contracts/pallet.ts";
export * from "./pallets/phala-phat-contracts/wire.ts";
export { keyOwnerOfPublication } from "./key-publications.ts";
