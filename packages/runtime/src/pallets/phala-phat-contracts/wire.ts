/**
 * What the SDK and pRuntime exchange about contracts (ARCHITECTURE §6): encrypted commands
 * (through the chain), their encrypted results, and encrypted, signed queries (straight to
 * a worker). The chain only ever carries `EncryptedPayload` bytes.
 */
import { blake2b256, concatBytes, utf8 } from "@phala-ts/primitives";
import { T, type Infer } from "../../types/index.ts";
import { AccountId32, H256, MultiSignature } from "../../types/std.ts";

/** An envelope: the sender's x25519 key, the AES-GCM nonce and ciphertext ++ tag. */
export const EncryptedPayload = T.struct(["phala_pallets", "wire", "EncryptedPayload"], {
  sender_pubkey: T.fixedBytes(32),
  iv: T.fixedBytes(12),
  ciphertext: T.bytes,
});
export type EncryptedPayloadValue = Infer<typeof EncryptedPayload>;

/** Envelope labels; each use has its own so a ciphertext cannot be moved between them. */
export const WireLabels = {
  /** init args, to the cluster key; AAD = contract id. */
  init: utf8("phala/contract-init/v1"),
  /** command, to the contract key; AAD = contract id ++ sender account (commandAssociatedData). */
  command: utf8("phala/command/v1"),
  /** command result, from the contract key to the command's sender key; AAD = command id. */
  commandResult: utf8("phala/command-result/v1"),
  /** query, from the certified ephemeral key to the worker key; AAD = contract id. */
  query: utf8("phala/query/v1"),
  /** query answer, from the worker key to the certified ephemeral key; AAD = query id. */
  queryResponse: utf8("phala/query-response/v1"),
} as const;

/**
 * The associated data of a command: the contract and the account that pushes it. A copy of a
 * pending ciphertext pushed by another account does not decrypt, so nobody can run someone
 * else's command as their own.
 */
export function commandAssociatedData(contractId: Uint8Array, sender: Uint8Array): Uint8Array {
  return concatBytes(contractId, sender);
}

/** Plaintext of a command envelope. */
export const CommandPlaintext = T.struct(["phala_pallets", "wire", "CommandPlaintext"], {
  /** Random; makes two identical commands distinct. */
  nonce: T.fixedBytes(16),
  gas_limit: T.u64,
  /** The command as JSON text (UTF-8). */
  input: T.bytes,
});

/** Plaintext of init args (encrypted to the cluster key). */
export const InitPlaintext = T.struct(["phala_pallets", "wire", "InitPlaintext"], {
  gas_limit: T.u64,
  input: T.bytes,
});

export const ContractEvent = T.struct(["phala_pallets", "wire", "ContractEvent"], { topic: T.str, data: T.str });

export const CallError = T.struct(["phala_pallets", "wire", "CallError"], {
  /**
   * The VM's "gas" | "memory" | "stack" | "timeout" | "contract" | "invalid-code" | "invalid-input" | "internal", and
   * pRuntime's "decrypt" | "gas-limit-too-high" | "insufficient-balance" | "storage-full" (docs/interfaces.md).
   */
  kind: T.str,
  message: T.str,
});

/** What a command or query produced, encrypted to the one who sent it. */
export const CallOutcome = T.struct(["phala_pallets", "wire", "CallOutcome"], {
  ok: T.bool,
  /** JSON text of the return value when ok. */
  output: T.str,
  gas_used: T.u64,
  /** PHA charged from the sender's cluster balance: gas_used × gas price, plus the storage deposit. */
  fee: T.u128,
  events: T.vec(ContractEvent),
  error: T.option(CallError),
});
export type CallOutcomeValue = Infer<typeof CallOutcome>;

/** A command's result as a worker serves it: anyone may fetch it, only the sender can read it. */
export const CommandResult = T.struct(["phala_pallets", "wire", "CommandResult"], {
  contract: H256,
  command_id: H256,
  block_number: T.u32,
  /** CallOutcome, encrypted from the contract key to the command's sender_pubkey. */
  outcome: EncryptedPayload,
});

/**
 * The id of a command: blake2b-256 of the pushing account and its SCALE EncryptedPayload. The
 * sender is part of it, so a copy pushed first by someone else cannot use up the real command's id.
 */
export function commandIdOf(sender: Uint8Array, encryptedPayload: Uint8Array): Uint8Array {
  return blake2b256(concatBytes(sender, encryptedPayload));
}

/** The id an init's outcome is served under: blake2b-256 of the instantiation's `init_args`. */
export function initIdOf(initArgs: Uint8Array): Uint8Array {
  return blake2b256(initArgs);
}

