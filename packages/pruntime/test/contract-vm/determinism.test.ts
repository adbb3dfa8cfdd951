import { test } from "node:test";
import assert from "node:assert/strict";
import { ContractVm, GAS_PER_INPUT_BYTE, GAS_PER_INTERRUPT, GAS_PER_OUTPUT_BYTE, MemoryContractStorage, type CallOutcome, type CallRequest } from "../../src/contract-vm/index.ts";
import { ALICE, BOB, bundle, kindOf, outputOf, request, seed } from "./helpers.ts";

const vmA = await ContractVm.create();
const vmB = await ContractVm.create();

/** A contract that exercises everything whose result could drift: randomness, promises, gas, limits. */
const WORKLOAD = bundle(`{
  init(args) { __phala_host.storageSet("seq", "[]"); },
  async handle(c, origin) {
    const h = __phala_host;
    const seq = JSON.parse(h.storageGet("seq"));
    if (c.op === "random") seq.push([Math.random(), Math.random()]);
    if (c.op === "work") { let x = 0; for (let i = 0; i < c.n; i++) x = (x * 31 + i) % 1000003; seq.push(x); }
    if (c.op === "async") { const v = await new Promise((resolve) => resolve(c.v)); await null; seq.push(v * 2); }
    if (c.op === "sort") { const a = []; for (let i = 0; i < 200; i++) a.push(Math.random()); a.sort(); seq.push(a[0], a[199]); }
    if (c.op === "map") { const m = new Map(); for (let i = 0; i < 50; i++) m.set("k" + ((i * 7) % 50), i); seq.push([...m.keys()].slice(0, 5)); }
    if (c.op === "float") seq.push([Math.sin(c.v), Math.exp(c.v), Math.pow(c.v, 0.5), (c.v / 3).toFixed(20), String(0.1 + 0.2)]);
    if (c.op === "oom") { try { const a = []; for (;;) a.push([1, 2, 3]); } catch (e) { seq.push("survived"); } }
    if (c.op === "loop") for (;;) {}
    if (c.op === "deep") { const f = (n) => f(n + 1) + 1; try { f(0); } catch (e) { seq.push("caught"); } }
    h.storageSet("seq", JSON.stringify(seq));
    h.emit("step", JSON.stringify({ op: c.op, by: origin.id }));
    return seq.length;
  },
}`);

const STEPS: Array<Record<string, unknown>> = [
  { op: "random" },
  { op: "work", n: 100 },
  { op: "work", n: 123_457 },
  { op: "async", v: 21 },
  { op: "sort" },
  { op: "map" },
  { op: "float", v: 1.2345 },
  { op: "oom" },
  { op: "loop" },
  { op: "deep" },
  { op: "random" },
];

function runAll(vm: ContractVm): { outcomes: string[]; storage: Array<[string, string]> } {
  const storage = new MemoryContractStorage();
  const outcomes: string[] = [];
  const show = (o: CallOutcome): string => JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  outcomes.push(show(vm.call(request(WORKLOAD, "init", {}, { origin: null, storage }))));
  STEPS.forEach((step, i) => {
    outcomes.push(show(vm.call(request(WORKLOAD, "handle", step, { storage, origin: i % 2 === 0 ? ALICE : BOB, seed: seed(i), gasLimit: 300_000_000n }))));
  });
  return { outcomes, storage: storage.entries() };
}

test("the same calls give the same outputs, events, storage and gas on two separate VMs, and again", () => {
  const a = runAll(vmA);
  const b = runAll(vmB);
  const again = runAll(vmA); // now from the code cache
  assert.deepEqual(b, a);
  assert.deepEqual(again, a);
  const kinds = a.outcomes.map((o) => (JSON.parse(o) as { ok: boolean; error?: { kind: string } }).error?.kind ?? "ok");
  assert.deepEqual(kinds, ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "memory", "gas", "stack", "ok"]);
  assert.ok(a.storage.length === 1 && a.storage[0][0] === "seq");
});

test("the interrupt count is a pure function of the work: gas is identical across VMs and grows in steps", () => {
  const loop = bundle(`{ handle(c) { let x = 0; for (let i = 0; i < c.n; i++) x += i; return x; } }`);
  const run = (vm: ContractVm, n: number): { gas: bigint; io: bigint } => {
    const o = vm.call(request(loop, "handle", { n }));
    assert.ok(o.ok);
    return { gas: o.gasUsed, io: GAS_PER_INPUT_BYTE * BigInt(JSON.stringify({ n }).length) + GAS_PER_OUTPUT_BYTE * BigInt(o.output.length) };
  };
  const base = run(vmA, 0);
  let previous = 0n;
  for (const n of [1, 1000, 10_000, 50_000, 200_000]) {
    const { gas, io } = run(vmA, n);
    assert.equal(run(vmB, n).gas, gas, `n=${n} on another VM`);
    assert.equal(run(vmA, n).gas, gas, `n=${n} again`);
    // Apart from input and output bytes, two loop lengths differ by whole interrupt callbacks.
    const callbacks = gas - io - (base.gas - base.io);
    assert.equal(callbacks % GAS_PER_INTERRUPT, 0n, `n=${n}`);
    assert.ok(callbacks >= previous);
    previous = callbacks;
  }
  assert.ok(previous >= 20n * GAS_PER_INTERRUPT, "200,000 iterations take dozens of callbacks");
});

