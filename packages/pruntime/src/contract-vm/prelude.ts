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
  /** (gas): the work of builtins the prelude metered since its last report (BUILTIN_GAS below). */
  meter: 7,
} as const;

/**
 * Gas the prelude collects in the VM before reporting it to the host in one `meter` host
 * call. A host call costs ~1 µs; 65,536 gas stands for ~30 µs of builtin work, so reporting
 * adds a few percent to the builtins it meters, and the builtin work a whole call can do
 * without being charged stays under one batch. Consensus: it decides when a call runs out of gas.
 */
export const BUILTIN_METER_BATCH_GAS = 65_536;

/**
 * Largest result one builtin call can make, in string characters or array elements: the
 * 16 MiB heap cannot hold more. A result size computed from arguments (repeat, padStart) past
 * it is not charged up front: QuickJS fails such a call at once (RangeError or out of memory).
 */
export const BUILTIN_RESULT_LENGTH_MAX = 16 * 1024 * 1024;

/**
 * Gas per unit of input or output (a string character, an array or typed-array element) of
 * the builtins the prelude meters, by how costly a unit of their work is. Measured with
 * bench/builtin-cost.ts (2 MiB inputs, Node 20, the busy reference machine) and set so a
 * builtin is charged at least ~2 gas per ns, the rate of ordinary metered code (the plain
 * infinite loop): without them a loop over `s.indexOf(x)` on a 2 MiB string was charged
 * ~150 gas for ~10 ms of work. Consensus, like everything in gas.ts.
 */
export const BUILTIN_GAS = {
  /** Scanning or copying: indexOf, includes, trim, fill, reverse, repeat, pad, typed arrays (~5-13 ns per unit). */
  scan: 24,
  /** Converting characters or elements one by one: case mapping, join, JSON (~15-30 ns per unit). */
  convert: 64,
  /** Building new strings or arrays piece by piece: split, replace, per piece (~40-100 ns per unit). */
  build: 256,
  /** Unicode normalisation and comparison (~100 ns per character). */
  unicode: 200,
  /** Defining one property from an entry or a source object: Object.fromEntries, Object.assign (~200-800 ns per property). */
  entry: 1600,
  /** Per byte a constructor allocates and zeroes or copies: ArrayBuffer, typed arrays, ArrayBuffer slice (~0.5-1.3 ns per byte). */
  byte: 2,
  /** One comparison of a sort, times n·log2(n) of them (the default comparator converts both sides to strings). */
  compare: 160,
  /**
   * Per character compared while searching for a string in a string: QuickJS compares the
   * needle at every position where its first character matches, n·m characters at worst
   * (~30 ns per 16 characters, memcmp).
   */
  searchPer16: 64,
} as const;

/**
 * Wraps the builtins whose work grows with their input so that each call reports gas in
 * proportion to that work before doing it (and, for results whose size cannot be known in
 * advance, right after). Without this the interrupt counter sees one tick per builtin call,
 * however long the call runs. The originals stay in this closure only: contract code can
 * replace or delete the wrappers (the properties keep their usual attributes) but never
 * reach an unwrapped builtin. Function.prototype.toString shows wrappers as native code.
 * Runs inside PRELUDE_SOURCE, which defines host, apply, defineProperty, getPrototypeOf and StringCtor.
 */
