/** @phala-ts/pruntime: the worker's trusted runtime (ARCHITECTURE §5). */
export { startPruntime, DEFAULT_CHECKPOINT_INTERVAL_BLOCKS, DEFAULT_BEACON_INTERVAL_BLOCKS, type PruntimeOptions, type RunningPruntime } from "./service.ts";
export { PruntimeCore, type PruntimeCoreOptions, type PruntimeCoreModules, type CoreStatus, type SyncResult } from "./pruntime.ts";
export { PruntimeError, SyncError, type PruntimeErrorCode, type SyncErrorCode } from "./errors.ts";
export { DevSealer, writeFileAtomic, SEALED_FORMAT_VERSION, type Sealer } from "./sealer.ts";
export { WorkerKeys } from "./keys.ts";
export { LightClient, genesisState, verifyBatch, decodeSyncBatch, type LightClientState, type VerifiedBatch, type VerifiedBlock } from "./light-client.ts";
export { Dispatcher, type MessageHandler, type BlockInfo } from "./dispatcher.ts";
export { EgressQueue, type EgressOriginSnapshot } from "./egress.ts";
export { GatekeeperMachine, GatekeeperSnapshot, type GatekeeperStatus, type GatekeeperSnapshotValue } from "./gatekeeper.ts";
export {
  rotateMasterSecret,
  rotationSigningPayload,
  verifyRotationSignature,
  beaconRandom,
  encryptMasterKeyHistory,
  decryptMasterKeyHistory,
  KEY_DISTRIBUTION_ENVELOPE_LABEL,
  MASTER_ROTATION_DOMAIN,
} from "./master-key.ts";
export { Checkpoint, CHECKPOINT_FORMAT_VERSION, type CheckpointValue } from "./checkpoint.ts";
export { ContractsMachine, ContractsSnapshot, type ContractsSnapshotValue, type ContractInfo, type ClusterStatus } from "./contracts.ts";
export { ContractStorage, StorageEntries, type StorageWrites, type StorageDelta } from "./contract-storage.ts";
export type { ContractRunner, ContractCall, ContractCallResult, CallEnv, CallMode, CallOrigin, ContractEventOut, StorageReader } from "./contract-runner.ts";
export { createVmRunner } from "./vm-runner.ts";
export { createThreadedVmRunner, ThreadedVmRunner } from "./threaded-runner.ts";
export { CommandResults } from "./command-results.ts";
export { CodeStore } from "./code-store.ts";
export { answerQuery, NonceCache, VerifiedCertificates, type QueryErrorCode } from "./queries.ts";
export {
  clusterSecretOf,
  contractSecretOf,
  publicKeysOf,
  encryptClusterKeyShare,
  decryptClusterKeyShare,
  commandResultNonce,
  callSeed,
  CLUSTER_KEY_SHARE_LABEL,
} from "./key-shares.ts";
export { createPruntimeServer, pruntimeInfo, type PruntimeServer } from "./http-api.ts";
export {
  ConnectionCounts,
  DEFAULT_LISTENER_LIMITS,
  CONNECTIONS_MAX,
  CONNECTIONS_PER_SOURCE_MAX,
  HEADERS_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  BODY_BYTES_IN_FLIGHT_MAX,
  type ListenerLimits,
} from "./listener-limits.ts";
export {
  QueryScheduler,
  DEFAULT_QUERY_SCHEDULER_LIMITS,
  QUERY_QUEUE_REQUESTS_MAX,
  QUERY_QUEUE_PER_SOURCE_MAX,
  QUERY_QUEUE_BYTES_MAX,
  QUERY_QUEUE_WAIT_MAX_MS,
  QUERY_TURN_SLICE_MS,
  type QuerySchedulerLimits,
} from "./query-scheduler.ts";
export { createAttestationProvider, assertSupportedTee, measureThisPruntime, PRUNTIME_TEES, type PruntimeTee } from "./attestation.ts";
export { PRUNTIME_VERSION, PRUNTIME_RUNTIME_VERSION } from "./version.ts";
export { silentLogger, type Logger, type LogFields } from "./logger.ts";
export {
  SYNC_BODY_BYTES_MAX,
  JSON_BODY_BYTES_MAX,
  EGRESS_PENDING_PER_ORIGIN_MAX,
  BEACON_RECORDS_MAX,
  WORKERS_MAX,
  GATEKEEPERS_MAX,
  MASTER_HISTORY_MAX,
  CLUSTERS_MAX,
  CONTRACTS_MAX,
  COMMAND_RESULTS_MAX,
  CONTRACT_STORAGE_BYTES_MAX,
  QUERY_BODY_BYTES_MAX,
  QUERY_NONCES_MAX,
  QUERY_NONCES_PER_ACCOUNT_MAX,
  QUERY_CERT_LIFETIME_MAX_MS,
  QUERY_GAS_LIMIT,
  QUERY_TIME_LIMIT_MS,
  INIT_GAS_MAX,
} from "./limits.ts";
