import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "@phala-ts/primitives";
import { ContractVm, MemoryContractStorage, StorageOverlay, ERROR_MESSAGE_BYTES_MAX, STORAGE_KEY_BYTES_MAX, STORAGE_VALUE_BYTES_MAX, CONTRACT_API_VERSION } from "../../src/contract-vm/index.ts";
import { ALICE, BOB, CONTRACT_ID, COUNTER, GAS_LIMIT, bundle, kindOf, outputOf, raw, request, seed } from "./helpers.ts";

const vm = await ContractVm.create();

test("init, handle and query round-trip through host storage, with events and env", () => {
  const storage = new MemoryContractStorage();
  const init = vm.call(request(COUNTER, "init", { start: 40, owner: ALICE }, { origin: null, storage }));
  assert.equal(kindOf(init), "ok");
  assert.ok(init.ok && init.output === "null" && init.storageWrites === 2);
  assert.deepEqual(storage.entries(), [["count", "40"], ["owner", JSON.stringify(ALICE)]]);

  const add = vm.call(request(COUNTER, "handle", { op: "add", by: 2 }, { origin: BOB, storage }));
  assert.deepEqual(outputOf(add), { count: 42 });
  assert.ok(add.ok);
  assert.deepEqual(add.events, [{ topic: "added", data: JSON.stringify({ n: 42, by: BOB }) }]);
  assert.equal(add.storageWrites, 2);
  assert.ok(add.gasUsed > 0n && add.gasUsed < GAS_LIMIT);

  assert.equal(outputOf(vm.call(request(COUNTER, "query", { op: "count" }, { storage }))), 42);
  assert.deepEqual(outputOf(vm.call(request(COUNTER, "query", { op: "keys", prefix: "", limit: 10 }, { storage }))), ["by/" + BOB, "count", "owner"]);
  assert.deepEqual(outputOf(vm.call(request(COUNTER, "query", { op: "keys", prefix: "o", limit: 10 }, { storage }))), ["owner"]);
  assert.deepEqual(outputOf(vm.call(request(COUNTER, "query", { op: "env" }, { storage, blockNumber: 99 }))), {
    blockNumber: 99,
    timestamp: 1_700_000_000_000,
    contractId: CONTRACT_ID,
    caller: ALICE,
    mode: "query",
  });
  assert.deepEqual(outputOf(vm.call(request(COUNTER, "query", { op: "whoami" }, { storage, origin: BOB }))), { kind: "account", id: BOB });
  assert.equal(outputOf(vm.call(request(COUNTER, "query", { op: "whoami" }, { storage, origin: null }))), null);

  // Removal, and a command refused by the contract.
  assert.equal(kindOf(vm.call(request(COUNTER, "handle", { op: "reset" }, { origin: ALICE, storage }))), "ok");
  assert.equal(outputOf(vm.call(request(COUNTER, "query", { op: "count" }, { storage }))), null);
  const refused = vm.call(request(COUNTER, "handle", { op: "reset" }, { origin: BOB, storage }));
  assert.deepEqual(refused.ok ? undefined : refused.error, { kind: "contract", message: "not the owner" });
  assert.equal(CONTRACT_API_VERSION, 1);
});

test("a failed call keeps none of its writes and emits nothing, whatever ended it", () => {
  const failures: Array<[string, string]> = [
    ["contract", `throw new Error("after writing")`],
    ["gas", `for (;;) {}`],
    ["memory", `const a = []; for (;;) a.push(new Array(1000).fill(1))`],
    ["stack", `const f = () => f() + 1; f()`],
  ];
  for (const [kind, tail] of failures) {
    const storage = new MemoryContractStorage();
    storage.set("kept", "1");
    const code = bundle(`{ handle() {
      __phala_host.storageSet("kept", "2");
      __phala_host.storageSet("new", "3");
      __phala_host.storageRemove("kept");
      __phala_host.emit("e", "{}");
      ${tail};
    } }`);
    const outcome = vm.call(request(code, "handle", {}, { storage, gasLimit: 200_000_000n }));
    assert.equal(kindOf(outcome), kind, tail);
    assert.deepEqual(storage.entries(), [["kept", "1"]], kind);
    assert.ok(!("events" in outcome));
    assert.ok(outcome.gasUsed > 0n);
  }
});

