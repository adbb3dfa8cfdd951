import { test } from "node:test";
import assert from "node:assert/strict";
import { ContractVm, ContractVmError, MemoryContractStorage } from "../../src/contract-vm/index.ts";
import { COUNTER, bundle, kindOf, outputOf, raw, request } from "./helpers.ts";

const vm = await ContractVm.create();
const GAS = 500_000_000n;

/** Runs a call and checks it ends with `kind` within `maxMs`; returns the outcome. */
function expectKind(code: { code: Uint8Array; codeHash: Uint8Array }, input: unknown, kind: string, maxMs: number, target: ContractVm = vm, gasLimit = GAS) {
  const started = performance.now();
  const outcome = target.call(request(code, "handle", input, { gasLimit }));
  const ms = performance.now() - started;
  assert.equal(kindOf(outcome), kind, JSON.stringify(input));
  assert.ok(ms < maxMs, `${JSON.stringify(input)} took ${ms.toFixed(0)} ms`);
  return outcome;
}

/** After any failure the same VM serves the next call normally. */
function expectHealthy(target: ContractVm = vm): void {
  const storage = new MemoryContractStorage();
  assert.equal(kindOf(target.call(request(COUNTER, "init", { start: 1, owner: "x" }, { origin: null, storage }))), "ok");
  assert.deepEqual(outputOf(target.call(request(COUNTER, "handle", { op: "add", by: 1 }, { storage }))), { count: 2 });
}

test("infinite loops stop at the gas limit, caught or not, with gasUsed = gasLimit", () => {
  const code = bundle(`{ handle(c) {
    if (c.t === "plain") for (;;) {}
    if (c.t === "catching") for (;;) { try { for (;;) {} } catch (e) {} }
    if (c.t === "finally") for (;;) { try { for (;;) {} } finally { continue; } }
    if (c.t === "jobs") { const spin = () => Promise.resolve().then(spin); spin(); return 1; }
    if (c.t === "hostCalls") for (;;) { try { __phala_host.env(); } catch (e) {} }
  } }`);
  for (const t of ["plain", "catching", "finally", "hostCalls"]) {
    const outcome = expectKind(code, { t }, "gas", 10_000);
    assert.equal(outcome.gasUsed, GAS);
  }
  // The promise loop grows a chain: it runs out of memory or gas, never hangs. (QuickJS
  // leaks on this out-of-memory path, so freeing the runtime aborts the engine and the VM
  // switches to its spare: expectHealthy below checks that.)
  const started = performance.now();
  const jobs = vm.call(request(code, "handle", { t: "jobs" }, { gasLimit: GAS }));
  assert.ok(!jobs.ok && (jobs.error.kind === "gas" || jobs.error.kind === "memory"), kindOf(jobs));
  assert.ok(performance.now() - started < 10_000);
  // A loop in the bundle's top level runs under the same meter.
  const topLevel = raw(`var __contract = { default: { handle() { return 1; } } }; for (;;) {}`);
  const loading = vm.call(request(topLevel, "handle", {}, { gasLimit: GAS }));
  assert.deepEqual([kindOf(loading), loading.gasUsed], ["gas", GAS]);
  expectHealthy();
});

test("unbounded allocation stops at the memory limit even when caught, and the VM goes on", () => {
  const code = bundle(`{ handle(c) {
    const keep = [];
    try {
      if (c.t === "push") for (;;) keep.push({ i: keep.length });
      if (c.t === "chunks") for (;;) keep.push(new Array(65536).fill(keep.length));
      if (c.t === "repeat") { let s = "ab"; for (;;) s = s.repeat(2); }
      if (c.t === "buffers") for (;;) keep.push(new ArrayBuffer(1 << 20));
      if (c.t === "huge") new Uint8Array(2 ** 30);
      if (c.t === "map") { const m = new Map(); for (let i = 0; ; i++) m.set(i, "v" + i); }
    } catch (e) {
      return "caught " + e.message;
    }
  } }`);
  for (const t of ["push", "chunks", "repeat", "buffers", "huge", "map"]) {
    // Building 16 MiB of string with repeat is charged ~1e9 gas (prelude.ts BUILTIN_GAS): give it room to reach the memory limit first.
    const gasLimit = t === "repeat" ? 4n * GAS : GAS;
    const outcome = expectKind(code, { t }, "memory", 10_000, vm, gasLimit);
    assert.ok(outcome.gasUsed < gasLimit);
    expectHealthy();
  }
});

