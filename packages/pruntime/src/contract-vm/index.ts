/** The confidential-contract VM (ARCHITECTURE §7, contract ABI in docs/contract-abi.md). */
export { ContractVm, type ContractVmOptions, type ContractVmModules, type ContractVmStats } from "./contract-vm.ts";
export {
  CONTRACT_API_VERSION,
  type CallMode,
  type CallOrigin,
  type CallEnv,
  type CallRequest,
  type CallOutcome,
  type CallError,
  type CallErrorKind,
  type ContractEvent,
} from "./types.ts";
export { StorageOverlay, MemoryContractStorage, type ContractStorage, type StorageWrite } from "./storage-overlay.ts";
export { ContractVmError, type ContractVmErrorCode } from "./errors.ts";
export { INTERRUPT_TICKS } from "./wasm-patch.ts";
export {
  GasMeter,
  GAS_CALL_BASE,
  GAS_PER_CODE_BYTE,
  GAS_PER_INPUT_BYTE,
  GAS_PER_OUTPUT_BYTE,
  GAS_PER_INTERRUPT,
  GAS_HOST_CALL,
  GAS_PER_READ_BYTE,
  GAS_PER_WRITE_BYTE,
  GAS_PER_KEY_LISTED,
  GAS_PER_EVENT_BYTE,
} from "./gas.ts";
export {
  CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT,
  CONTRACT_STACK_LIMIT_BYTES_DEFAULT,
  CONTRACT_PARSE_STACK_LIMIT_BYTES,
  STORAGE_KEY_BYTES_MAX,
  STORAGE_VALUE_BYTES_MAX,
  STORAGE_KEYS_LIMIT_MAX,
  CALL_WRITE_BYTES_MAX,
  EVENT_TOPIC_BYTES_MAX,
  EVENT_DATA_BYTES_MAX,
  EVENTS_PER_CALL_MAX,
  CALL_OUTPUT_BYTES_MAX,
  ERROR_MESSAGE_BYTES_MAX,
  CODE_CACHE_ENTRIES_MAX,
} from "./limits.ts";
