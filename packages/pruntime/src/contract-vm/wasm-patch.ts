/**
 * Patches the QuickJS WebAssembly binary of `@jitl/quickjs-wasmfile-release-sync@0.32.0`
 * (QuickJS 2025-09-13). quickjs-emscripten exposes no hook for what the VM needs, so it is
 * added to the binary, leaving everything else byte for byte:
 *
 * 1. Limit flags. QuickJS turns a failed allocation into a catchable `InternalError: out of
 *    memory` and a deep recursion into a catchable `stack overflow`; nothing tells the host.
 *    Every place that throws one of those passes the message's address as an `i32.const`
 *    right before calling a throw helper, so `flags |= MEMORY` (or `STACK`) is inserted just
 *    before that constant. The flags live in a new exported global; the VM makes the call
 *    fail even if the contract caught the error. The shadow-stack pointer (global 0) is
 *    exported too, so the VM can put it back after V8 unwound the module (contract-vm.ts).
 *
 * 2. Bytecode. Parsing is slow in this build (~100 ns per byte), and the VM starts every
 *    call from the same clean context, so it would parse the bundle on every call. The binary JSON
 *    pair `QTS_bjson_encode`/`QTS_bjson_decode` inline `JS_WriteObject`/`JS_ReadObject` with
 *    bytecode disallowed; the patch allows it (the `allow_bytecode` bit and `first_atom`
 *    field of the writer/reader state, which are constants there) and makes the decoder
 *    run what it read through `JS_EvalFunction`. So `encodeBinaryJSON(compiled script)`
 *    gives bytes and `decodeBinaryJSON(bytes)` evaluates that script in the current context.
 *    The VM only ever decodes bytes it compiled itself.
 *
 * 3. Memory accounting. This build counts 8 bytes per allocation whatever its size (no
 *    malloc_usable_size under Emscripten) and nothing for realloc growth, so the memory
 *    limit bounded the number of allocations, not bytes. The default allocator functions
 *    are made to count dlmalloc's real chunk sizes.
 *
 * 4. Interrupt granularity: the interrupt handler is called every INTERRUPT_TICKS (1,000)
 *    ticks instead of 10,000, so less work goes unmetered.
 *
 * 5. Memory layout (read, not patched): where the static data ends, where the heap starts
 *    and where sbrk keeps the break, so the VM can snapshot the module's memory after
 *    setting up a context and put it back before every call (sandbox.ts).
 *
 * Sites are found by content (error messages, the export names the Emscripten glue maps,
 * exact instruction sequences) and each must match exactly as often as expected, so a
 * different build fails loudly at load instead of silently losing a hook.
 */
import { ContractVmError } from "./errors.ts";

export const LIMIT_FLAG_MEMORY = 1;
export const LIMIT_FLAG_STACK = 2;
export const EXPORT_LIMIT_FLAGS = "phala_limit_flags";
export const EXPORT_STACK_POINTER = "phala_stack_pointer";

/** The messages whose throw sites set a flag. */
const HOOKED_MESSAGES: ReadonlyArray<{ text: string; flag: number }> = [
  { text: "out of memory", flag: LIMIT_FLAG_MEMORY },
  { text: "out of memory in regexp execution", flag: LIMIT_FLAG_MEMORY },
  { text: "stack overflow", flag: LIMIT_FLAG_STACK },
];

/** QuickJS's own interrupt interval, in ticks (JS_INTERRUPT_COUNTER_INIT and the regexp engine's). */
const QUICKJS_INTERRUPT_TICKS = 10_000;
/** Ticks between two interrupt callbacks after the patch (gas.ts charges per callback). */
export const INTERRUPT_TICKS = 1000;

export interface PatchReport {
  memorySites: number;
  stackSites: number;
  /** Number of predefined atoms + 1, read from the atom table in the data section. */
  atomEnd: number;
  layout: MemoryLayout;
}

/**
 * Where things are in the module's linear memory. wasm-ld lays it out as: static data
 * (.data, then .bss), the shadow stack (growing down from `stackHigh`), then the heap from
 * `heapBase` up to the break sbrk keeps at `brkAddress`.
 */
