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
 * A bundle whose loading is pure (no host call, no Math.random, no pending job, no limit
 * reached, at most LOAD_PROBE_INTERRUPTS_MAX interrupt callbacks) is snapshotted after
 * loading: its calls start from there and are charged the interrupts the load took. Whether
 * a load is pure, and what it costs, depends on the bundle alone, so every worker takes the
 * same path for it and charges the same gas. Other bundles are loaded in every call.
 *
 * Handles made during a call point into memory the next restore overwrites; they are
 * dropped, never disposed.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import type { HostArgs, MemorySnapshot, QuickjsEngine } from "./engine.ts";
import { ContractVmError } from "./errors.ts";
import { CODE_CACHE_ENTRIES_MAX, CODE_SNAPSHOTS_MAX, LOAD_PROBE_INTERRUPTS_MAX } from "./limits.ts";
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

/** The state after loading a bundle, and the interrupt callbacks loading it took. */
export interface LoadedCode {
  readonly snapshot: MemorySnapshot;
  readonly interrupts: number;
}

/** Stands in for a call while a bundle is loaded for a snapshot: anything impure spoils the load and stops it. */
class LoadProbe implements SandboxCall {
  interrupts = 0;
  spoiled = false;

  onInterrupt(limitFlags: number): boolean {
    this.interrupts++;
    if (limitFlags !== 0 || this.interrupts > LOAD_PROBE_INTERRUPTS_MAX) this.spoiled = true;
    return this.spoiled;
  }

  hostCall(): string | undefined {
    this.spoiled = true;
    throw new Error("host call while loading");
  }
}

export class CallSandbox {
  private current: SandboxCall | undefined;
  /** By code hash, least recently used first. */
  private readonly loaded = new Map<string, LoadedCode>();
  /** Code hashes whose load is not pure, least recently used first. */
  private readonly impure = new Set<string>();

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

  /** Puts a snapshot back (the set-up one by default) and routes QuickJS's callbacks to `call` until `leave`. */
  enter(call: SandboxCall, from: MemorySnapshot = this.snapshot): void {
    this.engine.restoreSnapshot(from);
    this.current = call;
  }

  leave(): void {
    this.current = undefined;
  }

  /**
   * The snapshot after loading `bytecode`, made on first use; undefined when its load is not
   * pure. May throw like any run of the module (a V8 stack overflow).
   */
  loadedCode(codeKey: string, bytecode: ArrayBuffer): LoadedCode | undefined {
    const cached = this.loaded.get(codeKey);
    if (cached !== undefined) {
      this.loaded.delete(codeKey);
      this.loaded.set(codeKey, cached);
      return cached;
    }
    if (this.impure.has(codeKey)) {
      this.impure.delete(codeKey);
      this.impure.add(codeKey);
      return undefined;
    }
    const entry = this.probeLoad(bytecode);
    if (entry === undefined) {
      this.impure.add(codeKey);
      if (this.impure.size > CODE_CACHE_ENTRIES_MAX) this.impure.delete(this.impure.values().next().value as string);
    } else {
      this.loaded.set(codeKey, entry);
      if (this.loaded.size > CODE_SNAPSHOTS_MAX) this.loaded.delete(this.loaded.keys().next().value as string);
    }
    return entry;
  }

  /** Loads the bundle the way a call would (seed, then load) and checks nothing impure happened. */
  private probeLoad(bytecode: ArrayBuffer): LoadedCode | undefined {
    const probe = new LoadProbe();
    const ctx = this.context;
    const reseed = (): number | undefined => {
      const r = ctx.callFunction(this.seed, ctx.undefined, ctx.newNumber(0), ctx.newNumber(0), ctx.newNumber(0), ctx.newNumber(1));
      return r.error === undefined ? ctx.getNumber(r.value) : undefined;
    };
    let pure = false;
    this.enter(probe);
    try {
      if (reseed() === 0) {
        const loaded = this.engine.evalBytecode(ctx, bytecode);
        const clean = (): boolean => !probe.spoiled && this.engine.limitFlags() === 0;
        // Reseeding again returns how many numbers the load drew: it must be none.
        pure = loaded.error === undefined && clean() && !this.runtime.hasPendingJob() && reseed() === 0 && clean();
      }
    } finally {
      this.leave();
    }
    return pure ? { snapshot: this.engine.takeSnapshot(), interrupts: probe.interrupts } : undefined;
  }
}
