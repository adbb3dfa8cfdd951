/**
 * Builtins whose work grows with their input are charged for that work (prelude.ts
 * BUILTIN_METER_SOURCE), so a command at the chain's cap cannot run a loop of them for hours.
 * The assertions are on gas, never on wall time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMAND_GAS_MAX } from "@phala-ts/runtime/phala";
import { ContractVm } from "../../src/contract-vm/index.ts";
import { bundle, kindOf, outputOf, request } from "./helpers.ts";

const vm = await ContractVm.create();

/**
 * Gas one call over a ~256 Ki-unit input must at least be charged. Unmetered, such a call
 * is charged ~150 gas (3 interpreter ticks) for 0.5-10 ms of work; 1e6 gas is what ordinary
 * metered code burns in ~0.5 ms.
 */
const MIN_GAS_PER_BIG_CALL = 1_000_000n;
/** Loop iterations asked of each workload at COMMAND_GAS_MAX: unmetered, they all finish ("ok"). */
const LOOP_ITERATIONS = 2000;

const K = 1 << 18;
/** [setup, one call]: one builtin over an input of ~K units, for every class the prelude meters. */
const WORKLOADS: Record<string, [string, string]> = {
  "String indexOf": [`const s = "ab".repeat(${K / 2});`, `s.indexOf("c")`],
  "String indexOf, long needle": [`const s = "a".repeat(${K / 4}); const x = "a".repeat(64) + "b";`, `s.indexOf(x)`],
  "String lastIndexOf": [`const s = "ab".repeat(${K / 2});`, `s.lastIndexOf("c")`],
  "String includes": [`const s = "ab".repeat(${K / 2});`, `s.includes("c")`],
  "String split": [`const s = "ab".repeat(${K / 2});`, `s.split("b")`],
  "String replaceAll": [`const s = "ab".repeat(${K / 2});`, `s.replaceAll("b", "c")`],
  "String repeat": [`const s = "ab";`, `s.repeat(${K / 2})`],
  "String padEnd": [`const s = "";`, `s.padEnd(${K})`],
  "String normalize": [`const s = "ab".repeat(${K / 2});`, `s.normalize("NFD")`],
  "String localeCompare": [`const s = "ab".repeat(${K / 2}); const t = s + "c";`, `s.localeCompare(t)`],
  "String toUpperCase": [`const s = "ab".repeat(${K / 2});`, `s.toUpperCase()`],
  "String trim": [`const s = " ".repeat(${K}) + "x";`, `s.trim()`],
  "String slice": [`const s = "ab".repeat(${K / 2});`, `s.slice(1)`],
  "String startsWith": [`const s = "ab".repeat(${K / 2}); const t = s.slice(0, -1) + "c";`, `s.startsWith(t)`],
  "String concat": [`const s = "ab".repeat(${K / 2});`, `s.concat(s)`],
  "String.fromCharCode.apply": [`const a = new Array(65000).fill(97);`, `String.fromCharCode.apply(null, a)`],
  "Array join": [`const a = new Array(${K}).fill("x");`, `a.join(",")`],
  "Array indexOf": [`const a = new Array(${K}).fill(1);`, `a.indexOf(2)`],
  "Array includes": [`const a = new Array(${K}).fill(1);`, `a.includes(2)`],
  "Array indexOf, sparse length": [`const a = []; a.length = ${K};`, `a.indexOf(2)`],
  "Array indexOf, array-like": [`const o = { length: ${K} };`, `Array.prototype.indexOf.call(o, 2)`],
  "Array forEach, sparse": [`const a = []; a.length = ${K}; const f = () => {};`, `a.forEach(f)`],
  "Array concat, spreadable array-like": [`const o = { length: ${K}, [Symbol.isConcatSpreadable]: true };`, `[].concat(o)`],
  "Array fill": [`const a = new Array(${K}).fill(1);`, `a.fill(2)`],
  "Array reverse": [`const a = new Array(${K}).fill(1);`, `a.reverse()`],
  "Array slice": [`const a = new Array(${K}).fill(1);`, `a.slice()`],
  "Array concat": [`const a = new Array(${K}).fill(1);`, `a.concat(a)`],
  "Array sort": [`const a = []; for (let i = 0; i < ${K / 16}; i++) a.push((i * 7919) % 65536);`, `a.sort()`],
  "TypedArray fill": [`const a = new Uint8Array(${K});`, `a.fill(1)`],
  "TypedArray indexOf": [`const a = new Uint8Array(${K});`, `a.indexOf(1)`],
  "TypedArray set": [`const a = new Uint8Array(${K}); const b = new Uint8Array(${K});`, `a.set(b)`],
  "TypedArray sort": [`const a = new Uint16Array(${K / 4}); for (let i = 0; i < a.length; i++) a[i] = (i * 7919) & 65535;`, `a.sort()`],
  "new Uint8Array": [`let b;`, `b = new Uint8Array(${4 * K})`],
  "new ArrayBuffer": [`let b;`, `b = new ArrayBuffer(${4 * K})`],
  "new Float64Array from an array": [`const a = new Array(${K / 2}).fill(1); let b;`, `b = new Float64Array(a)`],
  "ArrayBuffer slice": [`const a = new ArrayBuffer(${4 * K}); let b;`, `b = a.slice(0)`],
  "JSON.parse": [`const t = JSON.stringify(new Array(${K / 8}).fill("xxxxxx"));`, `JSON.parse(t)`],
  "JSON.stringify": [`const a = new Array(${K / 8}).fill("xxxxxx");`, `JSON.stringify(a)`],
  "Object.keys": [`const o = {}; for (let i = 0; i < ${K / 16}; i++) o["k" + i] = i;`, `Object.keys(o)`],
  "Array.from": [`const a = new Array(${K}).fill(1);`, `Array.from(a)`],
  "Object.fromEntries": [`const a = []; for (let i = 0; i < ${K / 16}; i++) a.push(["k" + i, i]);`, `Object.fromEntries(a)`],
  "Object.assign": [`const o = {}; for (let i = 0; i < ${K / 16}; i++) o["k" + i] = i;`, `Object.assign({}, o)`],
  "Function.prototype.apply": [`const a = new Array(65000).fill(1);`, `Math.max.apply(null, a)`],
  "Reflect.apply": [`const a = new Array(65000).fill(1);`, `Reflect.apply(Math.max, null, a)`],
};

