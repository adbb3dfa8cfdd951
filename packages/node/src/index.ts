export { NodeService, BLOCK_LISTENERS_MAX } from "./service.ts";
export type { NodeOptions, BlockListener } from "./service.ts";
export { loadChainSpec, parseChainSpec, builtinChainSpecJson, ChainSpecError, BUILTIN_CHAINS } from "./chain-spec.ts";
export type { ChainSpecJson, LoadedChainSpec } from "./chain-spec.ts";
export { Chain, ChainError, decodeHeader, encodeHeader } from "./chain.ts";
export type { HeaderInfo, ImportedBlock } from "./chain.ts";
export { createLogger, silentLogger } from "./logger.ts";
export type { Logger, LogLevel } from "./logger.ts";
export { DEFAULT_AUTHOR_OPTIONS, systemClock } from "./author/block-author.ts";
export type { AuthorOptions, Clock } from "./author/block-author.ts";
export {
  verifyCertificate,
  decodeCertificate,
  encodeCertificate,
  precommitPayload,
  CertificateError,
  FINALITY_ENGINE_ID,
  CommitCertificate,
  ValidatorSet,
} from "@phala-ts/runtime/consensus";
export type { CommitCertificateValue, ValidatorSetValue } from "@phala-ts/runtime/consensus";
export { DEFAULT_RPC_PORT, DEFAULT_RPC_LIMITS, RPC_METHODS_POLICIES, UNSAFE_RPC_METHODS, type RpcMethodsPolicy } from "./rpc/index.ts";
