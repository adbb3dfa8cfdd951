/**
 * Operating errors of pRuntime: a stable code, a message that says what to do, optional
 * details and a cause. Messages and details never carry keys, sealed bytes or plaintext.
 */

/** Why a sync batch was refused; the light client's state is unchanged whenever one is thrown. */
export type SyncErrorCode =
  | "BAD_LINK"
  | "BAD_CERTIFICATE"
  | "BAD_PROOF"
  | "MESSAGES_MISMATCH"
  /** The block's timestamp is not the proven `Timestamp.Now`. */
  | "TIMESTAMP_MISMATCH"
  | "NOT_NEXT"
  | "MALFORMED"
  | "NOT_INITIALIZED"
  /** Another batch is being applied; send the next one after it answers. */
  | "SYNC_BUSY";

export type PruntimeErrorCode =
  | SyncErrorCode
  /** /init with a genesis other than the one this pRuntime follows. */
  | "GENESIS_MISMATCH"
  /** A sealed file failed authentication or is truncated. */
  | "SEALED_CORRUPTED"
  /** Sealed files exist but the key that sealed them does not. */
  | "SEALING_KEY_MISSING"
  /** Reading or writing the data directory failed. */
  | "SEAL_IO"
  /** The checkpoint decodes but does not fit this pRuntime (another format or identity). */
  | "CHECKPOINT_INVALID"
  /** A checkpoint could not be written after state changed: the process must restart. */
  | "CHECKPOINT_FAILED"
  /** An entry of the sealed contract store fails authentication, is truncated or malformed. */
  | "STORE_CORRUPTED"
  /** The sealed contract store is not the one the checkpoint names (older, replaced or cut short). */
  | "STORE_ROLLED_BACK"
  /** Another pRuntime process holds the data directory. */
  | "DATA_DIR_LOCKED"
  | "ATTESTATION_FAILED"
  /** The requested TEE has no provider in this pRuntime. */
  | "UNSUPPORTED_TEE"
  | "BAD_REQUEST"
  /** Queries (POST /query): the certificate's signature does not verify. */
  | "BAD_SIGNATURE"
  /** The query certificate's `expires_at` has passed by this worker's clock. */
  | "CERT_EXPIRED"
  /** The query certificate is valid for longer than QUERY_CERT_LIFETIME_MAX_MS from this worker's clock. */
  | "CERT_LIFETIME_TOO_LONG"
  /**
   * Queries: the account holds QUERY_NONCES_PER_ACCOUNT_MAX live nonces on this worker (retry once its
   * certificates expire), or this client address already has its share of queries waiting (wait for their answers).
   */
  | "TOO_MANY_QUERIES"
  /** The query is encrypted from another key than the certificate's ephemeral key. */
  | "EPHEMERAL_KEY_MISMATCH"
  /** The query does not decrypt with this worker's x25519 key. */
  | "DECRYPT_FAILED"
  /** The account already used this nonce while its certificate lives. */
  | "NONCE_REPLAYED"
  /** Too many live nonces are remembered; retry later. */
  | "NONCE_CACHE_FULL"
  /** No contract with this id is known (yet). */
  | "CONTRACT_NOT_FOUND"
  /** The contract exists but this worker does not run it. */
  | "NOT_IN_CLUSTER"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "BODY_TOO_LARGE"
  /** The contract VM's command thread failed or stopped: pRuntime must restart. */
  | "VM_THREAD_FAILED"
  /** Queries: the worker's query queue is full, or a query waited too long for its turn; retry or use another worker. */
  | "QUERY_QUEUE_FULL"
  /** The listener is receiving too many request bodies at once; retry in a moment. */
  | "SERVER_BUSY"
  | "INTERNAL";

export class PruntimeError<Code extends PruntimeErrorCode = PruntimeErrorCode> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PruntimeError";
    this.code = code;
    this.details = options.details;
  }
}

export class SyncError extends PruntimeError<SyncErrorCode> {
  constructor(code: SyncErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "SyncError";
  }
}

/** The HTTP status the API answers an error with (also carried by a refused query of a batch). */
export function httpStatusOf(code: PruntimeErrorCode): number {
  switch (code) {
    case "BAD_LINK":
    case "BAD_CERTIFICATE":
    case "BAD_PROOF":
    case "MESSAGES_MISMATCH":
    case "TIMESTAMP_MISMATCH":
    case "NOT_NEXT":
    case "MALFORMED":
    case "NOT_INITIALIZED":
    case "BAD_REQUEST":
      return 400;
    case "DECRYPT_FAILED":
    case "EPHEMERAL_KEY_MISMATCH":
      return 400;
    case "BAD_SIGNATURE":
    case "CERT_EXPIRED":
    case "CERT_LIFETIME_TOO_LONG":
      return 401;
    case "TOO_MANY_QUERIES":
      return 429;
    case "NOT_IN_CLUSTER":
      return 403;
    case "NOT_FOUND":
    case "CONTRACT_NOT_FOUND":
      return 404;
    case "NONCE_REPLAYED":
    case "SYNC_BUSY":
      return 409;
    case "NONCE_CACHE_FULL":
    case "QUERY_QUEUE_FULL":
    case "SERVER_BUSY":
      return 503;
    case "METHOD_NOT_ALLOWED":
      return 405;
    case "GENESIS_MISMATCH":
      return 409;
    case "BODY_TOO_LARGE":
      return 413;
    case "CHECKPOINT_FAILED":
    case "VM_THREAD_FAILED":
      return 503;
    default:
      return 500;
  }
}