const loopContract = (setup: string, call: string) => bundle(`{ handle(c) { ${setup} for (let i = 0; i < c.n; i++) { ${call}; } return c.n; } }`);

/** Gas of `n` calls beyond the set-up, run with an ample limit. */
function gasOf(code: ReturnType<typeof bundle>, n: number, target: ContractVm = vm): bigint {
  const outcome = target.call(request(code, "handle", { n }, { gasLimit: 10n ** 12n }));
  assert.equal(kindOf(outcome), "ok", `n=${n}`);
  return outcome.gasUsed;
}

for (const [name, [setup, call]] of Object.entries(WORKLOADS)) {
  test(`${name} over a big input is charged for its work, and a loop of it at CommandGasMax runs out of gas`, () => {
    const code = loopContract(setup, call);
    const perCall = gasOf(code, 1) - gasOf(code, 0);
    assert.ok(perCall >= MIN_GAS_PER_BIG_CALL, `${call} was charged ${perCall} gas`);
    const capped = vm.call(request(code, "handle", { n: LOOP_ITERATIONS }, { gasLimit: COMMAND_GAS_MAX }));
    assert.equal(kindOf(capped), "gas");
    assert.equal(capped.gasUsed, COMMAND_GAS_MAX);
  });
}

test("contract code cannot reach an unwrapped builtin: every way to it is still charged", () => {
  const TRICKS: Record<string, string> = {
    direct: `String.prototype.indexOf`,
    viaPrimitive: `"".indexOf`,
    viaBoxed: `new String("").indexOf`,
    descriptor: `Object.getOwnPropertyDescriptor(String.prototype, "indexOf").value`,
    reflectDescriptor: `Reflect.getOwnPropertyDescriptor(String.prototype, "indexOf").value`,
    reflectGet: `Reflect.get(String.prototype, "indexOf")`,
    allDescriptors: `Object.getOwnPropertyDescriptors(String.prototype).indexOf.value`,
    bound: `String.prototype.indexOf.bind(big)`,
    callBound: `Function.prototype.call.bind(String.prototype.indexOf)`,
  };
  const code = bundle(`{ handle(c) {
    const big = "ab".repeat(${K / 2});
    const f = ({ ${Object.entries(TRICKS).map(([k, v]) => `${k}: () => ${v}`).join(", ")} })[c.trick]();
    for (let i = 0; i < c.n; i++) c.trick === "callBound" ? f(big, "c") : c.trick === "bound" ? f("c") : f.call(big, "c");
    return typeof f;
  } }`);
  for (const trick of Object.keys(TRICKS)) {
    const run = (n: number) => vm.call(request(code, "handle", { n, trick }, { gasLimit: 10n ** 12n }));
    const base = run(0);
    const one = run(1);
    assert.equal(outputOf(one), "function", trick);
    assert.ok(one.gasUsed - base.gasUsed >= MIN_GAS_PER_BIG_CALL, `${trick}: charged ${one.gasUsed - base.gasUsed} gas`);
  }
  // Deleting a wrapper does not bring the original back, nor does anything up the prototype chain have one.
  const probe = bundle(`{ handle() {
    const out = {};
    out.protoChain = typeof Object.getPrototypeOf(String.prototype).indexOf;
    delete String.prototype.indexOf;
    out.afterDelete = typeof String.prototype.indexOf + "/" + typeof "x".indexOf;
    const w = Array.prototype.join;
    out.ownKeys = Reflect.ownKeys(w).sort();
    out.hasPrototype = "prototype" in w;
    let constructs = "no";
    try { new w(); constructs = "yes"; } catch (e) { constructs = e.name; }
    out.constructs = constructs;
    out.source = Function.prototype.toString.call(w);
    out.unwrappedSource = Function.prototype.toString.call(String.prototype.at);
    out.toStringSource = Function.prototype.toString.call(Function.prototype.toString);
    out.userSource = (function f(a) { return a; }).toString();
    out.ctorSource = Function.prototype.toString.call(Uint8Array);
    out.ctorViaInstance = new Uint8Array(1).constructor === Uint8Array && Object.getPrototypeOf(new ArrayBuffer(1)).constructor === ArrayBuffer;
    return out;
  } }`);
  assert.deepEqual(outputOf(vm.call(request(probe, "handle", {}))), {
    protoChain: "undefined",
    afterDelete: "undefined/undefined",
    ownKeys: ["length", "name"],
    hasPrototype: false,
    constructs: "TypeError",
    source: "function join() {\n    [native code]\n}",
    unwrappedSource: "function at() {\n    [native code]\n}",
    toStringSource: "function toString() {\n    [native code]\n}",
    userSource: "function f(a) { return a; }",
    ctorSource: "function Uint8Array() {\n    [native code]\n}",
    ctorViaInstance: true,
  });
});

