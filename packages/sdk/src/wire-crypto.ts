/**
 * The SDK's side of the wire formats in `@phala-ts/runtime/phala` (ARCHITECTURE §6): every
 * contract input leaves the SDK only through these functions, sealed to a key read from
 * chain, and every answer is accepted only after it proves where it came from.
 * Pure functions of their arguments (randomness is taken when not given), so tests pin them.
 */
import { bytesEqual, openEnvelope, openWithKey, sealEnvelope, sealWithKey, toHex, verifyEd25519, x25519GenerateKeyPair, x25519KeyPair, EnvelopeError, type Envelope, type EnvelopeKeyCache } from "@phala-ts/primitives";
import {
  commandAssociatedData,
  initIdOf,
  CallOutcome,
  CommandPlaintext,
  CommandResult,
  EncryptedPayload,
  InitPlaintext,
  QueryAnswer,
  QueryBatchResponse,
  QueryPlaintext,
  QueryRequest,
  QueryResponse,
  WireLabels,
  commandIdOf,
  queryBatchSigningPayload,
  queryIdOf,
  queryResponseSigningPayload,
  type CallOutcomeValue,
  type EncryptedPayloadValue,
  type QueryBatchAnswerValue,
  type QueryBatchResponseValue,
  type QueryCertificateValue,
  type QueryRefusalValue,
  type WorkerInfoValue,
} from "@phala-ts/runtime/phala";
import { decodeExact, type Infer } from "@phala-ts/runtime/types";
import { PhalaSdkError } from "./errors.ts";
import { COMMAND_NONCE_BYTES, QUERY_NONCE_BYTES } from "./limits.ts";
import { randomBytes } from "./random.ts";

export type CommandResultValue = Infer<typeof CommandResult>;
export type QueryResponseValue = Infer<typeof QueryResponse>;

const X25519_KEY_BYTES = 32;
const WORKER_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

function toPayload(e: Envelope): EncryptedPayloadValue {
  return { sender_pubkey: e.senderPublicKey, iv: e.nonce, ciphertext: e.ciphertext };
}

function toEnvelope(p: EncryptedPayloadValue): Envelope {
  return { senderPublicKey: p.sender_pubkey, nonce: p.iv, ciphertext: p.ciphertext };
}

function requireKey(what: string, key: Uint8Array | undefined): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_BYTES) {
    // No key means no encryption, and the SDK never sends a contract input in clear.
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `refusing to send: the ${what} x25519 key is missing or not ${X25519_KEY_BYTES} bytes, and the SDK never sends contract input in plaintext`);
  }
  return key;
}

function unverified(message: string, details: Record<string, unknown>, cause?: unknown): PhalaSdkError {
  return new PhalaSdkError("RESPONSE_UNVERIFIED", "worker", message, { details, cause });
}

// ---------------------------------------------------------------- init args

export interface SealInitArgsParams {
  /** The cluster's x25519 key, from `PhalaRegistry.ClusterKeys` on chain. */
  clusterEcdhPubkey: Uint8Array;
  contractId: Uint8Array;
  gasLimit: bigint;
  /** UTF-8 JSON text of the init arguments. */
  input: Uint8Array;
  /** The ephemeral x25519 private key the init's outcome is encrypted to; fresh when absent. */
  senderPrivateKey?: Uint8Array;
}

/**
 * SCALE EncryptedPayload of InitPlaintext to the cluster key (label init, AAD contract id):
 * `init_args` on chain. The cluster answers the init's outcome like a command's, under the
 * id `initIdOf(init_args)`, encrypted to the returned sender key.
 */
export function sealInitArgs(p: SealInitArgsParams): SealedCommand {
  const senderPrivateKey = p.senderPrivateKey ?? x25519GenerateKeyPair().privateKey;
  const plaintext = InitPlaintext.codec.enc({ gas_limit: p.gasLimit, input: p.input });
  const env = sealEnvelope({ recipientPublicKey: requireKey("cluster's", p.clusterEcdhPubkey), label: WireLabels.init, associatedData: p.contractId, plaintext, senderPrivateKey });
  const payload = EncryptedPayload.codec.enc(toPayload(env));
  return { payload, commandId: initIdOf(payload), senderPrivateKey };
}

// ---------------------------------------------------------------- commands