export interface MemoryLayout {
  /** The shadow-stack pointer's initial value: the top of the stack. */
  stackHigh: number;
  /**
   * End of the region that holds all static data: the initialised data plus STATIC_BSS_SLACK
   * for .bss (this build's .bss is ~3 KB). What lies between here and the stack pointer is
   * stack, unused whenever no WebAssembly frame is active.
   */
  staticEnd: number;
  /** The heap's first byte: the break's initial value. */
  heapBase: number;
  /** Address of the 32-bit break (sbrk's static, initialised to `heapBase`). */
  brkAddress: number;
}

/** Room for .bss after the last initialised data segment (it is ~3 KB in this build). */
const STATIC_BSS_SLACK = 64 * 1024;
/** Stack the static region must leave untouched below `stackHigh` (the build has 5 MiB). */
const STACK_RESERVE_MIN = 1024 * 1024;

const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_FUNCTION = 3;
const SECTION_GLOBAL = 6;
const SECTION_EXPORT = 7;
const SECTION_CODE = 10;
const SECTION_DATA = 11;

const OP_LOCAL_GET = 0x20;
const OP_GLOBAL_GET = 0x23;
const OP_GLOBAL_SET = 0x24;
const OP_I32_LOAD = 0x28;
const OP_I32_STORE = 0x36;
const OP_I64_STORE = 0x37;
const OP_I32_CONST = 0x41;
const OP_I64_CONST = 0x42;
const OP_I32_ADD = 0x6a;
const OP_I32_OR = 0x72;
const OP_I32_AND = 0x71;
const OP_I32_SUB = 0x6b;
const OP_LOCAL_SET = 0x21;
const OP_SELECT = 0x1b;
const OP_RETURN = 0x0f;
const OP_CALL = 0x10;
const OP_END = 0x0b;
const TYPE_I32 = 0x7f;
const TYPE_I64 = 0x7e;
const EXPORT_KIND_FUNC = 0;
const EXPORT_KIND_GLOBAL = 3;

/** First and last entries of QuickJS's predefined atom names (quickjs-atom.h), NUL-separated in the data. */
const ATOM_TABLE_START = "null\0false\0true\0if\0";
const ATOM_TABLE_LAST = "Symbol.asyncIterator";

function patchError(message: string, details?: Record<string, unknown>): ContractVmError {
  return new ContractVmError("ENGINE_PATCH_FAILED", `QuickJS binary not as expected: ${message}; pin @jitl/quickjs-wasmfile-release-sync to 0.32.0`, details === undefined ? {} : { details });
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw patchError("unexpected end of the binary");
    return this.buf[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw patchError("LEB128 too long");
    }
  }
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && (b & 0x40) !== 0) result |= -1 << shift;
    return result;
  }
  bytes(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    if (out.length !== n) throw patchError("unexpected end of the binary");
    this.pos += n;
    return out;
  }
  name(): string {
    return Buffer.from(this.bytes(this.u32())).toString("utf8");
  }
}

