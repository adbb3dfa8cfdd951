/**
 * The confidential-contract VM: runs one call of a contract bundle in QuickJS (WebAssembly)
 * with gas, memory and stack limits, deterministically.
 *
 * Every call starts from the same snapshot of a set-up runtime and context (sandbox.ts), so
 * nothing a call leaves in the JavaScript heap reaches the next one, and the heap's
 * accounting, the garbage collector's thresholds and the interrupt counter start from the
 * same state on every worker: where a call runs out of memory or gas depends only on the
 * call. Each bundle is compiled to bytecode once (in a throwaway runtime) and loaded per call.
 *
 * Failures of a call are returned as a CallOutcome, never thrown; nothing the call wrote is
 * kept and no events are returned. Thrown errors mean a broken VM or a broken request.
 */
import assert from "node:assert/strict";
import type { QuickJSHandle } from "quickjs-emscripten-core";
import { toHex } from "@phala-ts/primitives";
import { silentLogger, type Logger } from "../logger.ts";
import { CallState, isV8StackOverflow, utf8Length } from "./call-state.ts";
import { compileQuickjs, QuickjsEngine } from "./engine.ts";
import { EnginePool } from "./engine-pool.ts";
import { GAS_CALL_BASE, GAS_PER_CODE_BYTE, GAS_PER_INPUT_BYTE, GAS_PER_OUTPUT_BYTE } from "./gas.ts";
import {
  CALL_OUTPUT_BYTES_MAX,
  CODE_CACHE_ENTRIES_MAX,
  CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT,
  CONTRACT_PARSE_STACK_LIMIT_BYTES,
  CONTRACT_STACK_LIMIT_BYTES_DEFAULT,
  ERROR_MESSAGE_BYTES_MAX,
} from "./limits.ts";
import { BUNDLE_FILENAME, FinishTag, prngState } from "./prelude.ts";
import { CallSandbox } from "./sandbox.ts";
import { checkStackHeadroom } from "./stack-headroom.ts";
import type { CallErrorKind, CallOutcome, CallRequest } from "./types.ts";

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
  /** Engines dropped because V8 unwound them or they aborted (engine-pool.ts). */
  enginesRetired: number;
  codeCacheEntries: number;
}

const SEED_BYTES = 32;

interface CodeEntry {
  byteLength: number;
  /** The compiled bundle, or undefined if it cannot run. */
  bytecode: ArrayBuffer | undefined;
  /** Why the bundle cannot run on any worker. */
  invalid: string;
}

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

export class ContractVm {
  private readonly codeCache = new Map<string, CodeEntry>();
  private calls = 0;
  private readonly memoryLimitBytes: number;
  private readonly stackLimitBytes: number;
  private readonly logger: Logger;

  private constructor(
    private readonly engines: EnginePool,
    options: ContractVmOptions,
    modules: ContractVmModules,
  ) {
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
    const engines = await EnginePool.create(async () => CallSandbox.create(await QuickjsEngine.create(compiled, logger), { memoryLimitBytes, stackLimitBytes }), logger);
    const spare = engines.spareEngine;
    assert.ok(spare !== undefined);
    // On the spare: a failed check can leave the engine unusable, and then nothing starts.
    if (options.skipStackHeadroomCheck !== true) checkStackHeadroom(spare.engine, { stackLimitBytes, parseStackLimitBytes: CONTRACT_PARSE_STACK_LIMIT_BYTES });
    return new ContractVm(engines, options, modules);
  }

  get stats(): ContractVmStats {
    return { calls: this.calls, enginesRetired: this.engines.retired, codeCacheEntries: this.codeCache.size };
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
    const state = new CallState(req, envJson, this.memoryLimitBytes);
    const fixed = GAS_CALL_BASE + GAS_PER_CODE_BYTE * BigInt(req.code.length) + GAS_PER_INPUT_BYTE * BigInt(utf8Length(req.input));
    if (!state.meter.charge(fixed)) return { ok: false, error: { kind: "gas", message: "out of gas" }, gasUsed: req.gasLimit };

    const codeKey = toHex(req.codeHash);
    const code = this.codeEntry(codeKey, req);
    if (code.bytecode === undefined) return this.failure(state, "invalid-code", code.invalid);

    this.run(state, codeKey, code.bytecode);
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
  private codeEntry(key: string, req: CallRequest): CodeEntry {
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
    const engine = this.engines.active.engine;
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
        this.engines.retireActive(new Error(compiled.message));
        return invalid("the bundle nests too deeply to compile");
    }
  }