export interface SealCommandParams {
  /** The contract's x25519 key, from `PhalaRegistry.ContractKeys` on chain. */
  contractEcdhPubkey: Uint8Array;
  contractId: Uint8Array;
  /** The account that will push the command; only that account's push decrypts. */
  sender: Uint8Array;
  gasLimit: bigint;
  /** UTF-8 JSON text of the command. */
  input: Uint8Array;
  /** The ephemeral x25519 private key of this one command; fresh when absent. Its result is encrypted to it. */
  senderPrivateKey?: Uint8Array;
  /** 16 bytes; random when absent. */
  nonce?: Uint8Array;
}

export interface SealedCommand {
  /** SCALE EncryptedPayload: the `payload` of `push_contract_message` (or `init_args` of `instantiate_contract`). */
  payload: Uint8Array;
  /** blake2b-256 of `payload`: where the result is served. */
  commandId: Uint8Array;
  /** Keep until the result is read; nothing else can open it. */
  senderPrivateKey: Uint8Array;
}

export function sealCommand(p: SealCommandParams): SealedCommand {
  const senderPrivateKey = p.senderPrivateKey ?? x25519GenerateKeyPair().privateKey;
  const plaintext = CommandPlaintext.codec.enc({ nonce: p.nonce ?? randomBytes(COMMAND_NONCE_BYTES), gas_limit: p.gasLimit, input: p.input });
  const env = sealEnvelope({
    recipientPublicKey: requireKey("contract's", p.contractEcdhPubkey),
    label: WireLabels.command,
    associatedData: commandAssociatedData(p.contractId, p.sender),
    plaintext,
    senderPrivateKey,
  });
  const payload = EncryptedPayload.codec.enc(toPayload(env));
  return { payload, commandId: commandIdOf(p.sender, payload), senderPrivateKey };
}

export interface OpenCommandResultParams {
  /** SCALE CommandResult as a worker served it (anyone may serve it; only the sender can open it). */
  result: Uint8Array;
  contractId: Uint8Array;
  commandId: Uint8Array;
  /** The contract's x25519 key from chain: a result must come from it. */
  contractEcdhPubkey: Uint8Array;
  senderPrivateKey: Uint8Array;
}

/**
 * Checks and decrypts a command's result. It must name this contract and command, be
 * encrypted from the contract's on-chain key (only its cluster holds the secret; a worker
 * outside it, or the pHost serving the bytes, cannot make one), and authenticate.
 */
export function openCommandResult(p: OpenCommandResultParams): CallOutcomeValue {
  let r: CommandResultValue;
  try {
    r = decodeExact(CommandResult, p.result);
  } catch (e) {
    throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", "the worker served a command result that does not decode as CommandResult; try another worker", { cause: e });
  }
  const details = { contract: toHex(p.contractId), command: toHex(p.commandId) };
  if (!bytesEqual(r.contract, p.contractId) || !bytesEqual(r.command_id, p.commandId)) {
    throw unverified("the worker served the result of another contract or command; it is refused", { ...details, servedContract: toHex(r.contract), servedCommand: toHex(r.command_id) });
  }
  if (!bytesEqual(r.outcome.sender_pubkey, p.contractEcdhPubkey)) {
    throw unverified("the command result is not encrypted by the contract's on-chain key, so it does not come from the contract's cluster; it is refused", {
      ...details,
      sender: toHex(r.outcome.sender_pubkey),
    });
  }
  let plain: Uint8Array;
  try {
    plain = openEnvelope({ recipientPrivateKey: p.senderPrivateKey, label: WireLabels.commandResult, associatedData: p.commandId, envelope: toEnvelope(r.outcome) });
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    throw unverified("the command result does not decrypt: it was altered or is not for this command; it is refused", details, e);
  }
  try {
    return decodeExact(CallOutcome, plain);
  } catch (e) {
    throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", "the command result decrypts but is not a CallOutcome; the worker's pRuntime is incompatible with this SDK", { cause: e, details });
  }
}

// ---------------------------------------------------------------- queries

export interface SealQueryParams {
  contractId: Uint8Array;
  certificate: QueryCertificateValue;
  /** The private half of `certificate.body.ephemeral_pubkey`. */
  ephemeralPrivateKey: Uint8Array;
  /** The chosen worker's registered x25519 key (`PhalaRegistry.Workers`). */
  workerEcdhPubkey: Uint8Array;
  /** UTF-8 JSON text of the request. */
  input: Uint8Array;
  /** 16 bytes; random when absent. */
  nonce?: Uint8Array;
  /** Keeps the key to this worker for the certificate's next queries; one x25519 agreement each time when absent. */
  envelopeKeys?: EnvelopeKeyCache;
}

