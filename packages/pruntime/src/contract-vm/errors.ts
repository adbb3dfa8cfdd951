/**
 * Operating errors of the contract VM: the engine could not be loaded. A contract's own
 * failures are never thrown; they are `CallOutcome`s (see types.ts).
 */

export type ContractVmErrorCode =
  /** The QuickJS WebAssembly module could not be read, compiled or started. Reinstall dependencies. */
  | "ENGINE_LOAD_FAILED"
  /**
   * The QuickJS WebAssembly binary is not the one the limit hooks were written for (the
   * `@jitl/quickjs-wasmfile-release-sync` version changed). Pin it back to 0.32.0.
   */
  | "ENGINE_PATCH_FAILED"
  /**
   * V8's native stack in this process is too small for the configured QuickJS stack limit:
   * a deep recursion would exhaust V8's stack before QuickJS's. Start node with a larger
   * `--stack-size`, or lower the stack limit on every worker of the cluster together.
   */
  | "STACK_HEADROOM";

export class ContractVmError extends Error {
  readonly code: ContractVmErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ContractVmErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ContractVmError";
    this.code = code;
    this.details = options.details;
  }
}
