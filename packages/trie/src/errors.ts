/**
 * Operating errors of the trie package. Every error carries a stable `code`
 * that callers (RPC, node, pRuntime) switch on; the message is for humans.
 * Broken invariants are not reported this way: they are `assert`s.
 */

export type TrieErrorCode =
  /** A node the walk needs is not in the store: the state was pruned, or never existed here. */
  | "MISSING_NODE"
  /** Bytes that should be a trie node do not decode as one. */
  | "INVALID_NODE"
  /** A caller passed an argument outside what the API accepts (key too long, bad limit, ...). */
  | "INVALID_ARGUMENT"
  /** A batch was used after `commit`. */
  | "BATCH_CLOSED"
  /** A batch holds more pending writes than `BATCH_WRITES_MAX`. */
  | "BATCH_TOO_LARGE"
  /** `commit` was called with a block number not above the last committed one. */
  | "BLOCK_NUMBER_NOT_INCREASING"
  /** A proof lacks a node needed to reach the key. */
  | "INCOMPLETE_PROOF"
  /** A proof contains a node that does not decode or is inconsistent with the walk. */
  | "INVALID_PROOF";

export interface TrieErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class TrieError extends Error {
  readonly code: TrieErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: TrieErrorCode, message: string, options: TrieErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TrieError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

export type TrieProofErrorCode = "INCOMPLETE_PROOF" | "INVALID_PROOF";

/** Raised by `verifyProof` when the proof cannot decide the key's value. */
export class TrieProofError extends TrieError {
  declare readonly code: TrieProofErrorCode;

  constructor(code: TrieProofErrorCode, message: string, options: TrieErrorOptions = {}) {
    super(code, message, options);
    this.name = "TrieProofError";
  }
}
