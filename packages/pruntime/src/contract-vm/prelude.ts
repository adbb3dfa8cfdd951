/**
 * The JavaScript the VM runs in a new context before any contract (sandbox.ts): it makes
 * the context deterministic, installs `globalThis.__phala_host` (contract ABI) and returns
 * the driver the host calls. The context is snapshotted after it, so it runs once per
 * engine, not per call. It captures the builtins it relies on before contract code can
 * replace them, and leaves nothing on the global object but `__phala_host`.
 *
 * Talks to the host through one raw function, `host(op, a, b)`, which only the prelude's
 * closures can reach. Ops are HostOp below.
 */
import { blake2b256, utf8 } from "@phala-ts/primitives";

export const HostOp = {
  storageGet: 0,
  storageSet: 1,
  storageRemove: 2,
  storageKeys: 3,
  emit: 4,
  env: 5,
  /** (tag: FinishTag, text): the call's result; the first one counts. */
  finish: 6,
} as const;

export const FinishTag = {
  ok: 0,
  invalidInput: 1,
  contract: 2,
  invalidCode: 3,
} as const;

export const PRELUDE_FILENAME = "phala-prelude.js";
export const BUNDLE_FILENAME = "contract.js";

/**
 * Evaluates to a function (host) -> { seed, drive, describe }:
 * - seed(s0, s1, s2, s3) sets the PRNG's state and returns how many numbers were drawn
 *   since the last seed (the host checks that loading a bundle drew none, sandbox.ts);
 * - drive(mode, inputText, originText) runs the contract's entry point and reports through
 *   finish, also when the entry point returns a promise (then through a job);
 * - describe(error) is the message the VM reports for a thrown value.
 */