test("the memory limit counts real bytes: sixteen 1 MiB buffers do not fit in 16 MiB", () => {
  const code = bundle(`{ handle(c) {
    const keep = [];
    for (let i = 0; i < c.n; i++) keep.push(new ArrayBuffer(1 << 20));
    return keep.length;
  } }`);
  assert.equal(outputOf(vm.call(request(code, "handle", { n: 12 }))), 12);
  assert.equal(kindOf(vm.call(request(code, "handle", { n: 16 }))), "memory");
  const small = ContractVm.create({ memoryLimitBytes: 4 * 1024 * 1024 });
  return small.then((smallVm) => {
    assert.equal(outputOf(smallVm.call(request(code, "handle", { n: 2 }))), 2);
    assert.equal(kindOf(smallVm.call(request(code, "handle", { n: 4 }))), "memory");
  });
});

test("deep recursion stops at the stack limit even when caught; gasUsed = gasLimit", () => {
  const retiredBefore = vm.stats.enginesRetired;
  const code = bundle(`{ handle(c) {
    const f = (n) => f(n + 1) + 1;
    const viaCallbacks = () => [1].map(viaCallbacks);
    const nested = () => { let o = {}; let x = o; for (let i = 0; i < 100000; i++) { x.a = {}; x = x.a; } return JSON.stringify(o).length; };
    const parseNested = () => JSON.parse("[".repeat(100000) + "]".repeat(100000)).length;
    try {
      if (c.t === "plain") f(0);
      if (c.t === "callbacks") viaCallbacks();
      if (c.t === "stringify") nested();
      if (c.t === "parse") parseNested();
    } catch (e) {
      return "caught " + e.message;
    }
    return "done";
  } }`);
  for (const t of ["plain", "callbacks", "stringify", "parse"]) {
    const outcome = expectKind(code, { t }, "stack", 10_000);
    assert.equal(outcome.gasUsed, GAS);
    expectHealthy();
  }
  // Moderate recursion is fine.
  const moderate = bundle(`{ handle(c) { const f = (n) => (n === 0 ? 0 : f(n - 1) + 1); return f(c.n); } }`);
  assert.equal(outputOf(vm.call(request(moderate, "handle", { n: 200 }))), 200);
  assert.equal(vm.stats.enginesRetired, retiredBefore, "QuickJS's own limit tripped, not V8's");
});

test("a catastrophic regex is interrupted by gas (QuickJS's regexp engine polls the interrupt handler)", () => {
  const code = bundle(`{ handle(c) { return /^(a+)+$/.test("a".repeat(c.n) + "!"); } }`);
  assert.equal(outputOf(vm.call(request(code, "handle", { n: 10 }))), false);
  const outcome = expectKind(code, { n: 40 }, "gas", 10_000);
  assert.equal(outcome.gasUsed, GAS);
  const caught = bundle(`{ handle(c) { try { return /(x+x+)+y/.test("x".repeat(c.n)); } catch (e) { return "caught"; } } }`);
  expectKind(caught, { n: 5000 }, "gas", 10_000);
  expectHealthy();
});

test("if V8's native stack runs out first, the call is a stack failure and a spare engine takes over", async () => {
  // Far past what the start-up check allows: JSON.stringify nesting exhausts V8's stack
  // before QuickJS's 2 MiB. This is the fallback that must never corrupt the VM.
  const risky = await ContractVm.create({ stackLimitBytes: 2 * 1024 * 1024, memoryLimitBytes: 128 * 1024 * 1024, skipStackHeadroomCheck: true });
  const code = bundle(`{ handle() { let o = {}; let x = o; for (let i = 0; i < 300000; i++) { x.a = {}; x = x.a; } try { return JSON.stringify(o).length; } catch (e) { return "caught"; } } }`);
  const outcome = risky.call(request(code, "handle", {}, { gasLimit: GAS }));
  assert.equal(kindOf(outcome), "stack");
  assert.equal(outcome.gasUsed, GAS);
  assert.equal(risky.stats.enginesRetired, 1);
  expectHealthy(risky);
  await risky.settled();
  expectHealthy(risky);
});

test("the start-up check refuses a stack limit V8's stack cannot back", async () => {
  await assert.rejects(
    ContractVm.create({ stackLimitBytes: 1024 * 1024 }),
    (e: unknown) => e instanceof ContractVmError && e.code === "STACK_HEADROOM",
  );
});

test("a gas limit below the fixed cost fails before running anything", () => {
  const outcome = vm.call(request(COUNTER, "handle", { op: "add", by: 1 }, { gasLimit: 1000n }));
  assert.deepEqual(outcome, { ok: false, error: { kind: "gas", message: "out of gas" }, gasUsed: 1000n });
});

test("a query past its wall-clock deadline stops with kind timeout, well before its gas would run out", () => {
  const code = bundle(`{ query() { for (;;) {} } }`);
  const started = performance.now();
  const outcome = vm.call({ ...request(code, "query", {}, { gasLimit: 1n << 60n }), deadlineMs: performance.now() + 50 });
  assert.equal(kindOf(outcome), "timeout");
  assert.ok(performance.now() - started < 2_000);
  expectHealthy();
});