const BUILTIN_METER_SOURCE = `
  var meterBatch = ${BUILTIN_METER_BATCH_GAS}, resultMax = ${BUILTIN_RESULT_LENGTH_MAX};
  var SCAN = ${BUILTIN_GAS.scan}, CONVERT = ${BUILTIN_GAS.convert}, BUILD = ${BUILTIN_GAS.build}, UNICODE = ${BUILTIN_GAS.unicode}, COMPARE = ${BUILTIN_GAS.compare}, SEARCH16 = ${BUILTIN_GAS.searchPer16}, ENTRY = ${BUILTIN_GAS.entry}, BYTE = ${BUILTIN_GAS.byte};
  // Past 2^40 gas any limit is exhausted; clamping keeps every figure an exact integer.
  var clampMax = 1099511627776;
  var isArray = Array.isArray;
  var getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  var weakGet = WeakMap.prototype.get, weakSet = WeakMap.prototype.set;
  var fnToString = Function.prototype.toString;
  var pending = 0;
  // Past 2^53 a sum is still a deterministic double; the host gets it clamped to an exact integer.
  var flush = function () { var p = pending; pending = 0; host(${HostOp.meter}, p < clampMax ? p : clampMax); };
  var meter = function (gas) { pending += gas; if (pending >= meterBatch) flush(); };
  var slen = function (v) { return typeof v === "string" ? v.length : 0; };
  var alen = function (v) {
    if (v === null || v === undefined) return 0;
    var l = v.length;
    return typeof l === "number" && l > 0 ? (l < clampMax ? l - l % 1 : clampMax) : 0;
  };
  var TypedArrayProto = getPrototypeOf(Uint8Array.prototype);
  var typedLength = getOwnPropertyDescriptor(TypedArrayProto, "length").get;
  var tlen = function (v) { try { return apply(typedLength, v, []); } catch (_) { return 0; } };
  var log2 = function (n) { var k = 1; while (n > 2) { n = (n - n % 2) / 2; k++; } return k; };
  var searchCost = function (n, m) { var c = n * m; return SCAN * n + SEARCH16 * ((c - c % 16) / 16); };
  var resultCost = function (len, per) { return len > 0 && len <= resultMax ? per * (len - len % 1) : 0; };
  var wrapped = new WeakMap();
  var ProxyCtor = Proxy, reflectGet = Reflect.get;
  var isObject = function (v) { return v !== null && (typeof v === "object" || typeof v === "function"); };
  // An array-like that is not an Array can answer "length" differently to the charge and to
  // the builtin (a getter): the builtin gets a view whose length is the one read for the
  // charge. Every other property read goes through the view's trap, a metered call.
  var pinLength = function (o) {
    var len = alen(o);
    return new ProxyCtor(o, { get: function (t, k, r) { return k === "length" ? len : apply(reflectGet, undefined, [t, k, r]); } });
  };
  // how: STRING_THIS converts this to a string first, STRING_ARG0 also the first argument (as
  // the builtin would, in the same order); ARRAY_THIS pins the length of an array-like this,
  // ARRAY_ARGS also of spreadable array-like arguments (concat).
  var NONE = 0, STRING_THIS = 1, STRING_ARG0 = 2, ARRAY_THIS = 3, ARRAY_ARGS = 4;
  var spreadable = Symbol.isConcatSpreadable;
  var wrap = function (target, key, pre, postPer, how) {
    var original = target[key];
    if (typeof original !== "function") return;
    // The common shapes get a wrapper without the general one's branches: wrappers run on every
    // call of these builtins, ordinary contracts included, and each branch is an interpreter tick.
    var holder;
    if (how === NONE && postPer === 0) {
      holder = { [key]() { meter(pre(this, arguments)); return apply(original, this, arguments); } };
    } else if (how === STRING_THIS && postPer === 0) {
      holder = {
        [key]() {
          var self = typeof this === "string" || this === null || this === undefined ? this : StringCtor(this);
          meter(pre(self, arguments));
          return apply(original, self, arguments);
        },
      };
    } else if (how === STRING_ARG0 && postPer === 0) {
      holder = {
        [key]() {
          var self = typeof this === "string" || this === null || this === undefined ? this : StringCtor(this);
          var args = arguments;
          if (args.length > 0 && isObject(args[0])) {
            var copy = [StringCtor(args[0])];
            for (var i = 1; i < args.length; i++) copy[i] = args[i];
            args = copy;
          }
          meter(pre(self, args));
          return apply(original, self, args);
        },
      };
    } else holder = {
      [key]() {
        var self = this, args = arguments, unpinned = self;
        if ((how === STRING_THIS || how === STRING_ARG0) && typeof self !== "string" && self !== null && self !== undefined) self = StringCtor(self);
        if (how === STRING_ARG0 && args.length > 0 && isObject(args[0])) {
          var copy = [StringCtor(args[0])];
          for (var i = 1; i < args.length; i++) copy[i] = args[i];
          args = copy;
        }
        if (how >= ARRAY_THIS && isObject(self) && !isArray(self) && (how === ARRAY_THIS || self[spreadable])) self = pinLength(self);
        if (how === ARRAY_ARGS) {
          var pinned = [];
          for (var j = 0; j < args.length; j++) pinned[j] = isObject(args[j]) && !isArray(args[j]) && args[j][spreadable] ? pinLength(args[j]) : args[j];
          args = pinned;
        }
        if (pre !== null) meter(pre(self, args));
        var result = apply(original, self, args);
        if (result === self && self !== unpinned) result = unpinned;
        if (postPer > 0 && (typeof result === "string" || isArray(result))) meter(postPer * result.length);
        return result;
      },
    };
    var w = holder[key];
    defineProperty(w, "length", { value: original.length, writable: false, enumerable: false, configurable: true });
    apply(weakSet, wrapped, [w, original.name]);
    var d = getOwnPropertyDescriptor(target, key);
    defineProperty(target, key, { value: w, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
  };
  var wrapAll = function (target, keys, pre, postPer, how) { for (var i = 0; i < keys.length; i++) wrap(target, keys[i], pre, postPer, how); };

  var search = function (s, a) { var n = slen(s), m = slen(a[0]), c = n * m; return SCAN * n + SEARCH16 * ((c - c % 16) / 16); };
  var SP = StringCtor.prototype;
  wrapAll(SP, ["indexOf", "lastIndexOf"], search, 0, STRING_ARG0);
  wrapAll(SP, ["includes"], search, 0, STRING_THIS);
  wrap(SP, "split", search, BUILD, STRING_THIS);
  wrapAll(SP, ["replace", "replaceAll"], function (s, a) {
    var n = slen(s);
    return (typeof a[0] === "string" ? searchCost(n, a[0].length) : SCAN * n) + SCAN * slen(a[1]);
  }, BUILD, STRING_THIS);
  wrap(SP, "repeat", function (s, a) { var c = a[0]; return typeof c === "number" ? resultCost(slen(s) * c, SCAN) : 0; }, 0, STRING_THIS);
  wrapAll(SP, ["padStart", "padEnd"], function (s, a) { var t = a[0], n = slen(s); return resultCost(typeof t === "number" && t > n ? t : n, SCAN); }, 0, STRING_THIS);
  wrap(SP, "normalize", function (s) { return UNICODE * slen(s); }, 0, STRING_THIS);
  wrap(SP, "localeCompare", function (s, a) { return UNICODE * (slen(s) + slen(a[0])); }, 0, STRING_THIS);
  wrapAll(SP, ["toUpperCase", "toLowerCase", "toLocaleUpperCase", "toLocaleLowerCase"], function (s) { return CONVERT * slen(s); }, 0, STRING_THIS);
  wrapAll(SP, ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight"], function (s) { return SCAN * slen(s); }, 0, STRING_THIS);
  wrap(SP, "concat", null, SCAN, STRING_THIS);
  wrapAll(SP, ["slice", "substring", "substr"], null, SCAN, STRING_THIS);
  wrapAll(SP, ["startsWith", "endsWith"], function (s, a) { return SCAN * slen(a[0]); }, 0, STRING_THIS);
  wrapAll(SP, ["isWellFormed", "toWellFormed"], function (s) { return SCAN * slen(s); }, 0, STRING_THIS);
  var count = function (s, a) { return CONVERT * a.length; };
  wrapAll(StringCtor, ["fromCharCode", "fromCodePoint"], count, 0, NONE);

  var AP = Array.prototype;
  var scanArray = function (s) { return SCAN * alen(s); };
  // Holes are skipped without calling the callback, so a sparse array's length is work too.
  wrapAll(AP, ["indexOf", "lastIndexOf", "includes", "fill", "copyWithin", "reverse", "splice", "toReversed", "toSpliced", "with",
    "forEach", "map", "filter", "some", "every", "reduce", "reduceRight", "flatMap"], scanArray, 0, ARRAY_THIS);
  wrap(AP, "join", function (s) { return CONVERT * alen(s); }, SCAN, ARRAY_THIS);
  // Cheap on a slice of an Array (charged by result); an array-like's length is walked.
  var scanArrayLikes = function (s, a) {
    var n = isArray(s) ? 0 : alen(s);
    for (var i = 0; i < a.length; i++) if (isObject(a[i]) && !isArray(a[i])) n += alen(a[i]);
    return SCAN * n;
  };
  wrapAll(AP, ["slice", "flat"], scanArrayLikes, BUILD, ARRAY_THIS);
  wrap(AP, "concat", scanArrayLikes, BUILD, ARRAY_ARGS);
  var sortCost = function (n) { return COMPARE * n * log2(n); };
  wrapAll(AP, ["sort", "toSorted"], function (s) { return sortCost(alen(s)); }, 0, ARRAY_THIS);

  var scanTyped = function (s) { return SCAN * tlen(s); };
  wrapAll(TypedArrayProto, ["fill", "indexOf", "lastIndexOf", "includes", "reverse", "copyWithin", "slice", "toReversed", "with"], scanTyped, 0, NONE);
  wrap(TypedArrayProto, "join", function (s) { return CONVERT * tlen(s); }, SCAN, NONE);
  wrap(TypedArrayProto, "set", function (s, a) { var n = tlen(a[0]); return SCAN * (n > 0 ? n : alen(a[0])); }, 0, NONE);
  wrapAll(TypedArrayProto, ["sort", "toSorted"], function (s) { return sortCost(tlen(s)); }, 0, NONE);

  wrap(JSON, "parse", function (s, a) { return CONVERT * slen(a[0]); }, 0, NONE);
  wrap(JSON, "stringify", null, CONVERT, NONE);
  wrapAll(Object, ["keys", "values", "entries", "getOwnPropertyNames"], null, BUILD, NONE);
  wrap(Reflect, "ownKeys", null, BUILD, NONE);
  wrap(Array, "from", function (s, a) { return SCAN * alen(a[0]); }, BUILD, NONE);
  wrap(Object, "fromEntries", function (s, a) { return ENTRY * alen(a[0]); }, 0, NONE);
  var objectKeys = Object.keys;
  wrap(Object, "assign", function (s, a) {
    var n = 0;
    for (var i = 1; i < a.length; i++) if (isObject(a[i])) n += objectKeys(a[i]).length; else n += slen(a[i]);
    return ENTRY * n;
  }, 0, NONE);
  wrap(Function.prototype, "apply", function (s, a) { return SCAN * alen(a[1]); }, 0, NONE);
  wrap(Reflect, "apply", function (s, a) { return SCAN * alen(a[2]); }, 0, NONE);
  wrap(Reflect, "construct", function (s, a) { return SCAN * alen(a[1]); }, 0, NONE);

  // Constructors that allocate: the global and the prototype's constructor become a wrapper
  // that charges, then constructs the original with the caller's new.target (subclasses work).
  var construct = Reflect.construct, setPrototypeOf = Object.setPrototypeOf, ownKeys = Reflect.ownKeys;
  var wrapCtor = function (name, pre) {
    var original = G[name];
    if (typeof original !== "function") return;
    var W = function () {
      if (new.target === undefined) return apply(original, this, arguments);
      meter(pre(arguments));
      return construct(original, arguments, new.target === W ? original : new.target);
    };
    var keys = ownKeys(original);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i] !== "prototype") defineProperty(W, keys[i], getOwnPropertyDescriptor(original, keys[i]));
    }
    defineProperty(W, "prototype", { value: original.prototype, writable: false, enumerable: false, configurable: false });
    setPrototypeOf(W, getPrototypeOf(original));
    defineProperty(original.prototype, "constructor", { value: W, writable: true, enumerable: false, configurable: true });
    defineProperty(G, name, { value: W, writable: true, enumerable: false, configurable: true });
    apply(weakSet, wrapped, [W, name]);
  };
  var allocCost = function (n, bytesPer) {
    var bytes = n * bytesPer;
    return bytes > 0 && bytes <= resultMax ? BYTE * (bytes - bytes % 1) : 0;
  };
  wrapCtor("ArrayBuffer", function (a) { return typeof a[0] === "number" ? allocCost(a[0], 1) : 0; });
  var typedNames = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
  for (var t = 0; t < typedNames.length; t++) {
    (function (name) {
      var bytesPer = G[name].BYTES_PER_ELEMENT;
      wrapCtor(name, function (a) {
        var x = a[0];
        var n = typeof x === "number" ? x : isObject(x) ? tlen(x) || alen(x) : 0;
        return allocCost(n, bytesPer);
      });
    })(typedNames[t]);
  }
  var byteLength = getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  wrap(ArrayBuffer.prototype, "slice", function (s) { var n; try { n = apply(byteLength, s, []); } catch (_) { n = 0; } return allocCost(n, 1); }, 0, NONE);

  var nativeToString = {
    toString() {
      var name = apply(weakGet, wrapped, [this]);
      return name === undefined ? apply(fnToString, this, arguments) : "function " + name + "() {\\n    [native code]\\n}";
    },
  }.toString;
  defineProperty(nativeToString, "length", { value: 0, writable: false, enumerable: false, configurable: true });
  apply(weakSet, wrapped, [nativeToString, "toString"]);
  defineProperty(Function.prototype, "toString", { value: nativeToString, writable: true, enumerable: false, configurable: true });
`;

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
${BUILTIN_METER_SOURCE}

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
