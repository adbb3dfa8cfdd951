/**
 * Encrypted queries (ARCHITECTURE §6, issue 4 §6): straight from a user to this worker, never
 * through the chain. A query carries a certificate in which an account vouches for an
 * ephemeral x25519 key until a time; its input is encrypted from that key to this worker's
 * x25519 key and carries a nonce. The answer echoes the nonce, is encrypted back to the
 * ephemeral key and is signed by this worker's identity key, which the SDK checks against
 * the worker registered on chain. Queries are read-only, metered and time-limited, and read
 * the state as of the last synced block.
 */
import {
  PrimitivesError,
  blake2b256,
  bytesEqual,
  concatByteList,
  openWithKey,
  sealWithKey,
  EnvelopeKeyCache,
  toHex,
  verifyMultiSignature,
  type MultiSignature,
} from "@phala-ts/primitives";
import { ScaleDecodeError, decodeExact, type Infer } from "@phala-ts/runtime/types";
import {
  EncryptedPayload,
  QueryAnswer,
  QueryBatchAnswers,
  QueryBatchRequest,
  QueryCertificate,
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
} from "@phala-ts/runtime/phala";
import { failure, type ContractsMachine, type QueryTarget } from "./contracts.ts";
import { decodeUtf8 } from "./contract-storage.ts";
import { PruntimeError, httpStatusOf } from "./errors.ts";
import type { WorkerKeys } from "./keys.ts";
import { callSeed } from "./key-shares.ts";
import {
  QUERY_BATCH_ITEMS_MAX,
  QUERY_BODY_BYTES_MAX,
  QUERY_CERT_LIFETIME_MAX_MS,
  QUERY_GAS_LIMIT,
  QUERY_NONCES_MAX,
  QUERY_NONCES_PER_ACCOUNT_MAX,
  QUERY_TIME_LIMIT_MS,
  VERIFIED_CERTIFICATES_MAX,
} from "./limits.ts";

export type QueryErrorCode =
  | "BAD_REQUEST"
  | "BAD_SIGNATURE"
  | "CERT_EXPIRED"
  | "CERT_LIFETIME_TOO_LONG"
  | "EPHEMERAL_KEY_MISMATCH"
  | "DECRYPT_FAILED"
  | "NONCE_REPLAYED"
  | "NONCE_CACHE_FULL"
  | "TOO_MANY_QUERIES"
  | "CONTRACT_NOT_FOUND"
  | "NOT_IN_CLUSTER"
  | "NOT_INITIALIZED";

function refuse(code: QueryErrorCode, message: string, cause?: unknown): PruntimeError {
  return new PruntimeError(code, message, cause === undefined ? {} : { cause });
}

type MultiSignatureValue = Infer<typeof QueryCertificate>["signature"];

function toMultiSignature(sig: MultiSignatureValue): MultiSignature {
  switch (sig.tag) {
    case "Ed25519":
      return { type: "ed25519", signature: sig.value };
    case "Sr25519":
      return { type: "sr25519", signature: sig.value };
    case "Ecdsa":
      return { type: "ecdsa", signature: sig.value };
  }
}

/** Entries expire in buckets of this many ms: expiry work is done once per bucket, not per query. */
const NONCE_EXPIRY_BUCKET_MS = 1000;

/**
 * Nonces seen per account while their certificates live. An entry is dropped once its
 * certificate expired (a replay is then refused as CERT_EXPIRED). No live entry is ever
 * forgotten: a replay could reuse it. Instead an account holding `perAccountMax` live nonces
 * gets TOO_MANY_QUERIES, so it cannot crowd others out, and once `max` live nonces are held in
 * all, new queries get NONCE_CACHE_FULL.
 *
 * Entries are filed by expiry second, so dropping the expired ones costs O(expired), never a scan
 * of the cache per query, however a client times its certificates. Keys are flat latin1 strings
 * (one byte a character) and the bucket lists share them: ~120 bytes an entry.
 */
export class NonceCache {
  readonly #max: number;
  readonly #perAccountMax: number;
  /** Length-prefixed account ++ nonce (latin1) → expiry (unix ms) of the certificate that carried it. */
  readonly #expiry = new Map<string, number>();
  /** Account (latin1) → its entries in #expiry. */
  readonly #perAccount = new Map<string, number>();
  /** Expiry bucket (ceil(expiry / NONCE_EXPIRY_BUCKET_MS)) → keys filed there; an entry renewed since sits in a later one too. */
  readonly #buckets = new Map<number, string[]>();
  #earliestBucket = Number.POSITIVE_INFINITY;