test("writes reach the caller's storage only at the end, through an overlay the caller can still drop", () => {
  const base = new MemoryContractStorage();
  const overlay = new StorageOverlay(base);
  const code = bundle(`{ handle() { __phala_host.storageSet("b", "2"); __phala_host.storageSet("a", "1"); return __phala_host.storageGet("a"); } }`);
  const outcome = vm.call(request(code, "handle", {}, { storage: overlay }));
  assert.equal(outputOf(outcome), "1");
  assert.deepEqual(overlay.writes(), [
    { key: "a", value: "1" },
    { key: "b", value: "2" },
  ]);
  assert.deepEqual(base.entries(), []);
  overlay.commit();
  assert.deepEqual(base.entries(), [["a", "1"], ["b", "2"]]);
});

test("a query cannot write, emit or remove, even if it catches the refusal", () => {
  const storage = new MemoryContractStorage();
  storage.set("x", "1");
  const code = bundle(`{
    query(r) {
      const attempts = [];
      for (const f of [() => __phala_host.storageSet("x", "2"), () => __phala_host.storageRemove("x"), () => __phala_host.emit("t", "{}")]) {
        try { f(); attempts.push("done"); } catch (e) { attempts.push(e.message); }
      }
      if (r.rethrow) __phala_host.storageSet("x", "3");
      return attempts;
    },
  }`);
  const caught = vm.call(request(code, "query", {}, { storage }));
  assert.deepEqual(outputOf(caught), ["storage is read-only in a query", "storage is read-only in a query", "events cannot be emitted in a query"]);
  assert.ok(caught.ok && caught.storageWrites === 0 && caught.events.length === 0);
  const thrown = vm.call(request(code, "query", { rethrow: true }, { storage }));
  assert.deepEqual(thrown.ok ? undefined : thrown.error, { kind: "contract", message: "storage is read-only in a query" });
  assert.deepEqual(storage.entries(), [["x", "1"]]);
});

test("invalid code: syntax errors, no __contract.default, throwing while loading, bad UTF-8", () => {
  const cases: Array<[{ code: Uint8Array; codeHash: Uint8Array }, RegExp]> = [
    [raw("var __contract = {"), /^the bundle does not compile: /],
    [raw("var x = 1;"), /^the bundle does not define __contract\.default$/],
    [raw('var __contract = { default: 5 };'), /^the bundle does not define __contract\.default$/],
    [raw('throw new TypeError("broken bundle")'), /^the bundle threw while loading: TypeError: broken bundle$/],
    [{ code: new Uint8Array([0x76, 0x61, 0x72, 0xff]), codeHash: new Uint8Array(32).fill(9) }, /^the bundle is not valid UTF-8$/],
  ];
  for (const [code, message] of cases) {
    for (let i = 0; i < 2; i++) {
      // Twice: the second answer comes from the code cache and must be the same.
      const outcome = vm.call(request(code, "handle", {}));
      assert.equal(kindOf(outcome), "invalid-code");
      assert.ok(!outcome.ok);
      assert.match(outcome.error.message, message);
    }
  }
});

test("input that is not JSON is invalid-input; missing entry points", () => {
  const echo = bundle(`{ handle(c) { return c; } }`);
  const bad = vm.call(request(echo, "handle", null, { rawInput: "{not json" }));
  assert.equal(kindOf(bad), "invalid-input");
  assert.deepEqual(outputOf(vm.call(request(echo, "handle", null, { rawInput: ' {"a":[1,2]} ' }))), { a: [1, 2] });
  // No init: instantiation still succeeds. No query: a contract error.
  assert.equal(outputOf(vm.call(request(echo, "init", { any: 1 }, { origin: null }))), null);
  const noQuery = vm.call(request(echo, "query", {}));
  assert.deepEqual(noQuery.ok ? undefined : noQuery.error, { kind: "contract", message: "the contract has no query function" });
  // undefined and functions have no JSON form: the result is null.
  assert.equal(outputOf(vm.call(request(bundle(`{ handle() { return undefined; } }`), "handle", {}))), null);
});