function u32Leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sLeb(value: number | bigint): number[] {
  let n = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function concat(parts: ReadonlyArray<Uint8Array | number[]>): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexesOf(haystack: Uint8Array, needle: readonly number[]): number[] {
  const h = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const n = Buffer.from(needle);
  const out: number[] = [];
  for (let at = h.indexOf(n); at >= 0; at = h.indexOf(n, at + 1)) out.push(at);
  return out;
}

interface Section {
  id: number;
  start: number;
  end: number;
}

interface FuncType {
  params: number[];
  results: number[];
}

/** A function body: local declarations (kept as bytes) and instructions. */
interface Body {
  locals: Uint8Array;
  code: Uint8Array;
}

/** The parts of a module the patch reads or rewrites. */
class WasmModule {
  readonly sections: Section[] = [];
  readonly types: FuncType[] = [];
  /** Type index of every function, imported ones first. */
  readonly funcTypes: number[] = [];
  importedFuncs = 0;
  importedGlobals = 0;
  readonly exports = new Map<string, { kind: number; index: number }>();
  readonly bodies: Body[] = [];

  constructor(readonly bytes: Uint8Array) {
    const r = new Reader(bytes);
    const header = r.bytes(8);
    if (header[0] !== 0x00 || header[1] !== 0x61 || header[2] !== 0x73 || header[3] !== 0x6d || header[4] !== 1) throw patchError("not a WebAssembly 1 module");
    while (r.pos < bytes.length) {
      const id = r.byte();
      const size = r.u32();
      this.sections.push({ id, start: r.pos, end: r.pos + size });
      r.pos += size;
    }
    this.readTypes();
    this.readImports();
    this.readFunctions();
    this.readExports();
    this.readBodies();
  }

  section(id: number): Section {
    const s = this.sections.find((x) => x.id === id);
    if (s === undefined) throw patchError(`section ${id} missing`);
    return s;
  }

  private readTypes(): void {
    const r = new Reader(this.bytes, this.section(SECTION_TYPE).start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      if (r.byte() !== 0x60) throw patchError("unexpected type form");
      const params = [...r.bytes(r.u32())];
      const results = [...r.bytes(r.u32())];
      this.types.push({ params, results });
    }
  }

  private readImports(): void {
    const r = new Reader(this.bytes, this.section(SECTION_IMPORT).start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      r.name();
      r.name();
      const kind = r.byte();
      if (kind === 0) {
        this.funcTypes.push(r.u32());
        this.importedFuncs++;
      } else if (kind === 1) {
        r.byte();
        const flags = r.byte();
        r.u32();
        if (flags & 1) r.u32();
      } else if (kind === 2) {
        const flags = r.byte();
        r.u32();
        if (flags & 1) r.u32();
      } else if (kind === 3) {
        r.byte();
        r.byte();
        this.importedGlobals++;
      } else throw patchError(`unknown import kind ${kind}`);
    }
  }

  private readFunctions(): void {
    const r = new Reader(this.bytes, this.section(SECTION_FUNCTION).start);
    const n = r.u32();
    for (let i = 0; i < n; i++) this.funcTypes.push(r.u32());
  }

  private readExports(): void {
    const r = new Reader(this.bytes, this.section(SECTION_EXPORT).start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const name = r.name();
      const kind = r.byte();
      this.exports.set(name, { kind, index: r.u32() });
    }
  }

  private readBodies(): void {
    const sec = this.section(SECTION_CODE);
    const r = new Reader(this.bytes, sec.start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const size = r.u32();
      const end = r.pos + size;
      const localsStart = r.pos;
      const groups = r.u32();
      for (let g = 0; g < groups; g++) {
        r.u32();
        r.byte();
      }
      this.bodies.push({ locals: this.bytes.subarray(localsStart, r.pos), code: this.bytes.subarray(r.pos, end) });
      r.pos = end;
    }
    if (r.pos !== sec.end) throw patchError("code section length mismatch");
  }

  funcType(index: number): FuncType {
    return this.types[this.funcTypes[index]];
  }

  body(funcIndex: number): Body {
    const b = this.bodies[funcIndex - this.importedFuncs];
    if (b === undefined) throw patchError(`no body for function ${funcIndex}`);
    return b;
  }

  exportedFunction(name: string): number {
    const e = this.exports.get(name);
    if (e === undefined || e.kind !== EXPORT_KIND_FUNC) throw patchError(`export ${name} missing`);
    return e.index;
  }

  /** Active data segments with their addresses. */
  *dataSegments(): Generator<{ address: number; bytes: Buffer }> {
    const r = new Reader(this.bytes, this.section(SECTION_DATA).start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const mode = r.u32();
      let address: number | undefined;
      if (mode === 0 || mode === 2) {
        if (mode === 2) r.u32();
        if (r.byte() !== OP_I32_CONST) throw patchError("data segment offset is not an i32.const");
        address = r.s32();
        if (r.byte() !== OP_END) throw patchError("data segment offset expression too long");
      }
      const bytes = Buffer.from(r.bytes(r.u32()));
      if (address !== undefined) yield { address, bytes };
    }
  }
}

/**
 * Whether `text` is a whole C string at `at`: NUL (or the segment's start) before it, NUL
 * after it or the segment's end (the linker drops trailing zero bytes; memory starts zeroed).
 */
function isCString(bytes: Buffer, at: number, length: number): boolean {
  return (at === 0 || bytes[at - 1] === 0) && (at + length === bytes.length || bytes[at + length] === 0);
}

/** Addresses where the C string `text` starts. */
function cStringAddresses(m: WasmModule, text: string): number[] {
  const needle = Buffer.from(text, "utf8");
  const out: number[] = [];
  for (const { address, bytes } of m.dataSegments()) {
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
      if (isCString(bytes, at, needle.length)) out.push(address + at);
    }
  }
  return out;
}