/** An account vouches for an ephemeral x25519 key until `expires_at` (unix ms). */
export const QueryCertificateBody = T.struct(["phala_pallets", "wire", "QueryCertificateBody"], {
  account: AccountId32,
  ephemeral_pubkey: T.fixedBytes(32),
  expires_at: T.u64,
});
export const QueryCertificate = T.struct(["phala_pallets", "wire", "QueryCertificate"], {
  body: QueryCertificateBody,
  signature: MultiSignature,
});
export type QueryCertificateValue = Infer<typeof QueryCertificate>;
export const QUERY_CERT_DOMAIN = utf8("phala/query-cert/v1");

/** The bytes the account signs: a domain, then the SCALE body. Wallets sign it as raw bytes. */
export function queryCertificatePayload(body: Infer<typeof QueryCertificateBody>): Uint8Array {
  return concatBytes(QUERY_CERT_DOMAIN, QueryCertificateBody.codec.enc(body));
}

/** Plaintext of a query envelope. Its sender key must be the certificate's ephemeral key. */
export const QueryPlaintext = T.struct(["phala_pallets", "wire", "QueryPlaintext"], {
  /** Random; a worker refuses a nonce it has seen from the same account while the certificate lives. */
  nonce: T.fixedBytes(16),
  input: T.bytes,
});

export const QueryRequest = T.struct(["phala_pallets", "wire", "QueryRequest"], {
  contract: H256,
  certificate: QueryCertificate,
  encrypted: EncryptedPayload,
});

/** The query id: blake2b-256 of the SCALE QueryRequest. */
export function queryIdOf(request: Uint8Array): Uint8Array {
  return blake2b256(request);
}

/** Plaintext of a query answer: the nonce echoed, and the outcome. */
export const QueryAnswer = T.struct(["phala_pallets", "wire", "QueryAnswer"], {
  nonce: T.fixedBytes(16),
  outcome: CallOutcome,
});

export const QUERY_RESPONSE_DOMAIN = utf8("phala/query-response/v1");
export const QueryResponse = T.struct(["phala_pallets", "wire", "QueryResponse"], {
  query_id: H256,
  worker: T.fixedBytes(32),
  /** QueryAnswer, from the worker's x25519 key to the certified ephemeral key. */
  encrypted: EncryptedPayload,
  /** ed25519 by the worker identity key over QUERY_RESPONSE_DOMAIN ++ query_id ++ SCALE(encrypted). */
  signature: T.fixedBytes(64),
});

export function queryResponseSigningPayload(queryId: Uint8Array, encrypted: Uint8Array): Uint8Array {
  return concatBytes(QUERY_RESPONSE_DOMAIN, queryId, encrypted);
}

/**
 * Several queries to one worker in one request (`POST /queries`). Each item is the exact SCALE
 * bytes of a QueryRequest, so its query id stays blake2b-256 of those bytes.
 */
export const QueryBatchRequest = T.vec(T.bytes);

/** Why a worker refused one query of a batch: what `POST /query` would have answered as an HTTP error. */
export const QueryRefusal = T.struct(["phala_pallets", "wire", "QueryRefusal"], {
  /** The HTTP status `POST /query` gives this refusal (404 and 503 mean: ask another worker). */
  status: T.u16,
  code: T.str,
  message: T.str,
});
export type QueryRefusalValue = Infer<typeof QueryRefusal>;

/** One query's answer in a batch, in the order of the request. */
export const QueryBatchAnswer = T.struct(["phala_pallets", "wire", "QueryBatchAnswer"], {
  query_id: H256,
  /** Ok: QueryAnswer sealed as in QueryResponse; Err: why this query was refused. */
  result: T.result(EncryptedPayload, QueryRefusal),
});
export type QueryBatchAnswerValue = Infer<typeof QueryBatchAnswer>;
export const QueryBatchAnswers = T.vec(QueryBatchAnswer);

export const QUERY_BATCH_RESPONSE_DOMAIN = utf8("phala/query-batch-response/v1");
/**
 * One signature for the whole batch: the answers go back to the one client that sent the
 * batch, and a signature over all of them costs the worker and the client one ed25519
 * operation each instead of one per query.
 */
export const QueryBatchResponse = T.struct(["phala_pallets", "wire", "QueryBatchResponse"], {
  worker: T.fixedBytes(32),
  answers: QueryBatchAnswers,
  /** ed25519 by the worker identity key over QUERY_BATCH_RESPONSE_DOMAIN ++ SCALE(answers). */
  signature: T.fixedBytes(64),
});
export type QueryBatchResponseValue = Infer<typeof QueryBatchResponse>;

export function queryBatchSigningPayload(answers: Uint8Array): Uint8Array {
  return concatBytes(QUERY_BATCH_RESPONSE_DOMAIN, answers);
}