  constructor(max: number = QUERY_NONCES_MAX, perAccountMax: number = QUERY_NONCES_PER_ACCOUNT_MAX) {
    this.#max = max;
    this.#perAccountMax = perAccountMax;
  }

  /** Nonces held (live ones, and expired ones not dropped yet: at most one bucket's worth). */
  get size(): number {
    return this.#expiry.size;
  }

  /** Records the nonce; throws NONCE_REPLAYED if this account used it before and it still lives. */
  use(account: Uint8Array, nonce: Uint8Array, expiresAtMs: number, nowMs: number): void {
    this.expire(nowMs);
    const accountKey = Buffer.from(account.buffer, account.byteOffset, account.length).toString("latin1");
    const key = Buffer.concat([Uint8Array.of(account.length & 0xff), account, nonce]).toString("latin1");
    const seen = this.#expiry.get(key);
    if (seen !== undefined && seen > nowMs) throw refuse("NONCE_REPLAYED", "this query nonce was already used with a certificate of this account; send a fresh nonce");
    if (seen === undefined) {
      const held = this.#perAccount.get(accountKey) ?? 0;
      if (held >= this.#perAccountMax) {
        throw refuse(
          "TOO_MANY_QUERIES",
          `this account holds ${this.#perAccountMax} live query nonces on this worker, the most one account may; retry once its certificates expire (shorter certificates free them sooner)`,
        );
      }
      if (this.#expiry.size >= this.#max) {
        throw refuse("NONCE_CACHE_FULL", "this worker remembers too many live query nonces; retry later or use certificates with a shorter lifetime");
      }
      this.#perAccount.set(accountKey, held + 1);
    }
    const expiry = Math.max(seen ?? 0, expiresAtMs);
    this.#expiry.set(key, expiry);
    const bucket = Math.ceil(expiry / NONCE_EXPIRY_BUCKET_MS);
    const list = this.#buckets.get(bucket);
    if (list === undefined) this.#buckets.set(bucket, [key]);
    else list.push(key);
    if (bucket < this.#earliestBucket) this.#earliestBucket = bucket;
  }

  /** Drops every entry of the buckets whose whole span has passed. */
  private expire(nowMs: number): void {
    if (this.#earliestBucket * NONCE_EXPIRY_BUCKET_MS > nowMs) return;
    let earliest = Number.POSITIVE_INFINITY;
    // Few buckets: certificates live at most QUERY_CERT_LIFETIME_MAX_MS, so ~900 of them at most.
    for (const [bucket, keys] of this.#buckets) {
      const end = bucket * NONCE_EXPIRY_BUCKET_MS;
      if (end > nowMs) {
        if (bucket < earliest) earliest = bucket;
        continue;
      }
      this.#buckets.delete(bucket);
      for (const key of keys) {
        const expiry = this.#expiry.get(key);
        // Renewed since it was filed here: its later bucket drops it.
        if (expiry === undefined || expiry > end) continue;
        this.#expiry.delete(key);
        const accountKey = key.slice(1, 1 + key.charCodeAt(0));
        const held = this.#perAccount.get(accountKey)! - 1;
        if (held === 0) this.#perAccount.delete(accountKey);
        else this.#perAccount.set(accountKey, held);
      }
    }
    this.#earliestBucket = earliest;
  }
}

/**
 * Certificates whose signature verified, by the hash of their SCALE bytes. A client signs one
 * certificate per ephemeral key and sends many queries under it; sr25519 verification costs
 * ~1.5 ms in JS, so each certificate is verified once. Bounded, oldest dropped first.
 */
export class VerifiedCertificates {
  readonly #max: number;
  readonly #seen = new Set<string>();

  constructor(max: number = VERIFIED_CERTIFICATES_MAX) {
    this.#max = max;
  }

  /** True if `certificate` (SCALE) verifies; `verify` runs only for certificates not seen before. */
  check(certificate: Uint8Array, verify: () => boolean): boolean {
    const key = Buffer.from(blake2b256(certificate)).toString("hex");
    if (this.#seen.has(key)) return true;
    if (!verify()) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}

export interface QueryContext {
  /** The last synced block: queries read the state as of it. */
  blockNumber: number;
  timestampMs: bigint;
  /** The worker's wall clock, for certificate expiry. */
  nowMs: number;
}

/** What queries remember between requests. */
export interface QueryState {
  nonces: NonceCache;
  certificates: VerifiedCertificates;
  /** Keys to and from each certificate's ephemeral key: one x25519 agreement per certificate, not two per query. */
  envelopeKeys: EnvelopeKeyCache;
}

/** Answers one SCALE QueryRequest with a SCALE QueryResponse; throws PruntimeError with a query code otherwise. */
export function answerQuery(requestBytes: Uint8Array, ctx: QueryContext, keys: WorkerKeys, contracts: ContractsMachine, state: QueryState): Uint8Array {
  const { queryId, encrypted } = sealAnswer(requestBytes, ctx, keys, contracts, state);
  const signature = keys.sign(queryResponseSigningPayload(queryId, EncryptedPayload.codec.enc(encrypted)));
  return QueryResponse.codec.enc({ query_id: queryId, worker: keys.identityPublicKey, encrypted, signature });
}

/** The items of a SCALE QueryBatchRequest; throws BAD_REQUEST for anything else, or for an empty or oversized batch. */
export function decodeQueryBatch(body: Uint8Array): Uint8Array[] {
  let items: Uint8Array[];
  try {
    items = decodeExact(QueryBatchRequest, body);
  } catch (e) {
    if (e instanceof ScaleDecodeError) throw refuse("BAD_REQUEST", "the body does not decode as a SCALE QueryBatchRequest (a Vec of SCALE QueryRequest bytes)", e);
    throw e;
  }
  if (items.length === 0 || items.length > QUERY_BATCH_ITEMS_MAX) {
    throw refuse("BAD_REQUEST", `a query batch holds 1 to ${QUERY_BATCH_ITEMS_MAX} queries, this one ${items.length}; split it`);
  }
  return items;
}

/**
 * One query of a batch: its sealed answer, or the refusal `POST /query` would have answered it
 * with. A refused query does not stop the others.
 */
export function answerBatchItem(requestBytes: Uint8Array, ctx: QueryContext, keys: WorkerKeys, contracts: ContractsMachine, state: QueryState): QueryBatchAnswerValue {
  try {
    if (requestBytes.length > QUERY_BODY_BYTES_MAX) throw refuse("BAD_REQUEST", `a query is at most ${QUERY_BODY_BYTES_MAX} bytes, this one ${requestBytes.length}`);
    const { queryId, encrypted } = sealAnswer(requestBytes, ctx, keys, contracts, state);
    return { query_id: queryId, result: { tag: "Ok", value: encrypted } };
  } catch (e) {
    if (!(e instanceof PruntimeError)) throw e;
    return { query_id: queryIdOf(requestBytes), result: { tag: "Err", value: { status: httpStatusOf(e.code), code: e.code, message: e.message } } };
  }
}

/** SCALE QueryBatchResponse: the answers in request order under one signature of this worker. */
export function signQueryBatch(answers: QueryBatchAnswerValue[], keys: WorkerKeys): Uint8Array {
  const encoded = QueryBatchAnswers.codec.enc(answers);
  // The struct's fields back to back: worker, answers, signature.
  return concatByteList([keys.identityPublicKey, encoded, keys.sign(queryBatchSigningPayload(encoded))]);
}

/** Everything of a query but the signature: checks, decryption, the contract call, and the sealed answer. */
function sealAnswer(
  requestBytes: Uint8Array,
  ctx: QueryContext,
  keys: WorkerKeys,
  contracts: ContractsMachine,
  state: QueryState,
): { queryId: Uint8Array; encrypted: EncryptedPayloadValue } {
  let request: Infer<typeof QueryRequest>;
  try {
    request = decodeExact(QueryRequest, requestBytes);
  } catch (e) {
    if (e instanceof ScaleDecodeError) throw refuse("BAD_REQUEST", "the body does not decode as a SCALE QueryRequest", e);
    throw e;
  }
  const queryId = queryIdOf(requestBytes);
  const { body, signature } = request.certificate;
  // The cheap time checks first: a certificate refused anyway costs no signature check and takes no cache slot.
  if (body.expires_at <= BigInt(ctx.nowMs)) throw refuse("CERT_EXPIRED", "the query certificate has expired; sign a new one");
  // Its nonces are remembered until it expires, so a far expiry would pin them (and the account's allowance) for that long.
  if (body.expires_at - BigInt(ctx.nowMs) > BigInt(QUERY_CERT_LIFETIME_MAX_MS)) {
    throw refuse(
      "CERT_LIFETIME_TOO_LONG",
      `the query certificate is valid for more than ${QUERY_CERT_LIFETIME_MAX_MS / 60_000} minutes from this worker's clock; sign one that expires sooner (and renew it)`,
    );
  }
  const verified = state.certificates.check(QueryCertificate.codec.enc(request.certificate), () =>
    verifyMultiSignature(toMultiSignature(signature), queryCertificatePayload(body), body.account),
  );
  if (!verified) {
    throw refuse("BAD_SIGNATURE", "the query certificate's signature does not verify with its account");
  }
  if (!bytesEqual(request.encrypted.sender_pubkey, body.ephemeral_pubkey)) {
    throw refuse("EPHEMERAL_KEY_MISMATCH", "the query is not encrypted from the key its certificate vouches for");
  }
  const lookup = contracts.queryTarget(request.contract);
  if (lookup.found === "unknown") throw refuse("CONTRACT_NOT_FOUND", "no such contract on this chain (or this worker has not synced its instantiation yet)");
  if (lookup.found === "elsewhere") throw refuse("NOT_IN_CLUSTER", "this worker does not run this contract; query a worker of its cluster");
  const target = lookup.target;

  const ecdhPrivate = keys.ecdhPrivateKey();
  const own = { privateKey: ecdhPrivate, publicKey: keys.ecdhPublicKey };
  let queryKey: Uint8Array;
  let answerKey: Uint8Array;
  let plain: Uint8Array;
  try {
    queryKey = state.envelopeKeys.key(own, request.encrypted.sender_pubkey, WireLabels.query, "from");
    plain = openWithKey(queryKey, request.contract, { senderPublicKey: request.encrypted.sender_pubkey, nonce: request.encrypted.iv, ciphertext: request.encrypted.ciphertext });
    answerKey = state.envelopeKeys.key(own, body.ephemeral_pubkey, WireLabels.queryResponse, "to");
  } catch (e) {
    if (e instanceof PrimitivesError) throw refuse("DECRYPT_FAILED", "the query does not decrypt with this worker's key; encrypt it to the ecdh key this worker registered", e);
    throw e;
  } finally {
    ecdhPrivate.fill(0);
  }
  let query: Infer<typeof QueryPlaintext>;
  try {
    query = decodeExact(QueryPlaintext, plain);
  } catch (e) {
    if (e instanceof ScaleDecodeError) throw refuse("BAD_REQUEST", "the decrypted query does not decode as QueryPlaintext", e);
    throw e;
  } finally {
    plain.fill(0);
  }
  // Safe: expires_at is within QUERY_CERT_LIFETIME_MAX_MS of nowMs here.
  const expiresAtMs = Number(body.expires_at);
  state.nonces.use(body.account, query.nonce, expiresAtMs, ctx.nowMs);

  const outcome = runQuery(contracts, target, query.input, body.account, queryId, ctx);
  query.input.fill(0);
  const answer = QueryAnswer.codec.enc({ nonce: query.nonce, outcome });
  let sealed;
  try {
    sealed = sealWithKey(answerKey, keys.ecdhPublicKey, queryId, answer);
  } finally {
    answer.fill(0);
  }
  return { queryId, encrypted: { sender_pubkey: sealed.senderPublicKey, iv: sealed.nonce, ciphertext: sealed.ciphertext } };
}

function runQuery(
  contracts: ContractsMachine,
  target: QueryTarget,
  inputBytes: Uint8Array,
  account: Uint8Array,
  queryId: Uint8Array,
  ctx: QueryContext,
): CallOutcomeValue {
  const fail = (kind: string, message: string, gasUsed = 0n): CallOutcomeValue => failure(kind, message, gasUsed);
  const input = decodeUtf8(inputBytes);
  if (input === undefined) return fail("invalid-input", "the query input is not UTF-8 JSON text");
  const code = contracts.code(target.codeHash);
  if (code === undefined) return fail("invalid-code", "the contract's code is not held by this worker");
  const runner = contracts.runner;
  if (runner === undefined) return fail("internal", "this worker runs no contract VM");
  const caller = toHex(account);
  const result = runner.call({
    code,
    codeHash: target.codeHash,
    mode: "query",
    input,
    origin: { kind: "account", id: caller },
    env: { blockNumber: ctx.blockNumber, timestamp: Number(ctx.timestampMs), contractId: toHex(target.id), caller },
    seed: callSeed(target.secret, queryId),
    gasLimit: QUERY_GAS_LIMIT,
    storage: target.storage,
    timeLimitMs: QUERY_TIME_LIMIT_MS,
  });
  if (!result.ok) return fail(result.error.kind, result.error.message, result.gasUsed);
  // Events are refused in queries by the VM; whatever a query "wrote" is discarded.
  return { ok: true, output: result.output, gas_used: result.gasUsed, fee: 0n, events: [], error: undefined };
}
