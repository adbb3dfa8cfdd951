/**
 * `@phala-ts/sdk`: connect to a Phala node, find clusters and workers, deploy confidential
 * contracts, send them encrypted commands and ask them encrypted, verified queries.
 */
export { PhalaClient } from "./client.ts";
export type { PhalaClientOptions, InstantiateParams, InstantiateResult, TransferToClusterParams } from "./client.ts";
export type { ClientSettings, AccountBalance, WorkerDetails, ClusterDetails, ContractDetails, IncludedExtrinsic } from "./client-types.ts";
export { PhalaContract } from "./contract.ts";
export type { ContractHost } from "./contract.ts";
export { ChainReader } from "./chain-reader.ts";
export type { CertifiedBlock, ChainReaderOptions, UnverifiedLink } from "./chain-reader.ts";
export type { TrustAnchor, TrustMode, ValidatorInput } from "./trust-anchor.ts";
export type { KeyProvenance, PublishedKeys } from "./provenance.ts";
export type { SendOptions, SendResult, QueryOptions, QueryResult } from "./contract.ts";
export type { CallResult, ContractEventOut } from "./call-outcome.ts";
export { callResult } from "./call-outcome.ts";
export type { ChainEvent, ExtrinsicOutcome } from "./dispatch-outcome.ts";
export { dispatchErrorName, extrinsicOutcome } from "./dispatch-outcome.ts";
export { PhalaSdkError } from "./errors.ts";
export type { PhalaSdkErrorCode, PhalaSdkErrorWhere, PhalaSdkErrorOptions } from "./errors.ts";
export type { Hex, IdLike } from "./ids.ts";
export type { Json } from "./json.ts";
export { createQueryCertificate, QueryCertificateCache } from "./query-certificate.ts";
export type { CertifiedKey } from "./query-certificate.ts";
export { sealInitArgs, sealCommand, openCommandResult, sealQuery, openQueryResponse, readQueryBatchResponse, openQueryBatchAnswer } from "./wire-crypto.ts";
export type {
  SealInitArgsParams,
  SealCommandParams,
  SealedCommand,
  OpenCommandResultParams,
  SealQueryParams,
  SealedQuery,
  OpenQueryResponseParams,
  QueryBatchReceipt,
  OpenQueryBatchAnswerParams,
  QueryBatchAnswerOpened,
  CommandResultValue,
  QueryResponseValue,
} from "./wire-crypto.ts";
export type { ReachableWorker } from "./result-poll.ts";
export type { WebSocketFactory, WebSocketLike } from "./websocket.ts";
export type { FetchLike, ResponseLike } from "./worker-client.ts";
export {
  DEFAULT_QUERY_CERT_TTL_MS,
  DEFAULT_MAX_STALENESS_MS,
  QUERY_CERT_TTL_MAX_MS,
  DEFAULT_FINALIZATION_TIMEOUT_MS,
  DEFAULT_CONTRACT_KEY_TIMEOUT_MS,
  DEFAULT_RESULT_TIMEOUT_MS,
  DEFAULT_WORKER_TIMEOUT_MS,
  DEFAULT_QUERY_BATCH_MAX,
  QUERY_BATCH_MAX,
} from "./limits.ts";