/** JS_ATOM_END: 1 + the number of predefined atoms, counted in the atom name table. */
function atomEnd(m: WasmModule): number {
  for (const { bytes } of m.dataSegments()) {
    const start = bytes.indexOf(Buffer.from(ATOM_TABLE_START, "latin1"));
    if (start < 0) continue;
    const lastName = Buffer.from(ATOM_TABLE_LAST, "latin1");
    let last = bytes.indexOf(lastName, start);
    while (last >= 0 && !isCString(bytes, last, lastName.length)) last = bytes.indexOf(lastName, last + 1);
    if (last < 0) break;
    const names = bytes.subarray(start, last + ATOM_TABLE_LAST.length).toString("latin1").split("\0");
    return names.length + 1;
  }
  throw patchError("atom name table not found");
}

/**
 * The static region and the heap's bounds. The break is the one 4-byte word of initialised
 * data whose value lies just above the stack (wasm-ld puts `__heap_base` there, aligned).
 */
function memoryLayout(m: WasmModule, stackHigh: number): MemoryLayout {
  let dataEnd = 0;
  for (const { address, bytes } of m.dataSegments()) dataEnd = Math.max(dataEnd, address + bytes.length);
  if (dataEnd <= 0 || dataEnd >= stackHigh) throw patchError("no static data below the stack");
  // The initial image of static memory; the linker drops trailing zeros of a segment.
  const image = Buffer.alloc(dataEnd + 4);
  for (const { address, bytes } of m.dataSegments()) image.set(bytes, address);
  const found: Array<{ address: number; value: number }> = [];
  for (let a = 0; a + 4 <= image.length; a += 4) {
    const value = image.readUInt32LE(a);
    if (value >= stackHigh && value < stackHigh + 64) found.push({ address: a, value });
  }
  if (found.length !== 1) throw patchError(`sbrk's break: expected one static word holding the heap base, found ${found.length}`);
  const staticEnd = Math.ceil(dataEnd / 16) * 16 + STATIC_BSS_SLACK;
  if (staticEnd > stackHigh - STACK_RESERVE_MIN) throw patchError("the stack is smaller than expected", { stackHigh, staticEnd });
  return { stackHigh, staticEnd, heapBase: found[0].value, brkAddress: found[0].address };
}

/** Replaces, in `code`, the single occurrence of `from` by `to`. */
function replaceOnce(code: Uint8Array, from: readonly number[], to: number[], what: string): Uint8Array {
  const hits = indexesOf(code, from);
  if (hits.length !== 1) throw patchError(`${what}: expected one match, found ${hits.length}`);
  const at = hits[0];
  return concat([code.subarray(0, at), to, code.subarray(at + from.length)]);
}

/** The export name the Emscripten glue binds `_name` to (`d._QTS_Eval=b.pa`). */
function glueExportName(glue: string, name: string): string {
  const m = new RegExp(`_${name}=\\w+\\.([A-Za-z_$][\\w$]*)`).exec(glue);
  if (m === null) throw patchError(`glue does not map ${name}`);
  return m[1];
}

/**
 * Returns the patched binary. `glue` is the text of the Emscripten JavaScript that comes with
 * the binary (it names the minified exports).
 */
