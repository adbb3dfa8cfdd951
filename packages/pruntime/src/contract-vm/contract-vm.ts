/**
 * The confidential-contract VM: runs one call of a contract bundle in QuickJS (WebAssembly)
 * with gas, memory and stack limits, deterministically.
 *
 * Every call gets a fresh QuickJS runtime and context (~150 µs), so nothing a call leaves in
 * the JavaScript heap reaches the next one, and so the heap's accounting, the garbage
 * collector's thresholds and the interrupt counter start from the same state on every
 * worker: where a call runs out of memory or gas depends only on the call.
 *
 * Failures of a call are returned as a CallOutcome, never thrown; nothing the call wrote is
 * kept and no events are returned. Thrown errors mean a broken VM or a broken request.
 */
import assert from "node:assert/strict";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { toHex } from "@phala-ts/primitives";
import { silentLogger, type Logger } from "../logger.ts";
import { compileQuickjs, QuickjsEngine, type CompiledQuickjs, type HostArgs } from "./engine.ts";
import {
  GasMeter,
  GAS_CALL_BASE,
  GAS_HOST_CALL,
  GAS_PER_CODE_BYTE,
  GAS_PER_EVENT_BYTE,
  GAS_PER_INPUT_BYTE,
  GAS_PER_INTERRUPT,
  GAS_PER_KEY_LISTED,
  GAS_PER_OUTPUT_BYTE,
  GAS_PER_READ_BYTE,
  GAS_PER_WRITE_BYTE,
} from "./gas.ts";
import {
  CALL_OUTPUT_BYTES_MAX,
  CALL_WRITE_BYTES_MAX,
  CODE_CACHE_ENTRIES_MAX,
  CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT,
  CONTRACT_PARSE_STACK_LIMIT_BYTES,
  CONTRACT_STACK_LIMIT_BYTES_DEFAULT,
  ERROR_MESSAGE_BYTES_MAX,
  EVENTS_PER_CALL_MAX,
  EVENT_DATA_BYTES_MAX,
  EVENT_TOPIC_BYTES_MAX,
  STORAGE_KEYS_LIMIT_MAX,
  STORAGE_KEY_BYTES_MAX,
  STORAGE_VALUE_BYTES_MAX,
} from "./limits.ts";
import { BUNDLE_FILENAME, FinishTag, HostOp, PRELUDE_FILENAME, PRELUDE_SOURCE, prngState } from "./prelude.ts";
import { checkStackHeadroom } from "./stack-headroom.ts";
import { StorageOverlay } from "./storage-overlay.ts";
import type { CallErrorKind, CallOutcome, CallRequest, ContractEvent } from "./types.ts";
import { LIMIT_FLAG_MEMORY, LIMIT_FLAG_STACK } from "./wasm-patch.ts";

export interface ContractVmOptions {
  /** QuickJS heap per call. Consensus: the same on every worker. */
  memoryLimitBytes?: number;
  /** QuickJS stack per call. Consensus: the same on every worker. See limits.ts before raising it. */
  stackLimitBytes?: number;
  /** Skip the start-up check that V8's native stack outlasts the QuickJS stack limit (tests only). */
  skipStackHeadroomCheck?: boolean;
}

export interface ContractVmModules {
  logger?: Logger;
}

export interface ContractVmStats {
  calls: number;
  /** Engines dropped after V8 ran out of native stack inside them (see `call`). */
  enginesRetired: number;
  codeCacheEntries: number;
}

/** Every builtin except Date (there is no clock); WeakRef and FinalizationRegistry come with Date in QuickJS. */
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

const SEED_BYTES = 32;

type FatalKind = "gas" | "memory" | "stack" | "internal";

interface CodeEntry {
  byteLength: number;
  /** The compiled bundle, or undefined if it cannot run. */
  bytecode: ArrayBuffer | undefined;
  /** Why the bundle cannot run on any worker. */
  invalid: string;
}

/** Thrown by the host into the contract: a refused host call, which the contract may catch. */
class HostRefusal extends Error {
  constructor(name: "Error" | "TypeError" | "RangeError", message: string) {
    super(message);
    this.name = name;
  }
}

