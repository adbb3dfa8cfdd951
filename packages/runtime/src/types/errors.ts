/**
 * Operating errors of the SCALE layer. Each has a short message, a stable
 * `code`, structured `details` and an optional `cause`.
 */

export class ScaleError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ScaleError";
    this.code = code;
    this.details = options.details;
  }
}

/** Malformed, truncated, oversized or trailing input. The runtime maps it to an invalid transaction. */
export class ScaleDecodeError extends ScaleError<"SCALE_DECODE"> {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super("SCALE_DECODE", message, options);
    this.name = "ScaleDecodeError";
  }
}

/** A value that does not fit its declared type (wrong tag, out-of-range integer, wrong length). */
export class ScaleEncodeError extends ScaleError<"SCALE_ENCODE"> {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super("SCALE_ENCODE", message, options);
    this.name = "ScaleEncodeError";
  }
}