export function patchQuickjsWasm(original: Uint8Array, glue: string): { bytes: Uint8Array; report: PatchReport } {
  const m = new WasmModule(original);
  if (m.importedGlobals !== 0) throw patchError("imported globals are not supported");

  // Globals: global 0 must be the shadow-stack pointer; the flags global goes last.
  const globalSec = m.section(SECTION_GLOBAL);
  const gr = new Reader(original, globalSec.start);
  const globalCount = gr.u32();
  const afterCount = gr.pos;
  if (globalCount < 1 || gr.byte() !== TYPE_I32 || gr.byte() !== 1) throw patchError("global 0 is not the mutable i32 stack pointer");
  if (gr.byte() !== OP_I32_CONST) throw patchError("the stack pointer's initial value is not a constant");
  const stackHigh = gr.s32();
  const flagsGlobal = globalCount;

  const newCode = new Map<number, Uint8Array>(); // body index -> new instructions
  const codeOf = (funcIndex: number): Uint8Array => newCode.get(funcIndex - m.importedFuncs) ?? m.body(funcIndex).code;
  const setCode = (funcIndex: number, code: Uint8Array): void => void newCode.set(funcIndex - m.importedFuncs, code);

  // 1. Limit flags, before every `local.get 0; i32.const <message>; i32.const 0; call`.
  const report: PatchReport = { memorySites: 0, stackSites: 0, atomEnd: atomEnd(m), layout: memoryLayout(m, stackHigh) };
  const sites = new Map<number, number>();
  for (const { text, flag } of HOOKED_MESSAGES) {
    const addresses = cStringAddresses(m, text);
    if (addresses.length === 0) throw patchError(`message not found: ${text}`);
    for (const a of addresses) sites.set(a, flag);
  }
  const patterns = [...sites].map(([address, flag]) => ({ needle: [OP_I32_CONST, ...sLeb(address), OP_I32_CONST, 0, OP_CALL], flag }));
  m.bodies.forEach((body, i) => {
    const hits: Array<{ at: number; flag: number }> = [];
    for (const { needle, flag } of patterns) {
      for (const at of indexesOf(body.code, needle)) {
        if (at >= 2 && body.code[at - 2] === OP_LOCAL_GET && body.code[at - 1] === 0) hits.push({ at, flag });
      }
    }
    if (hits.length === 0) return;
    hits.sort((a, b) => a.at - b.at);
    const pieces: Array<Uint8Array | number[]> = [];
    let from = 0;
    for (const { at, flag } of hits) {
      pieces.push(body.code.subarray(from, at));
      pieces.push([OP_GLOBAL_GET, ...u32Leb(flagsGlobal), OP_I32_CONST, ...sLeb(flag), OP_I32_OR, OP_GLOBAL_SET, ...u32Leb(flagsGlobal)]);
      from = at;
      if (flag === LIMIT_FLAG_MEMORY) report.memorySites++;
      else report.stackSites++;
    }
    pieces.push(body.code.subarray(from));
    newCode.set(i, concat(pieces));
  });
  if (report.memorySites === 0 || report.stackSites === 0) throw patchError("no throw site found for a hooked message", { ...report });

  // 2. Bytecode through the binary JSON pair.
  const exportIndex = (name: string): number => m.exportedFunction(glueExportName(glue, name));
  const evalFn = exportIndex("QTS_Eval");
  const encodeFn = exportIndex("QTS_bjson_encode");
  const decodeFn = exportIndex("QTS_bjson_decode");
  const isType = (f: number, params: number[], results: number[]): boolean => {
    const t = m.funcType(f);
    return t.params.join() === params.join() && t.results.join() === results.join();
  };
  // JS_EvalFunction(ctx, JSValue) -> JSValue: the one callee of QTS_Eval with that type.
  const evalFunction = uniqueCallee(m, codeOf(evalFn), (f) => isType(f, [TYPE_I32, TYPE_I64], [TYPE_I64]), "JS_EvalFunction in QTS_Eval");
  const atom = report.atomEnd;
  // Writer state: bitfields at +28 (allow_bytecode, allow_sab, allow_reference, ...) and
  // first_atom at +32, stored together as one i64: was {reference} and first_atom 1.
  setCode(encodeFn, replaceOnce(codeOf(encodeFn), [OP_I64_CONST, ...sLeb(0x1_0001_0000n), OP_I64_STORE, 2, 28], [OP_I64_CONST, ...sLeb((BigInt(atom) << 32n) | 0x1_0001n), OP_I64_STORE, 2, 28], "writer flags in QTS_bjson_encode"));
  let decode = codeOf(decodeFn);
  // Reader state: first_atom (+28) was 1; allow_bytecode is byte 1 of the bitfields at +44,
  // zeroed by the i64 store at +40.
  decode = replaceOnce(decode, [OP_I32_CONST, 1, OP_I32_STORE, 2, 28], [OP_I32_CONST, ...sLeb(atom), OP_I32_STORE, 2, 28], "reader first_atom in QTS_bjson_decode");
  decode = replaceOnce(decode, [OP_I64_CONST, 0, OP_I64_STORE, 2, 40], [OP_I64_CONST, ...sLeb(1n << 40n), OP_I64_STORE, 2, 40], "reader flags in QTS_bjson_decode");
  // `JS_ReadObjectRec(s)` -> `JS_EvalFunction(s->ctx, JS_ReadObjectRec(s))`. The reader
  // state sits at local 2 + 12 with ctx first; the ctx parameter's local is reused by then.
  const readRec = uniqueCallee(m, decode, (f) => isType(f, [TYPE_I32], [TYPE_I64]), "JS_ReadObjectRec in QTS_bjson_decode");
  const readCall = [OP_LOCAL_GET, 2, OP_I32_CONST, 12, OP_I32_ADD, OP_CALL, ...u32Leb(readRec)];
  const loadCtx = [OP_LOCAL_GET, 2, OP_I32_LOAD, 2, 12];
  decode = replaceOnce(decode, readCall, [...loadCtx, ...readCall, OP_CALL, ...u32Leb(evalFunction)], "read call in QTS_bjson_decode");
  setCode(decodeFn, decode);

  // 3. Memory accounting. QuickJS's emscripten build counts 8 bytes per allocation (it has
  // no malloc_usable_size there), and nothing for realloc growth, so its "limit" bounds the
  // number of allocations, not memory: 100 × 1 MB fits in 16 MiB. The default allocator
  // functions (js_def_malloc/free/realloc, found by their accounting sequences) are made to
  // count dlmalloc's chunk size instead, read from the chunk header at ptr - 4.
  const chunkOf = [OP_I32_CONST, 4, OP_I32_SUB, OP_I32_LOAD, 2, 0, OP_I32_CONST, ...sLeb(-8), OP_I32_AND];
  const mallocAccounting = [OP_LOCAL_GET, 0, OP_LOCAL_GET, 3, OP_I32_CONST, 8, OP_I32_ADD, OP_I32_STORE, 2, 4];
  const mallocFn = uniqueBodyWith(m, codeOf, mallocAccounting, "js_def_malloc");
  setCode(mallocFn, replaceOnce(codeOf(mallocFn), mallocAccounting, [OP_LOCAL_GET, 0, OP_LOCAL_GET, 3, OP_LOCAL_GET, 1, ...chunkOf, OP_I32_ADD, OP_I32_STORE, 2, 4], "malloc accounting"));
  const freeAccounting = [OP_LOCAL_GET, 0, OP_LOCAL_GET, 0, OP_I32_LOAD, 2, 4, OP_I32_CONST, 8, OP_I32_SUB, OP_I32_STORE, 2, 4, OP_LOCAL_GET, 1, OP_CALL];
  const freeAccountingNew = [OP_LOCAL_GET, 0, OP_LOCAL_GET, 0, OP_I32_LOAD, 2, 4, OP_LOCAL_GET, 1, ...chunkOf, OP_I32_SUB, OP_I32_STORE, 2, 4, OP_LOCAL_GET, 1, OP_CALL];
  const freeSites = m.bodies.map((b, i) => ({ i, hits: indexesOf(newCode.get(i) ?? b.code, freeAccounting).length })).filter((x) => x.hits > 0);
  if (freeSites.length !== 2 || freeSites.some((x) => x.hits !== 1)) throw patchError("free accounting: expected js_def_free and js_def_realloc", { sites: freeSites.length });
  let reallocFn: number | undefined;
  for (const { i } of freeSites) {
    const f = i + m.importedFuncs;
    setCode(f, replaceOnce(codeOf(f), freeAccounting, freeAccountingNew, "free accounting"));
    if (indexesOf(codeOf(f), [OP_CALL, ...u32Leb(mallocFn)]).length > 0) reallocFn = f;
  }
  if (reallocFn === undefined) throw patchError("js_def_realloc not found");
  // `return realloc(ptr, size)` -> size -= chunk(ptr); new = realloc(ptr, size);
  // size += chunk(new ? new : ptr) (a failed realloc leaves the old block in place).
  const realloc = codeOf(reallocFn);
  const tails = indexesOf(realloc, [OP_LOCAL_GET, 1, OP_LOCAL_GET, 2, OP_CALL]).filter((at) => {
    const r = new Reader(realloc, at + 5);
    const callee = r.u32();
    return callee !== mallocFn && realloc[r.pos] === OP_RETURN;
  });
  if (tails.length !== 1) throw patchError("realloc call in js_def_realloc", { found: tails.length });
  const tr = new Reader(realloc, tails[0] + 5);
  const reallocCallee = tr.u32();
  const tailEnd = tr.pos + 1;
  const sizeField = (delta: number[], op: number): number[] => [OP_LOCAL_GET, 0, OP_LOCAL_GET, 0, OP_I32_LOAD, 2, 4, ...delta, op, OP_I32_STORE, 2, 4];
  setCode(
    reallocFn,
    concat([
      realloc.subarray(0, tails[0]),
      sizeField([OP_LOCAL_GET, 1, ...chunkOf], OP_I32_SUB),
      [OP_LOCAL_GET, 1, OP_LOCAL_GET, 2, OP_CALL, ...u32Leb(reallocCallee), OP_LOCAL_SET, 2],
      sizeField([OP_LOCAL_GET, 2, OP_LOCAL_GET, 1, OP_LOCAL_GET, 2, OP_SELECT, ...chunkOf], OP_I32_ADD),
      [OP_LOCAL_GET, 2, OP_RETURN],
      realloc.subarray(tailEnd),
    ]),
  );

  // 4. Interrupt granularity. QuickJS calls the interrupt handler every 10,000 ticks (in the
  // interpreter, and separately in the regexp engine); gas is counted per callback, so work
  // below that went unmetered (~0.5 ms per call). Both counters restart from INTERRUPT_TICKS.
  for (const offset of [232, 20, 32]) {
    const from = [OP_I32_CONST, ...sLeb(QUICKJS_INTERRUPT_TICKS), OP_I32_STORE, 2, ...u32Leb(offset)];
    const f = uniqueBodyWith(m, codeOf, from, `interrupt counter reset at +${offset}`);
    setCode(f, replaceOnce(codeOf(f), from, [OP_I32_CONST, ...sLeb(INTERRUPT_TICKS), OP_I32_STORE, 2, ...u32Leb(offset)], "interrupt counter reset"));
  }

  // Reassemble.
  const newGlobal = concat([u32Leb(globalCount + 1), original.subarray(afterCount, globalSec.end), [TYPE_I32, 1, OP_I32_CONST, 0, OP_END]]);
  const exportSec = m.section(SECTION_EXPORT);
  const er = new Reader(original, exportSec.start);
  const exportCount = er.u32();
  const exportEntry = (name: string, index: number): number[] => [...u32Leb(name.length), ...Buffer.from(name, "utf8"), EXPORT_KIND_GLOBAL, ...u32Leb(index)];
  const newExport = concat([u32Leb(exportCount + 2), original.subarray(er.pos, exportSec.end), exportEntry(EXPORT_LIMIT_FLAGS, flagsGlobal), exportEntry(EXPORT_STACK_POINTER, 0)]);
  const codeParts: Array<Uint8Array | number[]> = [u32Leb(m.bodies.length)];
  m.bodies.forEach((body, i) => {
    const code = newCode.get(i) ?? body.code;
    codeParts.push(u32Leb(body.locals.length + code.length), body.locals, code);
  });
  const newCodeSec = concat(codeParts);

  const parts: Array<Uint8Array | number[]> = [original.subarray(0, 8)];
  for (const s of m.sections) {
    const content = s.id === SECTION_GLOBAL ? newGlobal : s.id === SECTION_EXPORT ? newExport : s.id === SECTION_CODE ? newCodeSec : original.subarray(s.start, s.end);
    parts.push([s.id, ...u32Leb(content.length)], content);
  }
  return { bytes: concat(parts), report };
}

