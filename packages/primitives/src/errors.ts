/**
 * Base class for the operating errors thrown by this package: a short message,
 * a stable machine-readable `code`, optional structured `details` and a `cause`.
 */
export class PrimitivesError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PrimitivesError";
    this.code = code;
    this.details = options.details;
  }
}
