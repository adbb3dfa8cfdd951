/**
 * One instance of the QuickJS WebAssembly module (its own linear memory), built from the
 * patched binary (wasm-patch.ts): the globals the patch exports, bytecode compile and load,
 * and a lean path for host functions.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import variantModule from "@jitl/quickjs-wasmfile-release-sync";
import {
  Lifetime,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type EmscriptenModule,
  type JSContextPointer,
  type JSValueConstPointer,
  type JSValuePointer,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import type { Logger } from "../logger.ts";
import { ContractVmError } from "./errors.ts";
import { EXPORT_LIMIT_FLAGS, EXPORT_STACK_POINTER, LIMIT_FLAG_MEMORY, LIMIT_FLAG_STACK, patchQuickjsWasm, type MemoryLayout, type PatchReport } from "./wasm-patch.ts";

/**
 * The parts of the WebAssembly API used here. The project compiles without DOM types and
 * @types/node declares only part of the namespace, so it is typed locally.
 */
interface WasmGlobal {
  value: number;
}
interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: unknown): Promise<WasmInstance>;
  Global: abstract new (...args: never[]) => WasmGlobal;
}
/** A compiled WebAssembly.Module (opaque here). */
export type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The package's default export: the variant under ESM, `{ default: variant }` as TypeScript sees its CJS typings. */
const variant: QuickJSSyncVariant = (variantModule as unknown as { default?: QuickJSSyncVariant }).default ?? (variantModule as unknown as QuickJSSyncVariant);

/** The compiled, patched module; immutable, so every engine of a VM shares it. */
export interface CompiledQuickjs {
  module: WasmModule;
  report: PatchReport;
}