test("contract errors carry the message: Error and ContractError plain, others with their name, cut at 1 KiB", () => {
  const thrower = bundle(`{ handle(c) {
    class ContractError extends Error { constructor(m) { super(m); this.name = "ContractError"; } }
    if (c.kind === "contract") throw new ContractError("insufficient balance");
    if (c.kind === "type") null.x;
    if (c.kind === "string") throw "plain string";
    if (c.kind === "number") throw 42;
    if (c.kind === "long") throw new Error("é".repeat(2000));
    if (c.kind === "async") return Promise.reject(new Error("rejected later"));
  } }`);
  const message = (kind: string): string => {
    const o = vm.call(request(thrower, "handle", { kind }));
    assert.equal(kindOf(o), "contract", kind);
    return o.ok ? "" : o.error.message;
  };
  assert.equal(message("contract"), "insufficient balance");
  assert.match(message("type"), /^TypeError: /);
  assert.equal(message("string"), "plain string");
  assert.equal(message("number"), "uncaught exception: 42");
  assert.equal(message("async"), "rejected later");
  const long = message("long");
  assert.ok(utf8(long).length <= ERROR_MESSAGE_BYTES_MAX && long.length === ERROR_MESSAGE_BYTES_MAX / 2, `cut at a character boundary: ${utf8(long).length}`);
});

test("host calls check keys, values and limits; refusals are catchable contract errors", () => {
  const code = bundle(`{ handle(c) {
    const h = __phala_host;
    if (c.t === "longKey") h.storageSet("k".repeat(c.n), "1");
    if (c.t === "bigValue") h.storageSet("k", "v".repeat(c.n));
    if (c.t === "keysLimit") return h.storageKeys("", c.n);
    if (c.t === "notString") h.storageSet("k", 5);
    if (c.t === "frozen") {
      let threw = false;
      try { h.storageGet = () => "forged"; } catch (e) { threw = true; }
      return [Object.isFrozen(h), threw, h.storageGet("none") === undefined, Object.keys(globalThis).includes("__phala_host")];
    }
    return "ok";
  } }`);
  const run = (input: object) => vm.call(request(code, "handle", input));
  assert.equal(kindOf(run({ t: "longKey", n: STORAGE_KEY_BYTES_MAX })), "ok");
  assert.match(errorOf(run({ t: "longKey", n: STORAGE_KEY_BYTES_MAX + 1 })), /^RangeError: key is 257 bytes, more than 256$/);
  assert.equal(kindOf(run({ t: "bigValue", n: STORAGE_VALUE_BYTES_MAX })), "ok");
  assert.match(errorOf(run({ t: "bigValue", n: STORAGE_VALUE_BYTES_MAX + 1 })), /^RangeError: value is/);
  assert.match(errorOf(run({ t: "keysLimit", n: 1001 })), /^RangeError: limit must be an integer from 0 to 1000$/);
  assert.match(errorOf(run({ t: "notString" })), /^TypeError: value must be a string$/);
  assert.deepEqual(outputOf(run({ t: "frozen" })), [true, true, true, false]);
});

function errorOf(outcome: ReturnType<ContractVm["call"]>): string {
  assert.ok(!outcome.ok, "expected a failure");
  return outcome.error.message;
}

