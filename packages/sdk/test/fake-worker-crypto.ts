/**
 * The worker's side of the wire formats, written here from `@phala-ts/runtime/phala` and the
 * primitives alone, so the SDK is tested against the formats and not against itself.
 */
import {
  bytesEqual,
  ed25519PublicKeyFromSeed,
  ed25519Sign,
  openEnvelope,
  sealEnvelope,
  verifyMultiSignature,
  x25519KeyPair,
  type X25519KeyPair,
} from "@phala-ts/primitives";
import {
  commandAssociatedData,
  CallOutcome,
  CommandPlaintext,
  CommandResult,
  EncryptedPayload,
  QueryAnswer,
  QueryBatchAnswers,
  QueryBatchResponse,
  QueryPlaintext,
  QueryRequest,
  QueryResponse,
  WireLabels,
  queryBatchSigningPayload,
  queryCertificatePayload,
  queryIdOf,
  queryResponseSigningPayload,
  type CallOutcomeValue,
  type EncryptedPayloadValue,
  type QueryBatchAnswerValue,
  type WorkerInfoValue,
} from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";

export interface WorkerKeys {
  identitySeed: Uint8Array;
  identity: Uint8Array;
  ecdh: X25519KeyPair;
}

/** Deterministic keys for tests: identity from `seedByte`, x25519 from `seedByte + 1`. */
export function workerKeys(seedByte: number): WorkerKeys {
  const identitySeed = new Uint8Array(32).fill(seedByte);
  return { identitySeed, identity: ed25519PublicKeyFromSeed(identitySeed), ecdh: x25519KeyPair(new Uint8Array(32).fill(seedByte + 1)) };
}

export function workerInfo(k: WorkerKeys): WorkerInfoValue {
  return { pubkey: k.identity, ecdh_pubkey: k.ecdh.publicKey, runtime_version: 1, operator: undefined, tee: { tag: "Dev" }, confidence_level: 128, measurement: new Uint8Array(), registered_at: 1 };
}

export function outcome(output: unknown, extra: Partial<CallOutcomeValue> = {}): CallOutcomeValue {
  return { ok: true, output: JSON.stringify(output), gas_used: 1234n, fee: 1234n * 5n, events: [], error: undefined, ...extra };
}

export function failure(kind: string, message: string, gas = 99n): CallOutcomeValue {
  return { ok: false, output: "", gas_used: gas, fee: gas, events: [], error: { kind, message } };
}

/** Decrypts a command payload with the contract's x25519 key, as every cluster worker does. */
export function openCommand(payload: Uint8Array, contractEcdh: X25519KeyPair, contractId: Uint8Array, sender: Uint8Array) {
  const p = decodeExact(EncryptedPayload, payload);
  const plain = openEnvelope({ recipientPrivateKey: contractEcdh.privateKey, label: WireLabels.command, associatedData: commandAssociatedData(contractId, sender), envelope: { senderPublicKey: p.sender_pubkey, nonce: p.iv, ciphertext: p.ciphertext } });
  return { senderPubkey: p.sender_pubkey, plaintext: decodeExact(CommandPlaintext, plain) };
}

/** The SCALE CommandResult a worker serves: the outcome encrypted from the contract key to the command's sender key. */
export function commandResult(o: CallOutcomeValue, p: { contractId: Uint8Array; commandId: Uint8Array; senderPubkey: Uint8Array; contractEcdh: X25519KeyPair; blockNumber?: number }): Uint8Array {
  const env = sealEnvelope({ recipientPublicKey: p.senderPubkey, label: WireLabels.commandResult, associatedData: p.commandId, plaintext: CallOutcome.codec.enc(o), senderPrivateKey: p.contractEcdh.privateKey });
  return CommandResult.codec.enc({
    contract: p.contractId,
    command_id: p.commandId,
    block_number: p.blockNumber ?? 1,
    outcome: { sender_pubkey: env.senderPublicKey, iv: env.nonce, ciphertext: env.ciphertext },
  });
}

export interface OpenedQuery {
  queryId: Uint8Array;
  contract: Uint8Array;
  account: Uint8Array;
  certificateValid: boolean;
  expiresAtMs: bigint;
  ephemeralPubkey: Uint8Array;
  nonce: Uint8Array;
  input: string;
}

