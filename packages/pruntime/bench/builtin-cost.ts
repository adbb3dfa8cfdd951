/**
 * Gas and wall time of one call of each metered builtin over a big input:
 *   node --import tsx packages/pruntime/bench/builtin-cost.ts [iterations]
 * Each workload builds its input once, then calls the builtin `iterations` times; the
 * figures are the difference from a run with zero iterations, per iteration. `nsPerGas`
 * is how much wall time one unit of gas buys: ordinary metered code runs at ~0.5 ns per
 * gas (2 G gas/s), so a builtin far above that is a metering gap (COMMAND_GAS_MAX assumes
 * about 20 ns per gas at most, its slowest metered work).
 */
import { performance } from "node:perf_hooks";
import { blake2b256, utf8 } from "@phala-ts/primitives";
import { ContractVm, MemoryContractStorage } from "../src/contract-vm/index.ts";

const MiB = 1 << 20;
/** [setup, per-iteration expression]; `s` is a 2 MiB string unless the setup says otherwise. */
export const BUILTIN_WORKLOADS: Record<string, [string, string]> = {
  indexOf: [`const s="ab".repeat(${MiB});`, `s.indexOf("c")`],
  indexOfLongNeedle: [`const s="a".repeat(${2 * MiB});const x="a".repeat(1000)+"b";`, `s.indexOf(x)`],
  lastIndexOf: [`const s="ab".repeat(${MiB});`, `s.lastIndexOf("c")`],
  includes: [`const s="ab".repeat(${MiB});`, `s.includes("c")`],
  split: [`const s="ab".repeat(${MiB / 4});`, `s.split("b")`],
  replaceAll: [`const s="ab".repeat(${MiB / 4});`, `s.replaceAll("b","c")`],
  toUpperCase: [`const s="ab".repeat(${MiB / 2});`, `s.toUpperCase()`],
  normalize: [`const s="ab".repeat(${MiB / 2});`, `s.normalize("NFD")`],
  repeat: [`const s="ab";`, `s.repeat(${MiB / 2})`],
  padEnd: [`const s="ab";`, `s.padEnd(${MiB})`],
  trim: [`const s=" ".repeat(${MiB})+"x"+" ".repeat(${MiB});`, `s.trim()`],
  concat: [`const s="ab".repeat(${MiB / 2});`, `s.concat(s)`],
  regexTest: [`const s="ab".repeat(${MiB});`, `/c/.test(s)`],
  regexReplace: [`const s="ab".repeat(${MiB / 16});`, `s.replace(/b/g,"c")`],
  localeCompare: [`const s="ab".repeat(${MiB / 2});const t=s+"c";`, `s.localeCompare(t)`],
  arrayJoin: [`const a=new Array(${MiB / 4}).fill("x");`, `a.join(",")`],
  arrayIndexOf: [`const a=new Array(${MiB / 4}).fill(1);`, `a.indexOf(2)`],
  arraySort: [`const a=[];for(let i=0;i<${MiB / 16};i++)a.push((i*7919)%65536);`, `a.slice().sort()`],
  arrayReverse: [`const a=new Array(${MiB / 4}).fill(1);`, `a.reverse()`],
  arrayFill: [`const a=new Array(${MiB / 4}).fill(1);`, `a.fill(2)`],
  arraySlice: [`const a=new Array(${MiB / 4}).fill(1);`, `a.slice()`],
  jsonStringify: [`const a=new Array(${MiB / 16}).fill("xxxxxxxx");`, `JSON.stringify(a)`],
  jsonParse: [`const t=JSON.stringify(new Array(${MiB / 16}).fill("xxxxxxxx"));`, `JSON.parse(t)`],
  typedFill: [`const a=new Uint8Array(${4 * MiB});`, `a.fill(1)`],
  typedIndexOf: [`const a=new Uint8Array(${4 * MiB});`, `a.indexOf(1)`],
  typedSort: [`const a=new Uint16Array(${MiB / 4});for(let i=0;i<a.length;i++)a[i]=(i*7919)&65535;`, `a.slice().sort()`],
  fromCharCodeApply: [`const a=new Array(65000).fill(97);`, `String.fromCharCode.apply(null,a)`],
  stringPlus: [`const s="ab".repeat(${MiB});let t;`, `t=s+"x"`],
  template: [`const s="ab".repeat(${MiB});let t;`, "t=`${s}x`"],
  spreadMax: [`const a=new Array(65000).fill(1);`, `Math.max(...a)`],
  arrayFrom: [`const a=new Array(${MiB / 4}).fill(1);`, `Array.from(a)`],
  newSet: [`const a=[];for(let i=0;i<${MiB / 16};i++)a.push(i);`, `new Set(a)`],
  fromEntries: [`const a=[];for(let i=0;i<${MiB / 16};i++)a.push(["k"+i,i]);`, `Object.fromEntries(a)`],
  objectAssign: [`const o={};for(let i=0;i<${MiB / 16};i++)o["k"+i]=i;`, `Object.assign({},o)`],
  newArrayBuffer: [`let b;`, `b=new ArrayBuffer(${4 * MiB})`],
  newUint8Array: [`let b;`, `b=new Uint8Array(${4 * MiB})`],
  newArray: [`let b;`, `b=new Array(${MiB})`],
  objectSpread: [`const o={};for(let i=0;i<${MiB / 16};i++)o["k"+i]=i;let x;`, `x={...o}`],
  arraySpread: [`const a=new Array(${MiB / 4}).fill(1);let x;`, `x=[...a]`],
  smallJsonParse: [`const t='{"a":1}';`, `JSON.parse(t)`],
  smallIndexOf: [`const s="hello world";`, `s.indexOf("o")`],
  objectKeys: [`const o={};for(let i=0;i<${MiB / 16};i++)o["k"+i]=i;`, `Object.keys(o)`],
};

const iterations = Number(process.argv[2] ?? "20");
const vm = await ContractVm.create();
const run = (setup: string, expr: string, n: number) => {
  const code = utf8(`var __contract={default:{handle(c){${setup}for(let i=0;i<c.n;i++){${expr};}}}};`);
  const t0 = performance.now();
  const o = vm.call({
    code, codeHash: blake2b256(code), mode: "handle", input: JSON.stringify({ n }), origin: null,
    env: { blockNumber: 1, timestamp: 0, contractId: "0x" + "cc".repeat(32), caller: null },
    seed: new Uint8Array(32), gasLimit: 10n ** 13n, storage: new MemoryContractStorage(),
  });
  if (!o.ok) throw new Error(`${expr}: ${o.error.kind} ${o.error.message}`);
  return { ms: performance.now() - t0, gas: o.gasUsed };
};
const only = process.argv[3];
const out: Record<string, unknown> = {};
for (const [name, [setup, expr]] of Object.entries(BUILTIN_WORKLOADS)) {
  if (only !== undefined && !name.includes(only)) continue;
  const base = run(setup, expr, 0);
  const loaded = run(setup, expr, iterations);
  const ms = (loaded.ms - base.ms) / iterations;
  const gas = Number(loaded.gas - base.gas) / iterations;
  out[name] = { msPerCall: Number(ms.toFixed(3)), gasPerCall: gas, nsPerGas: Number(((ms * 1e6) / gas).toFixed(2)) };
  process.stdout.write(`${name} ${JSON.stringify(out[name])}\n`);
}