/** The one function whose (possibly already patched) code contains `pattern`. */
function uniqueBodyWith(m: WasmModule, codeOf: (f: number) => Uint8Array, pattern: readonly number[], what: string): number {
  const found: number[] = [];
  for (let i = 0; i < m.bodies.length; i++) {
    const f = i + m.importedFuncs;
    if (indexesOf(codeOf(f), pattern).length > 0) found.push(f);
  }
  if (found.length !== 1) throw patchError(`${what}: expected one function, found ${found.length}`);
  return found[0];
}

/**
 * The one function `code` calls (directly) that satisfies `match`. Scans for `call <idx>`
 * byte pairs, so an unrelated byte sequence could look like a call; requiring exactly one
 * matching callee (and a type match) keeps that from going unnoticed.
 */
function uniqueCallee(m: WasmModule, code: Uint8Array, match: (f: number) => boolean, what: string): number {
  const found = new Set<number>();
  const total = m.funcTypes.length;
  for (let i = 0; i < code.length; i++) {
    if (code[i] !== OP_CALL) continue;
    const r = new Reader(code, i + 1);
    let f: number;
    try {
      f = r.u32();
    } catch {
      continue;
    }
    if (f < total && match(f)) found.add(f);
  }
  if (found.size !== 1) throw patchError(`${what}: expected one callee, found ${found.size}`);
  return [...found][0];
}