test("an array-like cannot show the builtin a longer length than it was charged for", () => {
  // Each getter answers 1 to the first read and 2 (or a huge length) to later ones.
  const code = bundle(`{ handle() {
    const liar = () => { let reads = 0; return { 0: "a", 1: "b", get length() { return reads++ === 0 ? 1 : 2; } }; };
    const spreadLiar = () => { const o = liar(); o[Symbol.isConcatSpreadable] = true; return o; };
    const filled = liar(); Array.prototype.fill.call(filled, "z");
    const self = liar();
    return {
      join: Array.prototype.join.call(liar()),
      map: Array.prototype.map.call(liar(), (v) => v + "!"),
      concat: [].concat(spreadLiar()),
      concatThis: Array.prototype.concat.call(spreadLiar(), ["c"]),
      fill: [filled[0], filled[1]],
      fillReturnsThis: Array.prototype.fill.call(self, "y") === self,
      notSpread: (() => { const o = { k: 1 }; return Array.prototype.concat.call(o, [2])[0] === o; })(),
    };
  } }`);
  assert.deepEqual(outputOf(vm.call(request(code, "handle", {}))), {
    join: "a",
    map: ["a!"],
    concat: ["a"],
    concatThis: ["a", "c"],
    fill: ["z", "b"],
    fillReturnsThis: true,
    notSpread: true,
  });
});