export interface SealedQuery {
  /** SCALE QueryRequest: the body of `POST /query`. */
  request: Uint8Array;
  queryId: Uint8Array;
  nonce: Uint8Array;
}

export function sealQuery(p: SealQueryParams): SealedQuery {
  const ephemeral = x25519KeyPair(p.ephemeralPrivateKey);
  if (!bytesEqual(ephemeral.publicKey, p.certificate.body.ephemeral_pubkey)) {
    throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "the query's ephemeral key is not the one its certificate vouches for");
  }
  const nonce = p.nonce ?? randomBytes(QUERY_NONCE_BYTES);
  const plaintext = QueryPlaintext.codec.enc({ nonce, input: p.input });
  const workerKey = requireKey("worker's", p.workerEcdhPubkey);
  const env = p.envelopeKeys
    ? sealWithKey(p.envelopeKeys.key(ephemeral, workerKey, WireLabels.query, "to"), ephemeral.publicKey, p.contractId, plaintext)
    : sealEnvelope({ recipientPublicKey: workerKey, label: WireLabels.query, associatedData: p.contractId, plaintext, senderPrivateKey: p.ephemeralPrivateKey });
  plaintext.fill(0);
  const request = QueryRequest.codec.enc({ contract: p.contractId, certificate: p.certificate, encrypted: toPayload(env) });
  return { request, queryId: queryIdOf(request), nonce };
}

export interface OpenQueryResponseParams {
  response: QueryResponseValue;
  queryId: Uint8Array;
  nonce: Uint8Array;
  ephemeralPrivateKey: Uint8Array;
  /** `PhalaRegistry.Workers(response.worker)` read from chain; undefined when absent. */
  registeredWorker: WorkerInfoValue | undefined;
  /** The contract's cluster's members, from `PhalaPhatContracts.Clusters` on chain. */
  clusterWorkers: readonly Uint8Array[];
  /** The cache given to sealQuery, if any. */
  envelopeKeys?: EnvelopeKeyCache;
}

/**
 * Accepts a query answer only when the worker that signed it is registered on chain and a
 * member of the contract's cluster (both read from chain, never from the worker), its
 * ed25519 signature verifies with that registered identity key, it answers this query id,
 * it is encrypted from that worker's registered x25519 key, and it echoes this query's nonce.
 */
export function openQueryResponse(p: OpenQueryResponseParams): CallOutcomeValue {
  const r = p.response;
  return acceptAnswer(p, {
    worker: r.worker,
    queryId: r.query_id,
    encrypted: r.encrypted,
    signed: () => verifyEd25519(r.worker, queryResponseSigningPayload(r.query_id, EncryptedPayload.codec.enc(r.encrypted)), r.signature),
  });
}

/** A decoded QueryBatchResponse with its one signature checked against the key it names (not yet against chain state). */
export interface QueryBatchReceipt {
  worker: Uint8Array;
  answers: QueryBatchAnswerValue[];
  signatureValid: boolean;
}

/** Decodes a SCALE QueryBatchResponse and verifies its signature once for all its answers; undefined if the bytes are not one. */
export function readQueryBatchResponse(bytes: Uint8Array): QueryBatchReceipt | undefined {
  let response: QueryBatchResponseValue;
  try {
    response = decodeExact(QueryBatchResponse, bytes);
  } catch {
    return undefined;
  }
  // The struct is worker ++ answers ++ signature, so the signed answers are the bytes between.
  const answers = bytes.subarray(WORKER_KEY_BYTES, bytes.length - SIGNATURE_BYTES);
  return { worker: response.worker, answers: response.answers, signatureValid: verifyEd25519(response.worker, queryBatchSigningPayload(answers), response.signature) };
}

export interface OpenQueryBatchAnswerParams extends Omit<OpenQueryResponseParams, "response"> {
  receipt: QueryBatchReceipt;
  /** This query's place in the batch it was sent in. */
  index: number;
}

export type QueryBatchAnswerOpened = { ok: true; outcome: CallOutcomeValue } | { ok: false; refusal: QueryRefusalValue };

