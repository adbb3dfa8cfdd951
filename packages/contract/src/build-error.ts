/** Why a contract could not be built. */
export type ContractBuildErrorCode =
  /** The entry file does not exist or is not a file. */
  | "ENTRY_NOT_FOUND"
  /** The contract imports a Node built-in; contracts run in QuickJS with no Node APIs. */
  | "NODE_BUILTIN_IMPORT"
  /** An import names a module that cannot be found, or a part of the kit that is not for contracts. */
  | "UNRESOLVED_IMPORT"
  /** esbuild refused the source for another reason (syntax, top-level await, ...). */
  | "BUNDLE_FAILED"
  /** The bundle is larger than the chain accepts. */
  | "CODE_TOO_LARGE"
  /** Writing the bundle to its output file failed. */
  | "WRITE_FAILED";

/** An operating error of the contract build: a stable code, a message saying what to fix, details and a cause. */
export class ContractBuildError extends Error {
  readonly code: ContractBuildErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ContractBuildErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ContractBuildError";
    this.code = code;
    this.details = options.details;
  }
}