  private run(state: CallState, codeKey: string, bundle: ArrayBuffer): void {
    const sandbox = this.engines.active;
    let broken: unknown;
    try {
      const loaded = sandbox.loadedCode(codeKey, bundle);
      if (loaded === undefined) {
        sandbox.enter(state);
        this.runInSandbox(state, sandbox, bundle);
      } else {
        sandbox.enter(state, loaded.snapshot);
        if (state.chargeInterrupts(loaded.interrupts)) this.runInSandbox(state, sandbox, undefined);
      }
      state.checkLimitFlags(sandbox.engine.limitFlags());
    } catch (e) {
      // An exception out of the module: V8 ran out of native stack inside QuickJS (or the
      // module trapped). The memory is put back before the next call, but the module's
      // JavaScript side may have been left mid-update: the engine is swapped for the spare.
      broken = e;
      if (isV8StackOverflow(e)) state.setFatal("stack", "stack overflow");
      else state.setFatal("internal", `the QuickJS engine failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      sandbox.leave();
    }
    if (broken !== undefined) this.engines.retireActive(broken);
  }

  /** Seeds the PRNG, loads the bundle unless the sandbox starts from it loaded, and drives the call. */
  private runInSandbox(state: CallState, sandbox: CallSandbox, bundle: ArrayBuffer | undefined): void {
    const { engine, context: ctx, runtime: rt } = sandbox;
    const seeded = ctx.callFunction(sandbox.seed, ctx.undefined, ...prngState(state.req.seed).map((n) => ctx.newNumber(n)));
    if (seeded.error !== undefined) {
      state.checkLimitFlags(engine.limitFlags());
      state.setFatal("internal", "the VM prelude failed to seed the PRNG");
      return;
    }

    const loaded = bundle === undefined ? undefined : engine.evalBytecode(ctx, bundle);
    if (loaded?.error !== undefined) {
      state.checkLimitFlags(engine.limitFlags());
      if (state.fatal !== undefined) return;
      const message = this.describeInVm(state, sandbox, loaded.error);
      state.checkLimitFlags(engine.limitFlags());
      if (state.fatal === undefined) state.finished = { tag: FinishTag.invalidCode, text: `the bundle threw while loading: ${message}` };
      return;
    }
    if (state.fatal !== undefined) return;

    const origin = state.req.mode === "init" ? "null" : JSON.stringify(state.req.origin);
    const driven = ctx.callFunction(sandbox.drive, ctx.undefined, ctx.newString(state.req.mode), ctx.newString(state.req.input), ctx.newString(origin));
    if (driven.error !== undefined) {
      state.checkLimitFlags(engine.limitFlags());
      if (state.fatal === undefined) state.setFatal("internal", "the VM driver threw");
      return;
    }

    // Promises the contract started settle here, under the same gas meter.
    while (state.fatal === undefined && rt.hasPendingJob()) {
      const jobs = rt.executePendingJobs(-1);
      if (jobs.error !== undefined) {
        state.checkLimitFlags(engine.limitFlags());
        if (state.fatal === undefined) state.setFatal("internal", "a promise job failed inside the VM");
        return;
      }
      state.checkLimitFlags(engine.limitFlags());
    }
  }

  /** The message for a value the bundle threw, computed by the prelude inside the VM (metered). */
  private describeInVm(state: CallState, sandbox: CallSandbox, error: QuickJSHandle): string {
    const ctx = sandbox.context;
    const r = ctx.callFunction(sandbox.describe, ctx.undefined, error);
    if (r.error !== undefined) {
      state.checkLimitFlags(sandbox.engine.limitFlags());
      return "uncaught exception";
    }
    return ctx.typeof(r.value) === "string" ? ctx.getString(r.value) : "uncaught exception";
  }

  /** Resolves once no spare engine is being built (tests). */
  async settled(): Promise<void> {
    await this.engines.settled();
  }
}