test("wrapped builtins behave as before on ordinary inputs", () => {
  // Each expression is evaluated by QuickJS in the contract and by V8 here: the results must agree.
  const EXPRESSIONS = [
    `"hello world".indexOf("o", 5)`, `"hello".indexOf({ toString() { return "l"; } })`, `"hello".lastIndexOf("l")`, `"abc".includes("bc", 1)`,
    `"a,b,,c".split(",", 3)`, `"a1b22c".split(/\\d+/)`, `"aXbXc".replace("X", (m, i) => "<" + i + ">")`, `"aXbXc".replaceAll("X", "$&$&")`,
    `"ab".repeat(3)`, `"7".padStart(3, "0")`, `"x".padEnd(4, "ab")`, `"\\u0041\\u030a".normalize("NFC").length`, `"a".localeCompare("b")`,
    `"MiXeD".toUpperCase() + "MiXeD".toLowerCase()`, `"  pad  ".trim() + "|" + "  pad  ".trimStart() + "|" + "  pad  ".trimEnd()`, `"a".concat(1, null, [2, 3])`,
    `String.fromCharCode(104, 105)`, `String.fromCodePoint(0x1f600).length`, `String.prototype.indexOf.call(12345, 3)`,
    `[3, 1, 2].join("-")`, `[10, 9, 1].sort()`, `[3, 1, 2].sort((a, b) => b - a)`, `[1, 2, 3, 2].indexOf(2, 2)`, `[1, 2, NaN].includes(NaN)`, `[1, 2, 3].lastIndexOf(3)`,
    `new Array(3).fill(7)`, `[1, 2, 3, 4, 5].copyWithin(0, 3)`, `[1, 2, 3].reverse()`, `[1, 2, 3, 4].slice(1, -1)`, `(() => { const a = [1, 2, 3, 4]; const r = a.splice(1, 2, "x"); return [a, r]; })()`,
    `[1].concat([2, [3]], 4)`, `[1, [2, [3, [4]]]].flat(2)`, `Array.prototype.join.call({ length: 2, 0: "a", 1: "b" })`, `String([1, [2, 3]])`,
    `Array.from(new Uint8Array([3, 1, 2]).sort())`, `Array.from(new Uint8Array(4).fill(9, 1))`, `new Uint8Array([1, 2, 3]).indexOf(3)`, `new Int8Array([1, 2]).join()`,
    `(() => { const a = new Uint8Array(4); a.set([1, 2], 1); return Array.from(a); })()`, `Array.from(new Uint8Array([1, 2, 3]).slice(1))`, `new Uint8Array([1, 2]).includes(2)`,
    `JSON.parse('{"a":[1,2]}', (k, v) => (typeof v === "number" ? v * 10 : v))`, `JSON.stringify({ a: [1, "x"] }, null, 2)`, `JSON.stringify(undefined) === undefined`,
    `Object.keys({ b: 1, a: 2 })`, `Object.values({ b: 1, a: 2 })`, `Object.entries({ a: 1 })`, `Object.getOwnPropertyNames([1])`, `Reflect.ownKeys({ x: 1 })`,
    `"abcdef".slice(1, -1) + "abcdef".substring(4, 1) + "abcdef".substr(-3, 2)`, `["abc".startsWith("ab"), "abc".endsWith("bc", 3), "abc".startsWith("c", 2)]`,
    `Array.prototype.map.call("abc", (c, i) => c + i)`, `[1, , 3].map((x) => x * 2).length`, `[1, 2, 3].filter((x) => x > 1)`, `[1, 2, 3].reduce((a, b) => a + b)`,
    `[[1], [2]].flatMap((x) => x)`, `[1, 2].some((x) => x > 1) && [1, 2].every((x) => x > 0)`, `Array.prototype.slice.call({ length: 3, 1: "x" })`,
    `(() => { const out = []; [5, 6].forEach((v, i, a) => out.push(v, i, a.length)); return out; })()`,
    `Array.from("abc")`, `Array.from({ length: 2 }, (_, i) => i * 2)`, `Array.from(new Set([1, 1, 2]))`, `Object.fromEntries([["a", 1], ["b", 2]])`,
    `Object.assign({ a: 1 }, { b: 2 }, null, "xy")`, `(() => { const t = {}; return Object.assign(t) === t; })()`,
    `[new Uint8Array(2).constructor === Uint8Array, Uint8Array.name, Uint8Array.length, Uint8Array.BYTES_PER_ELEMENT, Float64Array.BYTES_PER_ELEMENT]`,
    `Object.getPrototypeOf(Uint8Array) === Object.getPrototypeOf(Int16Array) && Object.getPrototypeOf(new Uint8Array(1)) === Uint8Array.prototype`,
    `(() => { class X extends Uint8Array { two() { return 2; } } const x = new X(3); return [x instanceof X, x instanceof Uint8Array, x.length, x.two(), x.slice(1) instanceof X]; })()`,
    `Array.from(Uint8Array.from([1, 2])).concat(Array.from(Int16Array.of(3)))`, `(() => { try { Uint8Array(2); return "no"; } catch (e) { return e.name; } })()`,
    `[ArrayBuffer.isView(new Uint8Array(1)), new ArrayBuffer(8).slice(2).byteLength, new ArrayBuffer(4).constructor === ArrayBuffer, ArrayBuffer.length]`,
    `Array.from(new Uint8Array(new Uint16Array([257, 2])))`, `new Uint8Array(new ArrayBuffer(8), 2, 3).length`, `Array.from(new Uint8Array([1, 2]).map((x) => x * 3))`,
    `Object.getOwnPropertyDescriptor(globalThis, "Uint8Array").writable + "/" + Object.getOwnPropertyDescriptor(Uint8Array, "prototype").writable`,
    `(() => { try { new Uint8Array(-1); return "no"; } catch (e) { return e.name; } })()`,
    `Math.max.apply(null, [1, 5, 2])`, `Reflect.apply(Math.min, null, [4, 2])`, `Reflect.construct(Array, [3]).length`,
    `[String.prototype.indexOf.length, String.prototype.indexOf.name, Array.prototype.sort.length, JSON.stringify.length, Function.prototype.apply.name]`,
    `Object.getOwnPropertyDescriptor(String.prototype, "split")`.concat(`.writable`),
    `(() => { const d = Object.getOwnPropertyDescriptor(Array.prototype, "join"); return [d.writable, d.enumerable, d.configurable]; })()`,
    `(() => { try { String.prototype.indexOf.call(null, "a"); return "no"; } catch (e) { return e.name; } })()`,
    `(() => { try { "a".includes(/a/); return "no"; } catch (e) { return e.name; } })()`,
    `(() => { try { "a".repeat(-1); return "no"; } catch (e) { return e.name; } })()`,
    `(() => { try { "a".repeat(Infinity); return "no"; } catch (e) { return e.name; } })()`,
    `(() => { try { new Uint8Array(2).fill.call([], 1); return "no"; } catch (e) { return e.name; } })()`,
  ];
  const code = bundle(`{ handle() { return [${EXPRESSIONS.map((e) => `(${e})`).join(", ")}]; } }`);
  const got = outputOf(vm.call(request(code, "handle", {}))) as unknown[];
  const expected = JSON.parse(JSON.stringify(new Function(`return [${EXPRESSIONS.map((e) => `(${e})`).join(", ")}];`)())) as unknown[];
  EXPRESSIONS.forEach((e, i) => assert.deepEqual(got[i], expected[i], e));
});

test("builtin gas is the same on two VMs", async () => {
  const other = await ContractVm.create();
  const code = bundle(`{ handle(c) {
    const s = "ab".repeat(${K / 2}); const a = []; for (let i = 0; i < 1000; i++) a.push((i * 31) % 97);
    let x = 0;
    for (let i = 0; i < c.n; i++) { x += s.indexOf("b", i) + a.slice().sort().length + JSON.stringify(a).length + s.split("a", 10).length; }
    return x;
  } }`);
  const here = vm.call(request(code, "handle", { n: 7 }, { gasLimit: 10n ** 12n }));
  const there = other.call(request(code, "handle", { n: 7 }, { gasLimit: 10n ** 12n }));
  assert.equal(kindOf(here), "ok");
  assert.deepEqual([there.gasUsed, outputOf(there)], [here.gasUsed, outputOf(here)]);
  // And it includes the builtins' work (one indexOf over 256 Ki characters is at least MIN_GAS_PER_BIG_CALL).
  assert.ok(here.gasUsed - gasOf(code, 0) >= 7n * MIN_GAS_PER_BIG_CALL, `charged ${here.gasUsed}`);
});
