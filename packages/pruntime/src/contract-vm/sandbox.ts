/**
 * One QuickJS runtime and context, set up once (limits, builtins, the prelude) and then
 * snapshotted: every call starts from that snapshot, byte for byte.
 *
 * Creating a context costs ~200 µs in this build, more than a typical call; putting the
 * memory back costs ~3 µs. Nothing a call leaves in the JavaScript heap reaches the next
 * call, since the whole heap and the allocator's state are put back. That also makes a
 * call's starting state the same on every worker: the snapshot is taken in a new module
 * instance after the same fixed steps, so where a call runs out of memory or gas depends
 * only on the call.
 *
 * Handles made during a call point into memory the next restore overwrites; they are
 * dropped, never disposed.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import type { HostArgs, MemorySnapshot, QuickjsEngine } from "./engine.ts";
import { ContractVmError } from "./errors.ts";
import { PRELUDE_FILENAME, PRELUDE_SOURCE } from "./prelude.ts";

/** The host's side of one call: what QuickJS calls back into while it runs. */
export interface SandboxCall {
  /** True stops the call (QuickJS throws an uncatchable interrupt). */
  onInterrupt(limitFlags: number): boolean;
  hostCall(args: HostArgs, limitFlags: number): string | undefined;
}

/**
 * Every builtin except Date (there is no clock). WeakRef and FinalizationRegistry are only
 * in QuickJS's full default set, not added this way; the prelude deletes them regardless.
 */
const INTRINSICS = {
  BaseObjects: true,
  Date: false,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  RegExpCompiler: true,
  JSON: true,
  Proxy: true,
  MapSet: true,
  TypedArrays: true,
  Promise: true,
  BigInt: true,
} as const;

export interface SandboxLimits {
  memoryLimitBytes: number;
  stackLimitBytes: number;
}

export class CallSandbox {
  private current: SandboxCall | undefined;

  private constructor(
    readonly engine: QuickjsEngine,
    readonly runtime: QuickJSRuntime,
    readonly context: QuickJSContext,
    /** The prelude's functions (prelude.ts), valid in every call. */
    readonly seed: QuickJSHandle,
    readonly drive: QuickJSHandle,
    readonly describe: QuickJSHandle,
    private readonly snapshot: MemorySnapshot,
  ) {}

  /** Sets up a runtime and context in `engine`, which must be new: nothing may have run in it. */
  static create(engine: QuickjsEngine, limits: SandboxLimits): CallSandbox {
    let current: () => SandboxCall | undefined = () => undefined;
    const rt = engine.quickjs.newRuntime();
    rt.setMemoryLimit(limits.memoryLimitBytes);
    rt.setMaxStackSize(limits.stackLimitBytes);
    // Set up now so the C side's handler pointer is in the snapshot; outside a call it never stops anything.
    rt.setInterruptHandler(() => current()?.onInterrupt(engine.limitFlags()) ?? false);
    const ctx = rt.newContext({ intrinsics: INTRINSICS });
    const host = engine.installHostFunction(ctx, "host", (args) => {
      const call = current();
      if (call === undefined) throw new Error("host call outside a contract call");
      return call.hostCall(args, engine.limitFlags());
    });
    const prelude = ctx.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME, { type: "global" });
    if (prelude.error !== undefined) throw new ContractVmError("ENGINE_LOAD_FAILED", "the contract VM prelude does not evaluate");
    const api = ctx.callFunction(prelude.value, ctx.undefined, host);
    if (api.error !== undefined) throw new ContractVmError("ENGINE_LOAD_FAILED", "the contract VM prelude failed");
    const sandbox = new CallSandbox(engine, rt, ctx, ctx.getProp(api.value, "seed"), ctx.getProp(api.value, "drive"), ctx.getProp(api.value, "describe"), engine.takeSnapshot());
    current = () => sandbox.current;
    return sandbox;
  }

  /** Puts the snapshot back and routes QuickJS's callbacks to `call` until `leave`. */
  enter(call: SandboxCall): void {
    this.engine.restoreSnapshot(this.snapshot);
    this.current = call;
  }

  leave(): void {
    this.current = undefined;
  }
}