test("no Date, WeakRef, FinalizationRegistry, eval or Function constructor; globals are clean", () => {
  const probe = bundle(`{ handle() {
    const tryRun = (f) => { try { return f(); } catch (e) { return e.name + ": " + e.message; } };
    return {
      types: [typeof Date, typeof WeakRef, typeof FinalizationRegistry, typeof eval, typeof setTimeout, typeof __phala_host],
      fn: tryRun(() => Function("return 1")()),
      asyncFn: tryRun(() => Object.getPrototypeOf(async function () {}).constructor("return 1")),
      genFn: tryRun(() => Object.getPrototypeOf(function* () {}).constructor("yield 1")),
      instance: (() => 1) instanceof Function,
      globals: Object.keys(globalThis),
    };
  } }`);
  assert.deepEqual(outputOf(vmA.call(request(probe, "handle", {}))), {
    types: ["undefined", "undefined", "undefined", "undefined", "undefined", "object"],
    fn: "EvalError: code generation from strings is disabled in contracts",
    asyncFn: "EvalError: code generation from strings is disabled in contracts",
    genFn: "EvalError: code generation from strings is disabled in contracts",
    instance: true,
    globals: ["__contract"],
  });
});

test("Math.random is seeded by the request: same seed, same numbers on any VM; another seed, others", () => {
  const draw = bundle(`{ handle() {
    const out = [];
    for (let i = 0; i < 8; i++) out.push(Math.random());
    let replaced;
    try { Math.random = () => 0.5; replaced = "replaced"; } catch (e) { replaced = e.name; }
    return { out, replaced };
  } }`);
  const numbers = (vm: ContractVm, s: number): number[] => {
    const r = outputOf(vm.call(request(draw, "handle", {}, { seed: seed(s) }))) as { out: number[]; replaced: string };
    assert.equal(r.replaced, "TypeError");
    return r.out;
  };
  const a = numbers(vmA, 1);
  assert.deepEqual(numbers(vmB, 1), a);
  assert.deepEqual(numbers(vmA, 1), a);
  const other = numbers(vmA, 2);
  assert.notDeepEqual(other, a);
  for (const x of [...a, ...other]) assert.ok(x >= 0 && x < 1);
  assert.equal(new Set([...a, ...other]).size, 16);
});

test("promises settle inside the call, under the same meter; one that never settles is an error", () => {
  const code = bundle(`{
    async handle(c) {
      let v = 1;
      for (let i = 0; i < c.n; i++) v = await Promise.resolve(v + 1);
      __phala_host.storageSet("v", JSON.stringify(v));
      return Promise.all([v, Promise.resolve(10)]);
    },
    query() { return new Promise(() => {}); },
  }`);
  const storage = new MemoryContractStorage();
  const small = vmA.call(request(code, "handle", { n: 3 }, { storage }));
  assert.deepEqual(outputOf(small), [4, 10]);
  assert.deepEqual(storage.entries(), [["v", "4"]]);
  const big = vmA.call(request(code, "handle", { n: 20_000 }, { storage }));
  assert.deepEqual(outputOf(big), [20_001, 10]);
  assert.ok(big.gasUsed > small.gasUsed + 5n * GAS_PER_INTERRUPT, "jobs are metered");
  const never = vmA.call(request(code, "query", {}, { storage }));
  assert.equal(kindOf(never), "contract");
  const starved = vmA.call(request(code, "handle", { n: 10_000_000 }, { storage, gasLimit: 100_000_000n }));
  assert.deepEqual([kindOf(starved), starved.gasUsed], ["gas", 100_000_000n]);
  assert.deepEqual(storage.entries(), [["v", "20001"]]);
});

test("a request is not changed by the call and the seed never reaches the contract", () => {
  const code = bundle(`{ handle() { return Object.getOwnPropertyNames(globalThis).filter((k) => /seed|host|prelude|drive/i.test(k)); } }`);
  const req: CallRequest = request(code, "handle", {});
  const copy = { ...req, seed: req.seed.slice() };
  assert.deepEqual(outputOf(vmA.call(req)), ["__phala_host"]);
  assert.deepEqual(req.seed, copy.seed);
});