/** Everything one call accumulates on the host side. */
class CallState {
  readonly meter: GasMeter;
  readonly overlay: StorageOverlay;
  readonly events: ContractEvent[] = [];
  writeBytes = 0;
  interrupts = 0;
  fatal: FatalKind | undefined;
  fatalMessage = "";
  finished: { tag: number; text: string } | undefined;

  constructor(
    readonly req: CallRequest,
    readonly envJson: string,
  ) {
    this.meter = new GasMeter(req.gasLimit);
    this.overlay = new StorageOverlay(req.storage);
  }

  setFatal(kind: FatalKind, message: string): void {
    if (this.fatal === undefined) {
      this.fatal = kind;
      this.fatalMessage = message;
    }
  }

  charge(amount: bigint): void {
    if (!this.meter.charge(amount)) {
      this.setFatal("gas", "out of gas");
      throw new HostRefusal("Error", "out of gas");
    }
  }
}

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a character. */
function truncateUtf8(s: string, max: number): string {
  if (s.length <= max / 3 || utf8Length(s) <= max) return s;
  const bytes = Buffer.from(s, "utf8").subarray(0, max);
  let end = bytes.length;
  // Step back over a partial multi-byte sequence at the end.
  let i = end - 1;
  while (i >= 0 && (bytes[i] & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = bytes[i];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return bytes.subarray(0, end).toString("utf8");
}

function isV8StackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

export class ContractVm {
  private active: QuickjsEngine;
  private activeRetired = false;
  private spare: QuickjsEngine | undefined;
  private building: Promise<void> | undefined;
  private readonly codeCache = new Map<string, CodeEntry>();
  private calls = 0;
  private enginesRetired = 0;
  private readonly memoryLimitBytes: number;
  private readonly stackLimitBytes: number;
  private readonly logger: Logger;

  private constructor(
    private readonly compiled: CompiledQuickjs,
    private readonly preludeBytecode: ArrayBuffer,
    active: QuickjsEngine,
    spare: QuickjsEngine,
    options: ContractVmOptions,
    modules: ContractVmModules,
  ) {
    this.active = active;
    this.spare = spare;
    this.memoryLimitBytes = options.memoryLimitBytes ?? CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT;
    this.stackLimitBytes = options.stackLimitBytes ?? CONTRACT_STACK_LIMIT_BYTES_DEFAULT;
    this.logger = modules.logger ?? silentLogger;
  }

  /**
   * Loads and patches the QuickJS module, starts two engines (one spare, see `call`) and
   * checks that V8's stack outlasts the QuickJS stack limit in this process.
   */
  static async create(options: ContractVmOptions = {}, modules: ContractVmModules = {}): Promise<ContractVm> {
    const memoryLimitBytes = options.memoryLimitBytes ?? CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT;
    const stackLimitBytes = options.stackLimitBytes ?? CONTRACT_STACK_LIMIT_BYTES_DEFAULT;
    assert.ok(Number.isSafeInteger(memoryLimitBytes) && memoryLimitBytes >= 1024 * 1024, "memoryLimitBytes must be at least 1 MiB");
    assert.ok(Number.isSafeInteger(stackLimitBytes) && stackLimitBytes >= CONTRACT_PARSE_STACK_LIMIT_BYTES, "stackLimitBytes must be at least the parse stack limit");
    const compiled = await compileQuickjs();
    const logger = modules.logger ?? silentLogger;
    const [active, spare] = await Promise.all([QuickjsEngine.create(compiled, logger), QuickjsEngine.create(compiled, logger)]);
    if (options.skipStackHeadroomCheck !== true) checkStackHeadroom(spare, { stackLimitBytes, parseStackLimitBytes: CONTRACT_PARSE_STACK_LIMIT_BYTES });
    const prelude = active.compile(PRELUDE_SOURCE, PRELUDE_FILENAME, { stackLimitBytes, memoryLimitBytes });
    assert.ok(prelude.ok, "the VM prelude must compile");
    return new ContractVm(compiled, prelude.bytecode, active, spare, options, modules);
  }

  get stats(): ContractVmStats {
    return { calls: this.calls, enginesRetired: this.enginesRetired, codeCacheEntries: this.codeCache.size };
  }

  /** Runs one call. Synchronous; the same request gives the same outcome on every worker. */
  call(req: CallRequest): CallOutcome {
    assert.ok(req.mode === "init" || req.mode === "handle" || req.mode === "query", "mode");
    assert.ok(req.seed.length === SEED_BYTES, "seed must be 32 bytes");
    assert.ok(typeof req.gasLimit === "bigint" && req.gasLimit >= 0n, "gasLimit must be a non-negative bigint");
    assert.ok(typeof req.input === "string", "input must be a string");
    this.calls++;

    const envJson = JSON.stringify({
      blockNumber: req.env.blockNumber,
      timestamp: req.env.timestamp,
      contractId: req.env.contractId,
      caller: req.env.caller,
      mode: req.mode,
    });
    const state = new CallState(req, envJson);
    const fixed = GAS_CALL_BASE + GAS_PER_CODE_BYTE * BigInt(req.code.length) + GAS_PER_INPUT_BYTE * BigInt(utf8Length(req.input));
    if (!state.meter.charge(fixed)) return { ok: false, error: { kind: "gas", message: "out of gas" }, gasUsed: req.gasLimit };

    const code = this.codeEntry(req);
    if (code.bytecode === undefined) return this.failure(state, "invalid-code", code.invalid);

    this.run(state, code.bytecode);
    return this.outcome(state);
  }

  private failure(state: CallState, kind: CallErrorKind, message: string): CallOutcome {
    const gasUsed = kind === "gas" || kind === "stack" ? state.req.gasLimit : state.meter.used;
    return { ok: false, error: { kind, message: truncateUtf8(message, ERROR_MESSAGE_BYTES_MAX) }, gasUsed };
  }

  private outcome(state: CallState): CallOutcome {
    if (state.fatal !== undefined) return this.failure(state, state.fatal, state.fatalMessage);
    const finished = state.finished;
    if (finished === undefined) return this.failure(state, "contract", "the contract's result never settled (a promise that never resolved)");
    switch (finished.tag) {
      case FinishTag.ok: {
        const bytes = utf8Length(finished.text);
        if (bytes > CALL_OUTPUT_BYTES_MAX) return this.failure(state, "contract", `the result is ${bytes} bytes of JSON, more than ${CALL_OUTPUT_BYTES_MAX}`);
        if (!state.meter.charge(GAS_PER_OUTPUT_BYTE * BigInt(bytes))) return this.failure(state, "gas", "out of gas");
        const storageWrites = state.overlay.size;
        state.overlay.commit();
        return { ok: true, output: finished.text, gasUsed: state.meter.used, events: state.events, storageWrites };
      }
      case FinishTag.invalidInput:
        return this.failure(state, "invalid-input", `the input is not JSON: ${finished.text}`);
      case FinishTag.invalidCode:
        return this.failure(state, "invalid-code", finished.text);
      case FinishTag.contract:
        return this.failure(state, "contract", finished.text);
      default:
        return this.failure(state, "internal", `unknown finish tag ${finished.tag}`);
    }
  }

  /**
   * The bundle compiled to bytecode, once per code hash, under CONTRACT_PARSE_STACK_LIMIT_BYTES
   * and in a throwaway runtime (engine.compile): a call's own runtime starts from the same
   * state whether or not this worker had the bytecode cached.
   */
  private codeEntry(req: CallRequest): CodeEntry {
    const key = toHex(req.codeHash);
    const cached = this.codeCache.get(key);
    if (cached !== undefined) {
      assert.equal(cached.byteLength, req.code.length, "codeHash names a different bundle than before");
      this.codeCache.delete(key);
      this.codeCache.set(key, cached);
      return cached;
    }
    const entry = this.compileBundle(req.code);
    this.codeCache.set(key, entry);
    if (this.codeCache.size > CODE_CACHE_ENTRIES_MAX) {
      const oldest = this.codeCache.keys().next().value;
      if (oldest !== undefined) this.codeCache.delete(oldest);
    }
    return entry;
  }

  private compileBundle(code: Uint8Array): CodeEntry {
    const invalid = (message: string): CodeEntry => ({ byteLength: code.length, bytecode: undefined, invalid: message });
    let source: string;
    try {
      source = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(code);
    } catch {
      return invalid("the bundle is not valid UTF-8");
    }
    const engine = this.active;
    const compiled = engine.compile(source, BUNDLE_FILENAME, { stackLimitBytes: CONTRACT_PARSE_STACK_LIMIT_BYTES, memoryLimitBytes: this.memoryLimitBytes });
    if (compiled.ok) return { byteLength: code.length, bytecode: compiled.bytecode, invalid: "" };
    switch (compiled.reason) {
      case "syntax":
        return invalid(`the bundle does not compile: ${compiled.message}`);
      case "memory":
        return invalid("the bundle is too large to compile within the memory limit");
      case "stack":
        return invalid("the bundle nests too deeply to compile within the stack limit");
      case "native-stack":
        // V8 ran out of stack inside the parser; only a bundle nested thousands deep does that.
        this.retireActive(new Error(compiled.message));
        return invalid("the bundle nests too deeply to compile");
    }
  }

  private run(state: CallState, bundle: ArrayBuffer): void {
    const engine = this.active;
    const baseSp = engine.stackPointer();
    const handles: QuickJSHandle[] = [];
    let rt: QuickJSRuntime | undefined;
    let ctx: QuickJSContext | undefined;
    let broken: unknown;
    try {
      rt = engine.quickjs.newRuntime();
      rt.setMemoryLimit(this.memoryLimitBytes);
      rt.setMaxStackSize(this.stackLimitBytes);
      rt.setInterruptHandler(() => this.onInterrupt(state, engine));
      engine.clearLimitFlags();
      ctx = rt.newContext({ intrinsics: INTRINSICS });
      this.runInContext(state, engine, rt, ctx, bundle, handles);
      this.checkLimitFlags(state, engine);
    } catch (e) {
      // An exception out of the module: V8 ran out of native stack inside QuickJS (or the
      // module trapped). The wasm frames were unwound without their epilogues, so this
      // runtime is inconsistent: it is abandoned, not freed, the shadow-stack pointer is put
      // back, and the engine is swapped for the spare (its heap may be mid-update).
      broken = e;
      engine.restoreStackPointer(baseSp);
      if (isV8StackOverflow(e)) state.setFatal("stack", "stack overflow");
      else state.setFatal("internal", `the QuickJS engine failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (broken === undefined) {
      // The outcome is settled; freeing cannot change it. QuickJS can leak objects on some
      // out-of-memory paths, and then JS_FreeRuntime aborts the module on an assertion:
      // that engine is dropped too.
      try {
        for (let i = handles.length - 1; i >= 0; i--) handles[i].dispose();
        ctx?.dispose();
        rt?.dispose();
      } catch (e) {
        broken = e;
        engine.restoreStackPointer(baseSp);
      }
    }
    if (broken !== undefined) this.retireActive(broken);
  }

  private runInContext(state: CallState, engine: QuickjsEngine, rt: QuickJSRuntime, ctx: QuickJSContext, bundle: ArrayBuffer, handles: QuickJSHandle[]): void {
    const keep = (h: QuickJSHandle): QuickJSHandle => {
      handles.push(h);
      return h;
    };
    const prelude = engine.evalBytecode(ctx, this.preludeBytecode);
    if (prelude.error !== undefined) {
      keep(prelude.error);
      this.checkLimitFlags(state, engine);
      state.setFatal("internal", "the VM prelude did not evaluate");
      return;
    }
    const preludeFn = keep(prelude.value);
    const host = keep(engine.installHostFunction(ctx, "host", (args) => this.hostCall(state, engine, args)));
    const seed = prngState(state.req.seed);
    const api = ctx.callFunction(preludeFn, ctx.undefined, host, ...seed.map((n) => keep(ctx.newNumber(n))));
    if (api.error !== undefined) {
      keep(api.error);
      this.checkLimitFlags(state, engine);
      state.setFatal("internal", "the VM prelude failed");
      return;
    }
    keep(api.value);
    const drive = keep(ctx.getProp(api.value, "drive"));
    const describe = keep(ctx.getProp(api.value, "describe"));

    const loaded = engine.evalBytecode(ctx, bundle);
    if (loaded.error !== undefined) {
      keep(loaded.error);
      this.checkLimitFlags(state, engine);
      if (state.fatal !== undefined) return;
      const message = this.describeInVm(state, engine, ctx, describe, loaded.error, keep);
      this.checkLimitFlags(state, engine);
      if (state.fatal === undefined) state.finished = { tag: FinishTag.invalidCode, text: `the bundle threw while loading: ${message}` };
      return;
    }
    keep(loaded.value);
    if (state.fatal !== undefined) return;

    const origin = state.req.mode === "init" ? "null" : JSON.stringify(state.req.origin);
    const driven = ctx.callFunction(drive, ctx.undefined, keep(ctx.newString(state.req.mode)), keep(ctx.newString(state.req.input)), keep(ctx.newString(origin)));
    if (driven.error !== undefined) {
      keep(driven.error);
      this.checkLimitFlags(state, engine);
      if (state.fatal === undefined) state.setFatal("internal", "the VM driver threw");
      return;
    }
    keep(driven.value);

    // Promises the contract started settle here, under the same gas meter.
    while (state.fatal === undefined && rt.hasPendingJob()) {
      const jobs = rt.executePendingJobs(-1);
      if (jobs.error !== undefined) {
        keep(jobs.error);
        this.checkLimitFlags(state, engine);
        if (state.fatal === undefined) state.setFatal("internal", "a promise job failed inside the VM");
        return;
      }
      this.checkLimitFlags(state, engine);
    }
  }

  /** The message for a value the bundle threw, computed by the prelude inside the VM (metered). */
  private describeInVm(state: CallState, engine: QuickjsEngine, ctx: QuickJSContext, describe: QuickJSHandle, error: QuickJSHandle, keep: (h: QuickJSHandle) => QuickJSHandle): string {
    const r = ctx.callFunction(describe, ctx.undefined, error);
    if (r.error !== undefined) {
      keep(r.error);
      this.checkLimitFlags(state, engine);
      return "uncaught exception";
    }
    keep(r.value);
    return ctx.typeof(r.value) === "string" ? ctx.getString(r.value) : "uncaught exception";
  }

  /** Turns a QuickJS out-of-memory or stack-overflow, caught by the contract or not, into a fatal outcome. */
  private checkLimitFlags(state: CallState, engine: QuickjsEngine): void {
    const flags = engine.limitFlags();
    if (flags & LIMIT_FLAG_MEMORY) state.setFatal("memory", `out of memory (limit ${this.memoryLimitBytes} bytes)`);
    if (flags & LIMIT_FLAG_STACK) state.setFatal("stack", "stack overflow");
  }

  private onInterrupt(state: CallState, engine: QuickjsEngine): boolean {
    try {
      if (state.fatal !== undefined) return true;
      this.checkLimitFlags(state, engine);
      if (state.fatal !== undefined) return true;
      // The counter of a fresh context starts at zero, so the first callback comes at the
      // first tick and stands for no work; each later one stands for 10,000 ticks.
      state.interrupts++;
      if (state.interrupts > 1 && !state.meter.charge(GAS_PER_INTERRUPT)) {
        state.setFatal("gas", "out of gas");
        return true;
      }
      return false;
    } catch (e) {
      state.setFatal(isV8StackOverflow(e) ? "stack" : "internal", isV8StackOverflow(e) ? "stack overflow" : "the interrupt handler failed");
      return true;
    }
  }

  private hostCall(state: CallState, engine: QuickjsEngine, args: HostArgs): string | undefined {
    try {
      if (state.fatal === undefined) this.checkLimitFlags(state, engine);
      if (state.fatal !== undefined) throw new HostRefusal("Error", "the call has already failed");
      const op = args.number(0);
      const mode = state.req.mode;
      switch (op) {
        case HostOp.storageGet: {
          const key = args.string(1);
          const keyBytes = checkedBytes(key, STORAGE_KEY_BYTES_MAX, "key");
          state.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(keyBytes));
          const value = state.overlay.get(key);
          if (value === undefined) return undefined;
          state.charge(GAS_PER_READ_BYTE * BigInt(utf8Length(value)));
          return value;
        }
        case HostOp.storageSet:
        case HostOp.storageRemove: {
          if (mode === "query") throw new HostRefusal("Error", "storage is read-only in a query");
          const key = args.string(1);
          const keyBytes = checkedBytes(key, STORAGE_KEY_BYTES_MAX, "key");
          const value = op === HostOp.storageSet ? args.string(2) : undefined;
          const valueBytes = value === undefined ? 0 : checkedBytes(value, STORAGE_VALUE_BYTES_MAX, "value");
          state.charge(GAS_HOST_CALL + GAS_PER_WRITE_BYTE * BigInt(keyBytes + valueBytes));
          state.writeBytes += keyBytes + valueBytes;
          if (state.writeBytes > CALL_WRITE_BYTES_MAX) {
            state.setFatal("memory", `the call wrote more than ${CALL_WRITE_BYTES_MAX} bytes of storage`);
            throw new HostRefusal("Error", "too many storage writes");
          }
          if (value === undefined) state.overlay.remove(key);
          else state.overlay.set(key, value);
          return undefined;
        }
        case HostOp.storageKeys: {
          const prefix = args.string(1);
          const prefixBytes = checkedBytes(prefix, STORAGE_KEY_BYTES_MAX, "prefix");
          const limit = args.number(2);
          if (!Number.isInteger(limit) || limit < 0 || limit > STORAGE_KEYS_LIMIT_MAX) throw new HostRefusal("RangeError", `limit must be an integer from 0 to ${STORAGE_KEYS_LIMIT_MAX}`);
          state.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(prefixBytes));
          const keys = state.overlay.keys(prefix, limit);
          const json = JSON.stringify(keys);
          state.charge(GAS_PER_KEY_LISTED * BigInt(keys.length) + GAS_PER_READ_BYTE * BigInt(utf8Length(json)));
          return json;
        }
        case HostOp.emit: {
          if (mode === "query") throw new HostRefusal("Error", "events cannot be emitted in a query");
          const topic = args.string(1);
          const data = args.string(2);
          const bytes = checkedBytes(topic, EVENT_TOPIC_BYTES_MAX, "topic") + checkedBytes(data, EVENT_DATA_BYTES_MAX, "data");
          if (state.events.length >= EVENTS_PER_CALL_MAX) throw new HostRefusal("RangeError", `at most ${EVENTS_PER_CALL_MAX} events per call`);
          state.charge(GAS_HOST_CALL + GAS_PER_EVENT_BYTE * BigInt(bytes));
          state.events.push({ topic, data });
          return undefined;
        }
        case HostOp.env:
          state.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(utf8Length(state.envJson)));
          return state.envJson;
        case HostOp.finish: {
          if (state.finished === undefined) state.finished = { tag: args.number(1), text: args.string(2) };
          return undefined;
        }
        default:
          state.setFatal("internal", `unknown host op ${op}`);
          throw new HostRefusal("Error", "unknown host op");
      }
    } catch (e) {
      if (!(e instanceof HostRefusal)) {
        // Not a refusal we chose: V8 out of stack in host code, or a bug. The contract must
        // not be able to observe and survive it.
        state.setFatal(isV8StackOverflow(e) ? "stack" : "internal", isV8StackOverflow(e) ? "stack overflow" : `host call failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      throw e;
    }
  }

  /**
   * Drops the active engine after V8 unwound it or it aborted, switching to the spare, and
   * builds a new spare in the background. Without a spare (a second fault within the ~50 ms
   * a rebuild takes) the retired engine keeps serving until the new one is ready; calls it
   * cannot run fail as "internal".
   */
  private retireActive(cause: unknown): void {
    this.enginesRetired++;
    this.logger.warn("contract engine retired", { reason: cause instanceof Error ? cause.message : String(cause), spare: this.spare !== undefined });
    if (this.spare !== undefined) {
      this.active = this.spare;
      this.spare = undefined;
    } else {
      this.activeRetired = true;
    }
    this.buildSpare();
  }

  private buildSpare(): void {
    if (this.building !== undefined) return;
    this.building = QuickjsEngine.create(this.compiled, this.logger).then(
      (engine) => {
        this.building = undefined;
        if (this.activeRetired) {
          this.active = engine;
          this.activeRetired = false;
          this.buildSpare();
        } else {
          this.spare = engine;
        }
      },
      (err: unknown) => {
        this.building = undefined;
        this.logger.error("cannot build a spare contract engine", { reason: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  /** Resolves once no spare engine is being built (tests). */
  async settled(): Promise<void> {
    while (this.building !== undefined) await this.building;
  }
}

/** UTF-8 length of a host-call argument, refused past `max`. */
function checkedBytes(s: string, max: number, what: string): number {
  const n = utf8Length(s);
  if (n > max) throw new HostRefusal("RangeError", `${what} is ${n} bytes, more than ${max}`);
  return n;
}