export const PRELUDE_SOURCE = `(function (host) {
  "use strict";
  var G = globalThis;
  var defineProperty = Object.defineProperty;
  var freeze = Object.freeze;
  var getPrototypeOf = Object.getPrototypeOf;
  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var apply = Reflect.apply;
  var imul = Math.imul;
  var PromiseCtor = Promise;
  var promiseResolve = Promise.resolve;
  var promiseThen = Promise.prototype.then;
  var TypeErrorCtor = TypeError;
  var RangeErrorCtor = RangeError;
  var EvalErrorCtor = EvalError;
  var StringCtor = String;

  // No clock and no observable garbage collection.
  delete G.Date;
  delete G.WeakRef;
  delete G.FinalizationRegistry;

  // No code generation from strings: eval is gone and the Function constructors throw.
  delete G.eval;
  var protos = [Function.prototype, getPrototypeOf(function* () {}), getPrototypeOf(async function () {}), getPrototypeOf(async function* () {})];
  for (var i = 0; i < protos.length; i++) {
    var replacement = function Function() {
      throw new EvalErrorCtor("code generation from strings is disabled in contracts");
    };
    defineProperty(replacement, "prototype", { value: protos[i], writable: false, enumerable: false, configurable: false });
    defineProperty(protos[i], "constructor", { value: replacement, writable: true, enumerable: false, configurable: true });
  }
  defineProperty(G, "Function", { value: Function.prototype.constructor, writable: true, enumerable: false, configurable: true });

  // Math.random: xoshiro128** seeded by the host, 53 bits per number.
  var a = 0, b = 0, c = 0, d = 1, drawn = 0;
  var seed = function (s0, s1, s2, s3) {
    var before = drawn;
    a = s0 | 0; b = s1 | 0; c = s2 | 0; d = s3 | 0; drawn = 0;
    return before;
  };
  var next = function () {
    drawn++;
    var m = imul(b, 5);
    var r = imul((m << 7) | (m >>> 25), 9);
    var t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = (d << 11) | (d >>> 21);
    return r >>> 0;
  };
  var random = function random() {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
  defineProperty(Math, "random", { value: random, writable: false, enumerable: false, configurable: false });

  var str = function (v, what) {
    if (typeof v !== "string") throw new TypeErrorCtor(what + " must be a string");
  };
  var phalaHost = {
    storageGet: function storageGet(key) { str(key, "key"); return host(${HostOp.storageGet}, key); },
    storageSet: function storageSet(key, value) { str(key, "key"); str(value, "value"); host(${HostOp.storageSet}, key, value); },
    storageRemove: function storageRemove(key) { str(key, "key"); host(${HostOp.storageRemove}, key); },
    storageKeys: function storageKeys(prefix, limit) {
      str(prefix, "prefix");
      if (typeof limit !== "number" || limit !== (limit | 0)) throw new RangeErrorCtor("limit must be an integer");
      return parse(host(${HostOp.storageKeys}, prefix, limit));
    },
    emit: function emit(topic, data) { str(topic, "topic"); str(data, "data"); host(${HostOp.emit}, topic, data); },
    env: function env() { return host(${HostOp.env}); },
  };
  for (var k in phalaHost) freeze(phalaHost[k]);
  defineProperty(G, "__phala_host", { value: freeze(phalaHost), writable: false, enumerable: false, configurable: false });

  var describe = function (e) {
    try {
      if (typeof e === "string") return e;
      if (e !== null && (typeof e === "object" || typeof e === "function")) {
        var name = e.name, message = e.message;
        if (typeof message !== "string") return "uncaught exception (" + typeof e + ")";
        if (typeof name !== "string" || name === "" || name === "Error" || name === "ContractError") return message;
        return name + ": " + message;
      }
      return "uncaught exception: " + StringCtor(e);
    } catch (_) {
      return "uncaught exception";
    }
  };

  var drive = function (mode, inputText, originText) {
    var arg;
    try { arg = parse(inputText); } catch (e) { host(${HostOp.finish}, ${FinishTag.invalidInput}, describe(e)); return; }
    var origin = parse(originText);
    var def;
    try {
      var exported = G.__contract;
      def = exported === null || exported === undefined ? undefined : exported.default;
    } catch (e) { host(${HostOp.finish}, ${FinishTag.invalidCode}, "reading __contract.default threw: " + describe(e)); return; }
    if (def === null || (typeof def !== "object" && typeof def !== "function")) {
      host(${HostOp.finish}, ${FinishTag.invalidCode}, "the bundle does not define __contract.default");
      return;
    }
    var fail = function (e) { host(${HostOp.finish}, ${FinishTag.contract}, describe(e)); };
    var done = function (v) {
      var out;
      try { out = stringify(v); } catch (e) { fail(e); return; }
      host(${HostOp.finish}, ${FinishTag.ok}, out === undefined ? "null" : out);
    };
    var fn;
    try { fn = def[mode]; } catch (e) { fail(e); return; }
    if (fn === undefined && mode === "init") { done(null); return; }
    if (typeof fn !== "function") { host(${HostOp.finish}, ${FinishTag.contract}, "the contract has no " + mode + " function"); return; }
    var result;
    try { result = mode === "init" ? apply(fn, def, [arg]) : apply(fn, def, [arg, origin]); } catch (e) { fail(e); return; }
    var thenable;
    try { thenable = result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function"; } catch (e) { fail(e); return; }
    if (!thenable) { done(result); return; }
    var p;
    try { p = apply(promiseResolve, PromiseCtor, [result]); } catch (e) { fail(e); return; }
    apply(promiseThen, p, [done, fail]);
  };

  return { seed: seed, drive: drive, describe: describe };
})`;

const PRNG_DOMAIN = utf8("phala/contract-vm/prng/v1");

/**
 * The PRNG's 128-bit state from the call's seed. Hashed because xoshiro's state can be read
 * back from a few outputs: the seed (which includes the contract key) must not be.
 */
export function prngState(seed: Uint8Array): [number, number, number, number] {
  const input = new Uint8Array(PRNG_DOMAIN.length + seed.length);
  input.set(PRNG_DOMAIN);
  input.set(seed, PRNG_DOMAIN.length);
  const h = blake2b256(input);
  const view = new DataView(h.buffer, h.byteOffset, 16);
  const s: [number, number, number, number] = [view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)];
  // An all-zero state would only ever produce zeros (probability 2^-128, but cheap to rule out).
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[3] = 1;
  return s;
}
