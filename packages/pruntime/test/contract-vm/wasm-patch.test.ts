import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQuickjs, QuickjsEngine } from "../../src/contract-vm/engine.ts";
import { LIMIT_FLAG_MEMORY, LIMIT_FLAG_STACK, patchQuickjsWasm } from "../../src/contract-vm/wasm-patch.ts";
import { ContractVmError } from "../../src/contract-vm/errors.ts";
import { silentLogger } from "../../src/logger.ts";

const compiled = await compileQuickjs();
const engine = await QuickjsEngine.create(compiled, silentLogger);

/** Evaluates `source` in a fresh runtime; returns what it evaluated to and the limit flags. */
function evaluate(source: string): { value: unknown; flags: number } {
  const rt = engine.quickjs.newRuntime();
  rt.setMemoryLimit(8 * 1024 * 1024);
  rt.setMaxStackSize(48 * 1024);
  const ctx = rt.newContext();
  engine.clearLimitFlags();
  const r = ctx.evalCode(source);
  const value: unknown = r.error !== undefined ? { error: ctx.dump(r.error) } : ctx.dump(r.value);
  (r.error ?? r.value).dispose();
  const flags = engine.limitFlags();
  ctx.dispose();
  rt.dispose();
  return { value, flags };
}

test("the patch finds every hook site of the pinned QuickJS build", () => {
  assert.deepEqual(compiled.report, { memorySites: 4, stackSites: 5, atomEnd: 238 });
});

test("caught out-of-memory and stack overflow errors still raise the flags", () => {
  assert.deepEqual(evaluate("1 + 1"), { value: 2, flags: 0 });
  const oom = evaluate(`(() => { try { const a = []; for (;;) a.push([1, 2]); } catch (e) { return "caught"; } })()`);
  assert.deepEqual(oom, { value: "caught", flags: LIMIT_FLAG_MEMORY });
  const deep = evaluate(`let r; try { const f = () => f(); f(); } catch (e) { r = e.message; } r`);
  assert.deepEqual(deep, { value: "stack overflow", flags: LIMIT_FLAG_STACK });
});

test("bytecode compiled in one runtime runs in another, and evaluates in the context that reads it", () => {
  const compiledScript = engine.compile(`var answer = 6 * 7; function twice(x) { return 2 * x; } "done " + answer`, "x.js", { stackLimitBytes: 48 * 1024, memoryLimitBytes: 8 * 1024 * 1024 });
  assert.ok(compiledScript.ok);
  const rt = engine.quickjs.newRuntime();
  const ctx = rt.newContext();
  const result = engine.evalBytecode(ctx, compiledScript.bytecode);
  assert.ok(result.value !== undefined);
  assert.equal(ctx.dump(result.value), "done 42");
  result.value.dispose();
  const check = ctx.unwrapResult(ctx.evalCode("[answer, twice(4), typeof globalThis.twice]"));
  assert.deepEqual(ctx.dump(check), [42, 8, "function"]);
  check.dispose();
  const thrown = engine.compile(`throw new RangeError("at load")`, "y.js", { stackLimitBytes: 48 * 1024, memoryLimitBytes: 8 * 1024 * 1024 });
  assert.ok(thrown.ok);
  const failed = engine.evalBytecode(ctx, thrown.bytecode);
  assert.ok(failed.error !== undefined);
  assert.equal(ctx.dump(failed.error).message, "at load");
  failed.error.dispose();
  ctx.dispose();
  rt.dispose();
  const bad = engine.compile("var = ;", "z.js", { stackLimitBytes: 48 * 1024, memoryLimitBytes: 8 * 1024 * 1024 });
  assert.deepEqual(bad.ok ? undefined : bad.reason, "syntax");
});

test("another binary is refused instead of being patched blindly", () => {
  const notWasm = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => patchQuickjsWasm(notWasm, ""), (e: unknown) => e instanceof ContractVmError && e.code === "ENGINE_PATCH_FAILED");
  // A minimal valid module (header, empty type section) lacks every site.
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00]);
  assert.throws(() => patchQuickjsWasm(empty, ""), (e: unknown) => e instanceof ContractVmError && e.code === "ENGINE_PATCH_FAILED");
});