/** What a worker reads from a QueryRequest encrypted to its x25519 key. */
export function openQuery(request: Uint8Array, worker: WorkerKeys): OpenedQuery {
  const r = decodeExact(QueryRequest, request);
  const sigTypes = { Sr25519: "sr25519", Ed25519: "ed25519", Ecdsa: "ecdsa" } as const;
  const certificateValid = verifyMultiSignature(
    { type: sigTypes[r.certificate.signature.tag], signature: r.certificate.signature.value },
    queryCertificatePayload(r.certificate.body),
    r.certificate.body.account,
  );
  if (!bytesEqual(r.encrypted.sender_pubkey, r.certificate.body.ephemeral_pubkey)) throw new Error("query not sent from the certified key");
  const plain = openEnvelope({
    recipientPrivateKey: worker.ecdh.privateKey,
    label: WireLabels.query,
    associatedData: r.contract,
    envelope: { senderPublicKey: r.encrypted.sender_pubkey, nonce: r.encrypted.iv, ciphertext: r.encrypted.ciphertext },
  });
  const q = decodeExact(QueryPlaintext, plain);
  return {
    queryId: queryIdOf(request),
    contract: r.contract,
    account: r.certificate.body.account,
    certificateValid,
    expiresAtMs: r.certificate.body.expires_at,
    ephemeralPubkey: r.certificate.body.ephemeral_pubkey,
    nonce: q.nonce,
    input: new TextDecoder().decode(q.input),
  };
}

export interface AnswerTweaks {
  /** Sign with this identity seed instead of the worker's own. */
  signWith?: Uint8Array;
  /** Claim this worker key in the response. */
  claimWorker?: Uint8Array;
  nonce?: Uint8Array;
  queryId?: Uint8Array;
  /** Encrypt from this x25519 private key instead of the worker's own. */
  senderPrivateKey?: Uint8Array;
}

function sealAnswer(q: OpenedQuery, o: CallOutcomeValue, worker: WorkerKeys, t: AnswerTweaks): { queryId: Uint8Array; encrypted: EncryptedPayloadValue } {
  const queryId = t.queryId ?? q.queryId;
  const env = sealEnvelope({
    recipientPublicKey: q.ephemeralPubkey,
    label: WireLabels.queryResponse,
    associatedData: queryId,
    plaintext: QueryAnswer.codec.enc({ nonce: t.nonce ?? q.nonce, outcome: o }),
    senderPrivateKey: t.senderPrivateKey ?? worker.ecdh.privateKey,
  });
  return { queryId, encrypted: { sender_pubkey: env.senderPublicKey, iv: env.nonce, ciphertext: env.ciphertext } };
}

/** The SCALE QueryResponse a worker answers, optionally forged in one way. */
export function queryResponse(q: OpenedQuery, o: CallOutcomeValue, worker: WorkerKeys, t: AnswerTweaks = {}): Uint8Array {
  const { queryId, encrypted } = sealAnswer(q, o, worker, t);
  const signature = ed25519Sign(t.signWith ?? worker.identitySeed, queryResponseSigningPayload(queryId, EncryptedPayload.codec.enc(encrypted)));
  return QueryResponse.codec.enc({ query_id: queryId, worker: t.claimWorker ?? worker.identity, encrypted, signature });
}

/** One answer of a batch: a sealed outcome (optionally forged in one way), or a refusal of the query with this id. */
export type BatchItem =
  | { q: OpenedQuery; outcome: CallOutcomeValue; tweaks?: AnswerTweaks }
  | { queryId: Uint8Array; refusal: { status: number; code: string; message: string } };

/** The SCALE QueryBatchResponse a worker answers: the items in order under one signature (`signWith`, `claimWorker` forge it). */
export function queryBatchResponse(items: BatchItem[], worker: WorkerKeys, t: Pick<AnswerTweaks, "signWith" | "claimWorker"> = {}): Uint8Array {
  const answers: QueryBatchAnswerValue[] = items.map((item) => {
    if ("refusal" in item) return { query_id: item.queryId, result: { tag: "Err", value: item.refusal } };
    const { queryId, encrypted } = sealAnswer(item.q, item.outcome, worker, item.tweaks ?? {});
    return { query_id: queryId, result: { tag: "Ok", value: encrypted } };
  });
  const encoded = QueryBatchAnswers.codec.enc(answers);
  const signature = ed25519Sign(t.signWith ?? worker.identitySeed, queryBatchSigningPayload(encoded));
  return QueryBatchResponse.codec.enc({ worker: t.claimWorker ?? worker.identity, answers, signature });
}
