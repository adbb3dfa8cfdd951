/**
 * Start-up check that, in this process, QuickJS's stack limit trips before V8's native
 * stack runs out, for the deepest-reaching recursions known (limits.ts has the ratios),
 * with a third of V8's stack left over for the host frames below a call.
 *
 * Why it matters: QuickJS measures only the WebAssembly shadow stack. If V8's stack ran
 * out first, where a call fails would depend on the machine (V8 version, CPU, how deep the
 * host was) and workers could disagree. The VM survives it (contract-vm.ts), but a worker
 * that cannot keep the margin should not start.
 */
import { ContractVmError } from "./errors.ts";
import type { QuickjsEngine } from "./engine.ts";
import { LIMIT_FLAG_STACK } from "./wasm-patch.ts";

/** Fraction of V8's stack the check keeps for the host's own frames under a contract call. */
const HOST_RESERVE_DENOMINATOR = 3;
/** Memory for the check's runtimes: enough to build structures that nest past the limits. */
const CHECK_MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;

interface Probe {
  name: string;
  source: string;
  /** Compile only, under the parse stack limit. */
  parse?: boolean;
}

const PROBES: readonly Probe[] = [
  { name: "plain recursion", source: "(function f() { f(); })()" },
  { name: "recursion through callbacks", source: "(function f() { [1].map(f); })()" },
  { name: "recursion through getters", source: "var o = { get x() { return o.x; } }; o.x" },
  { name: "recursion through toString", source: 'var o = { toString() { return "" + o; } }; "" + o' },
  { name: "nested JSON.parse", source: 'JSON.parse("[".repeat(1000000))' },
  { name: "nested JSON.stringify", source: "var o = {}, c = o; for (var i = 0; i < 60000; i++) { c.a = {}; c = c.a; } JSON.stringify(o)" },
  { name: "nested array join", source: "var o = [], c = o; for (var i = 0; i < 60000; i++) { var n = []; c.push(n); c = n; } String(o)" },
  { name: "nested parse", source: '"(".repeat(200000)', parse: true },
];

export function checkStackHeadroom(engine: QuickjsEngine, limits: { stackLimitBytes: number; parseStackLimitBytes: number }): void {
  // The same function measures V8's stack (in frames) and then fills a third of it.
  let depth = 0;
  const burn = (n: number, then: () => void): void => {
    depth++;
    if (n === 0) then();
    else burn(n - 1, then);
  };
  let total = 0;
  for (let i = 0; i < 2; i++) {
    depth = 0;
    try {
      burn(Number.MAX_SAFE_INTEGER, () => {});
    } catch {
      // RangeError: the end of V8's stack, which is what is being measured.
    }
    total = Math.max(total, depth);
  }
  const reserve = Math.floor(total / HOST_RESERVE_DENOMINATOR);
  for (const probe of PROBES) {
    let outcome: string | undefined;
    burn(reserve, () => {
      outcome = runProbe(engine, probe, probe.parse === true ? limits.parseStackLimitBytes : limits.stackLimitBytes);
    });
    if (outcome !== undefined) {
      throw new ContractVmError("STACK_HEADROOM", `V8's stack runs out before the contract stack limit (${limits.stackLimitBytes} bytes) in "${probe.name}": ${outcome}. Start node with a larger --stack-size or lower the limit on every worker`, {
        details: { probe: probe.name, stackLimitBytes: limits.stackLimitBytes },
      });
    }
  }
}

/** Undefined if QuickJS reported the stack overflow; otherwise what happened instead. */
function runProbe(engine: QuickjsEngine, probe: Probe, stackLimitBytes: number): string | undefined {
  const baseSp = engine.stackPointer();
  const rt = engine.quickjs.newRuntime();
  rt.setMemoryLimit(CHECK_MEMORY_LIMIT_BYTES);
  rt.setMaxStackSize(stackLimitBytes);
  const ctx = rt.newContext();
  engine.clearLimitFlags();
  try {
    let source = probe.source;
    if (probe.parse === true) {
      const built = ctx.evalCode(source);
      if (built.error !== undefined) {
        built.error.dispose();
        return "the probe did not build its input";
      }
      source = ctx.getString(built.value);
      built.value.dispose();
    }
    const result = ctx.evalCode(source, "probe.js", probe.parse === true ? { type: "global", compileOnly: true } : { type: "global" });
    const overflowed = (engine.limitFlags() & LIMIT_FLAG_STACK) !== 0;
    (result.error ?? result.value).dispose();
    ctx.dispose();
    rt.dispose();
    return overflowed ? undefined : "QuickJS finished without reaching its stack limit";
  } catch (e) {
    engine.restoreStackPointer(baseSp);
    return e instanceof Error ? e.message : String(e);
  }
}