/**
 * Accepts one answer of a batch on the same terms as openQueryResponse: the batch's signer is
 * registered and in the contract's cluster, its signature over all answers verifies, and this
 * answer is for this query, from that worker's x25519 key, with this query's nonce. A refusal
 * is accepted on the same signer checks (registered, in the cluster, signature over all answers
 * verifies, this query's id), then comes back as the worker signed it (the status and code
 * `POST /query` would have answered); an unsigned or forged one is RESPONSE_UNVERIFIED.
 */
export function openQueryBatchAnswer(p: OpenQueryBatchAnswerParams): QueryBatchAnswerOpened {
  const answer = p.receipt.answers[p.index];
  const details = () => ({ worker: toHex(p.receipt.worker), query: toHex(p.queryId) });
  if (answer === undefined) throw unverified("the batch answer has no answer for this query; it is refused", details());
  const { result } = answer;
  const signed = () => p.receipt.signatureValid;
  if (result.tag === "Ok") return { ok: true, outcome: acceptAnswer(p, { worker: p.receipt.worker, queryId: answer.query_id, encrypted: result.value, signed }) };
  checkSigner(p, p.receipt.worker, signed);
  if (!bytesEqual(answer.query_id, p.queryId)) {
    throw unverified("the batch answer refuses another query than this one (a replayed or misrouted answer); it is refused", { ...details(), answered: toHex(answer.query_id) });
  }
  return { ok: false, refusal: result.value };
}

interface SignedAnswer {
  worker: Uint8Array;
  queryId: Uint8Array;
  encrypted: EncryptedPayloadValue;
  /** Whether the worker's signature covering this answer verifies with `worker`. */
  signed: () => boolean;
}

/**
 * The checks every answer passes, refusals included: its signer is registered on chain and in
 * the contract's cluster, and its signature verifies with that registered key. Returns the
 * registered worker.
 */
function checkSigner(p: Omit<OpenQueryResponseParams, "response">, signer: Uint8Array, signed: () => boolean): WorkerInfoValue {
  // Hex only for an error: this runs for every answer.
  const worker = () => toHex(signer);
  const details = () => ({ worker: worker(), query: toHex(p.queryId) });
  if (!p.registeredWorker || !bytesEqual(p.registeredWorker.pubkey, signer)) {
    throw unverified(`the answer is signed as worker ${worker()}, which is not registered on chain; it is refused`, details());
  }
  if (!p.clusterWorkers.some((w) => bytesEqual(w, signer))) {
    throw unverified(`the answer comes from worker ${worker()}, which is not a member of the contract's cluster; it is refused`, details());
  }
  if (!signed()) {
    throw unverified(`the answer's signature does not verify with worker ${worker()}'s registered identity key; it is forged or altered and is refused`, details());
  }
  return p.registeredWorker;
}

function acceptAnswer(p: Omit<OpenQueryResponseParams, "response">, a: SignedAnswer): CallOutcomeValue {
  const worker = () => toHex(a.worker);
  const details = () => ({ worker: worker(), query: toHex(p.queryId) });
  const registeredWorker = checkSigner(p, a.worker, a.signed);
  if (!bytesEqual(a.queryId, p.queryId)) {
    throw unverified("the answer is for another query (a replayed or misrouted answer); it is refused", { ...details(), answered: toHex(a.queryId) });
  }
  if (!bytesEqual(a.encrypted.sender_pubkey, registeredWorker.ecdh_pubkey)) {
    throw unverified(`the answer is not encrypted from worker ${worker()}'s registered x25519 key; it is refused`, details());
  }
  let plain: Uint8Array;
  try {
    const envelope = toEnvelope(a.encrypted);
    plain = p.envelopeKeys
      ? openWithKey(p.envelopeKeys.key(x25519KeyPair(p.ephemeralPrivateKey), envelope.senderPublicKey, WireLabels.queryResponse, "from"), p.queryId, envelope)
      : openEnvelope({ recipientPrivateKey: p.ephemeralPrivateKey, label: WireLabels.queryResponse, associatedData: p.queryId, envelope });
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    throw unverified("the answer does not decrypt with this query's key; it is refused", details(), e);
  }
  let answer: Infer<typeof QueryAnswer>;
  try {
    answer = decodeExact(QueryAnswer, plain);
  } catch (e) {
    throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", "the answer decrypts but is not a QueryAnswer; the worker's pRuntime is incompatible with this SDK", { cause: e, details: details() });
  }
  if (!bytesEqual(answer.nonce, p.nonce)) {
    throw unverified("the answer does not echo this query's nonce (a replayed answer); it is refused", details());
  }
  return answer.outcome;
}
