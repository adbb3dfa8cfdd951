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
  assert.deepEqual(compiled.report, {
    memorySites: 4,
    stackSites: 5,
    atomEnd: 238,
    // 5 MiB of stack above ~88 KB of static data, the heap right above the stack.
    layout: { stackHigh: 5_333_088, staticEnd: 152_768, heapBase: 5_333_088, brkAddress: 86_864 },
  });
});

test("a snapshot puts back the heap and the allocator: what ran since is gone, and allocation resumes where it was", async () => {
  const fresh = await QuickjsEngine.create(compiled, silentLogger);
  const module = (fresh.quickjs as unknown as { module: { HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void } }).module;
  const { heapBase, brkAddress, staticEnd } = compiled.report.layout;
  const brk = (): number => new DataView(module.HEAPU8.buffer).getUint32(brkAddress, true);
  const rt = fresh.quickjs.newRuntime();
  rt.setMaxStackSize(48 * 1024);
  const ctx = rt.newContext();
  const kept = ctx.newString("kept");
  const snapshot = fresh.takeSnapshot();
  const brkBefore = brk();
  const probe = module._malloc(64);
  assert.ok(snapshot.heap.length === brkBefore - heapBase && brkBefore > heapBase);

  // Run enough to move the break (8 MiB of strings) and overflow the stack.
  assert.equal(ctx.dump(ctx.unwrapResult(ctx.evalCode(`globalThis.big = "x".repeat(8 << 20); globalThis.leak = 1; big.length`))), 8 << 20);
  const deep = ctx.evalCode(`(function f() { f(); })()`);
  assert.ok(deep.error !== undefined);
  assert.ok(brk() > brkBefore + (8 << 20));

  fresh.restoreSnapshot(snapshot);
  assert.equal(brk(), brkBefore);
  assert.deepEqual(module.HEAPU8.subarray(0, staticEnd), snapshot.statics);
  assert.deepEqual(module.HEAPU8.subarray(heapBase, brkBefore), snapshot.heap);
  assert.equal(ctx.getString(kept), "kept");
  assert.equal(ctx.dump(ctx.unwrapResult(ctx.evalCode(`typeof globalThis.leak + typeof globalThis.big`))), "undefinedundefined");
  // The allocator's state came back too: the same request lands at the same address.
  fresh.restoreSnapshot(snapshot);
  assert.equal(module._malloc(64), probe);
});

test("the static region covers all of the module's static data: the stack below it stays untouched", () => {
  const { staticEnd, stackHigh } = compiled.report.layout;
  const memory = (engine.quickjs as unknown as { module: { HEAPU8: Uint8Array } }).module.HEAPU8;
  // The tests above allocated, failed allocations, overflowed the stack and freed runtimes:
  // static data written above staticEnd would show here (it starts zeroed, like .bss).
  evaluate(`(() => { try { const a = []; for (;;) a.push([1, 2]); } catch (e) {} })()`);
  evaluate(`(function f() { f(); })()`);
  assert.ok(memory.subarray(staticEnd, stackHigh - 1024 * 1024).every((b) => b === 0));
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