test("every call starts from the same clean state, whatever the previous call left behind", () => {
  const messy = bundle(`{ handle(cmd) {
    globalThis.leaked = cmd.secret;
    Object.prototype.polluted = cmd.secret;
    Array.prototype.push = () => "hijacked";
    JSON.stringify = () => "hijacked";
    Math.leak = cmd.secret;
    if (cmd.fail) throw new Error("after messing up");
    if (cmd.spin) for (;;) {}
    return "messed";
  } }`);
  const probe = bundle(`{ query() {
    const seen = [typeof globalThis.leaked, typeof ({}).polluted, typeof Math.leak];
    const a = [];
    a.push(1);
    return { seen, push: a.length, json: JSON.stringify({ x: 1 }), globals: Object.keys(globalThis) };
  } }`);
  const clean = { seen: ["undefined", "undefined", "undefined"], push: 1, json: '{"x":1}', globals: ["__contract"] };
  assert.deepEqual(outputOf(vm.call(request(probe, "query", {}))), clean);
  for (const fail of [false, true]) {
    const out = vm.call(request(messy, "handle", { secret: "s3cret", fail }));
    assert.equal(kindOf(out), fail ? "contract" : "ok");
    assert.deepEqual(outputOf(vm.call(request(probe, "query", {}))), clean);
  }
  // Out of memory and out of gas in the middle of the mess: still nothing carries over.
  const hog = bundle(`{ handle() { globalThis.leaked = 1; const a = []; for (;;) a.push("x".repeat(1000)); } }`);
  assert.equal(kindOf(vm.call(request(hog, "handle", {}))), "memory");
  assert.equal(kindOf(vm.call(request(messy, "handle", { secret: "s3cret", spin: true }, { gasLimit: 5_000_000n }))), "gas");
  assert.deepEqual(outputOf(vm.call(request(probe, "query", {}))), clean);
});

test("a bundle's top level sees the call's own seed and environment, and keeps nothing between calls", () => {
  const drawsAtLoad = raw(`"use strict"; var r = Math.random(); var __contract = { default: { handle() { return r; } } };`);
  const readsEnvAtLoad = raw(`"use strict"; var n = JSON.parse(__phala_host.env()).blockNumber; var __contract = { default: { handle() { return n; } } };`);
  const counts = raw(`"use strict"; var count = 0; var table = []; for (var i = 0; i < 20000; i++) table.push(i * i); var __contract = { default: { handle() { count++; return [count, table.length]; } } };`);
  for (let round = 0; round < 2; round++) {
    const one = outputOf(vm.call(request(drawsAtLoad, "handle", {}, { seed: seed(1) })));
    assert.notDeepEqual(outputOf(vm.call(request(drawsAtLoad, "handle", {}, { seed: seed(2) }))), one);
    assert.deepEqual(outputOf(vm.call(request(drawsAtLoad, "handle", {}, { seed: seed(1) }))), one);
    assert.equal(outputOf(vm.call(request(readsEnvAtLoad, "handle", {}, { blockNumber: 7 + round }))), 7 + round);
    assert.deepEqual(outputOf(vm.call(request(counts, "handle", {}))), [1, 20000]);
  }
});

test("loading is paid for in every call, and a top level that never ends runs out of gas", () => {
  const light = bundle(`{ handle() { return 1; } }`);
  const heavy = raw(`"use strict"; var t = []; for (var i = 0; i < 200000; i++) t.push(i); var __contract = { default: { handle() { return t.length; } } };`);
  const used = (code: typeof light, gasLimit = GAS_LIMIT): { kind: string; gas: bigint } => {
    const out = vm.call(request(code, "handle", {}, { gasLimit }));
    return { kind: kindOf(out), gas: out.gasUsed };
  };
  const first = used(heavy);
  assert.deepEqual(used(heavy), first, "the same gas once the load is cached");
  assert.ok(first.gas > used(light).gas + 1_000_000n, `loading 200,000 pushes costs gas: ${first.gas}`);
  assert.deepEqual(used(heavy, first.gas - 1n), { kind: "gas", gas: first.gas - 1n });
  const forever = raw(`"use strict"; for (;;) {} var __contract = { default: { handle() { return 1; } } };`);
  assert.deepEqual(used(forever, 50_000_000n), { kind: "gas", gas: 50_000_000n });
});