export async function compileQuickjs(): Promise<CompiledQuickjs> {
  let original: Uint8Array;
  let glue: string;
  try {
    const require = createRequire(import.meta.url);
    original = readFileSync(require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm"));
    glue = readFileSync(require.resolve("@jitl/quickjs-wasmfile-release-sync/emscripten-module"), "utf8");
  } catch (cause) {
    throw new ContractVmError("ENGINE_LOAD_FAILED", "cannot read the QuickJS WebAssembly files of @jitl/quickjs-wasmfile-release-sync; reinstall dependencies", { cause });
  }
  const { bytes, report } = patchQuickjsWasm(original, glue);
  try {
    return { module: await wasm.compile(bytes), report };
  } catch (cause) {
    throw new ContractVmError("ENGINE_PATCH_FAILED", "the patched QuickJS WebAssembly module does not compile", { cause });
  }
}

/**
 * The parts of linear memory that hold the module's state while no WebAssembly frame is
 * active: the static data and the heap up to the break. The stack in between is dead then.
 */
export interface MemorySnapshot {
  readonly statics: Uint8Array;
  readonly heap: Uint8Array;
}

export class QuickjsEngine {
  private constructor(
    readonly quickjs: QuickJSWASMModule,
    private readonly module: EmscriptenModule,
    private readonly layout: MemoryLayout,
    private readonly flags: WasmGlobal,
    private readonly stackPointerGlobal: WasmGlobal,
  ) {}

  static async create(compiled: CompiledQuickjs, logger: Logger): Promise<QuickjsEngine> {
    let instance: WasmInstance | undefined;
    const loader = newVariant(variant, {
      emscriptenModule: {
        instantiateWasm: async (imports, onSuccess) => {
          instance = await wasm.instantiate(compiled.module, imports);
          onSuccess(instance as never);
          return instance.exports as never;
        },
        // Emscripten's own output (an abort's assertion text) goes to the log, not the console.
        ...({
          print: (text: string) => logger.debug("quickjs output", { text }),
          printErr: (text: string) => logger.warn("quickjs error output", { text }),
        } as object),
      },
    });
    let quickjs: QuickJSWASMModule;
    try {
      quickjs = await newQuickJSWASMModuleFromVariant(loader);
    } catch (cause) {
      throw new ContractVmError("ENGINE_LOAD_FAILED", "the QuickJS WebAssembly module failed to start", { cause });
    }
    if (instance === undefined) throw new ContractVmError("ENGINE_LOAD_FAILED", "QuickJS started without going through instantiateWasm");
    const flags = instance.exports[EXPORT_LIMIT_FLAGS];
    const sp = instance.exports[EXPORT_STACK_POINTER];
    if (!(flags instanceof wasm.Global) || !(sp instanceof wasm.Global)) {
      throw new ContractVmError("ENGINE_PATCH_FAILED", "the patched QuickJS module lacks its limit exports");
    }
    if (sp.value !== compiled.report.layout.stackHigh) throw new ContractVmError("ENGINE_PATCH_FAILED", "the QuickJS module's stack pointer does not start where its layout says");
    const module = (quickjs as unknown as { module: EmscriptenModule }).module;
    return new QuickjsEngine(quickjs, module, compiled.report.layout, flags, sp);
  }

  /**
   * Copies the module's state: static data and heap, not the stack. Only between calls into
   * the module, with no WebAssembly frame active.
   */
  takeSnapshot(): MemorySnapshot {
    const { stackHigh, staticEnd, heapBase, brkAddress } = this.layout;
    assert.equal(this.stackPointer(), stackHigh, "snapshot taken with a WebAssembly frame active");
    const memory = this.module.HEAPU8;
    const brk = memory[brkAddress] | (memory[brkAddress + 1] << 8) | (memory[brkAddress + 2] << 16) | (memory[brkAddress + 3] * 2 ** 24);
    if (brk < heapBase || brk > memory.length) throw new ContractVmError("ENGINE_PATCH_FAILED", `the QuickJS heap break read at ${brkAddress} (${brk}) is outside the heap; pin @jitl/quickjs-wasmfile-release-sync to 0.32.0`);
    return { statics: memory.slice(0, staticEnd), heap: memory.slice(heapBase, brk) };
  }

  /**
   * Puts the module back to `snapshot`, whatever ran since: the allocator's state and the
   * break are in the static data, so the heap above the snapshot's break is free again.
   * Memory the module grew since stays, unused. Only with no WebAssembly frame active.
   */
  restoreSnapshot(snapshot: MemorySnapshot): void {
    const memory = this.module.HEAPU8;
    memory.set(snapshot.statics, 0);
    memory.set(snapshot.heap, this.layout.heapBase);
    this.stackPointerGlobal.value = this.layout.stackHigh;
    this.flags.value = 0;
  }

  /**
   * Compiles a global script to bytecode (wasm-patch.ts, part 2) in a throwaway runtime, so
   * whatever compiling allocates never shows in the runtime of a call. `native-stack` means
   * V8 ran out of stack inside the compiler: the engine must be retired.
   */
  compile(source: string, filename: string, limits: { stackLimitBytes: number; memoryLimitBytes: number }): CompileResult {
    const baseSp = this.stackPointer();
    const rt = this.quickjs.newRuntime();
    rt.setMemoryLimit(limits.memoryLimitBytes);
    rt.setMaxStackSize(limits.stackLimitBytes);
    const ctx = rt.newContext();
    this.clearLimitFlags();
    try {
      const compiled = ctx.evalCode(source, filename, { type: "global", compileOnly: true });
      let result: CompileResult;
      if (compiled.error !== undefined) {
        const flags = this.limitFlags();
        const message = errorMessage(ctx, compiled.error);
        compiled.error.dispose();
        result = { ok: false, reason: flags & LIMIT_FLAG_MEMORY ? "memory" : flags & LIMIT_FLAG_STACK ? "stack" : "syntax", message };
      } else {
        const encoded = ctx.encodeBinaryJSON(compiled.value);
        compiled.value.dispose();
        const bytes = ctx.getArrayBuffer(encoded);
        result = { ok: true, bytecode: bytes.value.slice().buffer };
        bytes.dispose();
        encoded.dispose();
      }
      ctx.dispose();
      rt.dispose();
      return result;
    } catch (e) {
      this.restoreStackPointer(baseSp);
      return { ok: false, reason: "native-stack", message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Runs bytecode from `compile` in `ctx`: the script's completion value, or what it threw. */
  evalBytecode(ctx: QuickJSContext, bytecode: ArrayBuffer): { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle; value?: undefined } {
    const ffi = this.quickjs.getFFI();
    const ctxPtr = (ctx as unknown as { ctx: Lifetime<JSContextPointer> }).ctx.value;
    const buffer = ctx.newArrayBuffer(bytecode);
    const result = ctx.decodeBinaryJSON(buffer);
    buffer.dispose();
    const errorPtr = ffi.QTS_ResolveException(ctxPtr, result.value as JSValuePointer);
    if (errorPtr === 0) return { value: result };
    result.dispose();
    return { error: new Lifetime<JSValuePointer, JSValuePointer, QuickJSRuntime>(errorPtr, undefined, (p) => ffi.QTS_FreeValuePointer(ctxPtr, p), ctx.runtime) };
  }

  /**
   * A host function for `ctx` on a lean path. quickjs-emscripten's own path for calls from
   * QuickJS into the host (a scope, a generator and a lifetime object per argument) costs
   * 5-9 µs per call; this one reads arguments and builds results straight through the FFI,
   * ~1 µs. It takes over all host calls of `ctx` (the VM creates one host function per
   * context). Depends on quickjs-emscripten-core 0.32 internals (pinned).
   */
  installHostFunction(ctx: QuickJSContext, name: string, impl: HostFunction): QuickJSHandle {
    const handle = ctx.newFunction(name, () => undefined);
    const internals = ctx as unknown as { ctx: Lifetime<JSContextPointer>; cToHostCallbacks: { callFunction: unknown } };
    const ctxPtr = internals.ctx.value;
    const ffi = this.quickjs.getFFI();
    const module = this.module;
    let argv = 0;
    let argc = 0;
    const arg = (i: number): JSValueConstPointer => {
      if (i >= argc) throw new HostFunctionArgError(i);
      return ffi.QTS_ArgvGetJSValueConstPointer(argv as never, i);
    };
    const args: HostArgs = {
      get count() {
        return argc;
      },
      number: (i) => ffi.QTS_GetFloat64(ctxPtr, arg(i)),
      string: (i) => {
        const chars = ffi.QTS_GetString(ctxPtr, arg(i));
        try {
          return module.UTF8ToString(chars as never);
        } finally {
          ffi.QTS_FreeCString(ctxPtr, chars);
        }
      },
    };
    internals.cToHostCallbacks.callFunction = (calledCtx: JSContextPointer, _this: number, count: number, argvPtr: number): JSValuePointer | 0 => {
      if (calledCtx !== ctxPtr) throw new Error("host call for another context");
      argc = count;
      argv = argvPtr;
      let result: string | undefined;
      try {
        result = impl(args);
      } catch (e) {
        const error = ctx.newError(e instanceof Error ? { name: e.name, message: e.message } : { name: "Error", message: String(e) });
        try {
          return ffi.QTS_Throw(ctxPtr, error.value);
        } finally {
          error.dispose();
        }
      }
      if (result === undefined) return 0;
      const size = module.lengthBytesUTF8(result) + 1;
      const chars = module._malloc(size);
      try {
        module.stringToUTF8(result, chars as never, size);
        return ffi.QTS_NewString(ctxPtr, chars as never);
      } finally {
        module._free(chars);
      }
    };
    return handle;
  }

  /** LIMIT_FLAG_* bits set by QuickJS since the last clear. */
  limitFlags(): number {
    return this.flags.value;
  }

  clearLimitFlags(): void {
    this.flags.value = 0;
  }

  stackPointer(): number {
    return this.stackPointerGlobal.value;
  }

  /** Puts the shadow-stack pointer back after V8 unwound wasm frames without running their epilogues. */
  restoreStackPointer(value: number): void {
    this.stackPointerGlobal.value = value;
  }
}

export type CompileResult =
  | { ok: true; bytecode: ArrayBuffer }
  | { ok: false; reason: "syntax" | "memory" | "stack" | "native-stack"; message: string };

function errorMessage(ctx: QuickJSContext, error: QuickJSHandle): string {
  const message = ctx.getProp(error, "message");
  try {
    return ctx.typeof(message) === "string" ? ctx.getString(message) : "unknown error";
  } finally {
    message.dispose();
  }
}

/** Arguments of a host call, read on demand. */
export interface HostArgs {
  readonly count: number;
  number(i: number): number;
  /** The argument converted to a string (the caller checks types before calling). */
  string(i: number): string;
}

/** Returns a string for the contract, undefined for `undefined`; a throw becomes an exception in the contract. */
export type HostFunction = (args: HostArgs) => string | undefined;

export class HostFunctionArgError extends Error {
  constructor(index: number) {
    super(`host call is missing argument ${index}`);
    this.name = "TypeError";
  }
}
