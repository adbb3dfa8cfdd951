/**
 * Named limits of the contract VM, each with its reason. The memory and stack limits decide
 * where a call fails, so every worker of a cluster must use the same values: they are part
 * of consensus, not tuning knobs.
 */

/**
 * QuickJS heap per call. Counts everything the call's runtime allocates (dlmalloc chunk
 * sizes, see wasm-patch.ts part 3), about 0.2 MiB of which is the set-up context every call
 * starts from (sandbox.ts).
 * 16 MiB holds any reasonable contract working set (state lives in host storage, not in
 * the heap) while bounding what a hostile contract can make a worker allocate per call.
 */
export const CONTRACT_MEMORY_LIMIT_BYTES_DEFAULT = 16 * 1024 * 1024;

/**
 * QuickJS stack per call, as QuickJS measures it: the WebAssembly shadow stack. QuickJS
 * compares only that stack with its limit, while the same recursion also uses V8's native
 * stack, which must never run out first (V8 would unwind the module in the middle of QuickJS
 * and where that happens depends on the machine). Measured on Node 20 / V8 11.3, native
 * bytes per shadow byte at the limit: plain JS recursion 2-3, callbacks through builtins
 * 3-4, JSON.parse nesting 7, JSON.stringify nesting 12 (the worst reachable without code
 * generation from strings, which the VM disables: the parser is ~25). 48 KiB × 12 = 576 KiB
 * stays inside Node's default ~984 KiB with room for the host's own frames. It allows about
 * 250 nested plain calls, 100 nested array callbacks or 3,000 levels of JSON nesting.
 * `ContractVm.create` checks the margin on the running process and refuses to start if it
 * is missing (stack-headroom.ts); under `node --stack-size=3800` the check passes at 128 KiB.
 */
export const CONTRACT_STACK_LIMIT_BYTES_DEFAULT = 48 * 1024;

/**
 * Stack for compiling a bundle (once per code hash, see ContractVm): the parser uses ~25
 * bytes of V8 stack per shadow byte, so 16 KiB ≈ 400 KiB native. Deeper nesting than this
 * allows (thousands of levels) is refused as invalid code, the same way on every worker.
 */
export const CONTRACT_PARSE_STACK_LIMIT_BYTES = 16 * 1024;

/** Longest storage key, in UTF-8 bytes (contract ABI). */
export const STORAGE_KEY_BYTES_MAX = 256;
/** Largest stored value, in UTF-8 bytes (contract ABI). */
export const STORAGE_VALUE_BYTES_MAX = 65_536;
/** Most keys one `storageKeys` call returns (contract ABI): bounds the work of one host call. */
export const STORAGE_KEYS_LIMIT_MAX = 1000;
/**
 * Key and value bytes one call may write. Writes are buffered in host memory, outside the
 * QuickJS heap, until the call ends; this keeps that buffer the same order as the heap.
 */
export const CALL_WRITE_BYTES_MAX = 16 * 1024 * 1024;

/** Longest event topic, in UTF-8 bytes: topics are labels. */
export const EVENT_TOPIC_BYTES_MAX = 256;
/** Largest event payload, in UTF-8 bytes: as large as a stored value. */
export const EVENT_DATA_BYTES_MAX = 65_536;
/** Events per call: each becomes an encrypted message to the sender. */
export const EVENTS_PER_CALL_MAX = 1024;

/** Largest result, in UTF-8 bytes of its JSON: it travels back in one encrypted reply. */
export const CALL_OUTPUT_BYTES_MAX = 1024 * 1024;
/** Longest contract error message reported, in UTF-8 bytes; longer ones are cut. */
export const ERROR_MESSAGE_BYTES_MAX = 1024;

/**
 * Decoded bundles kept, by code hash. A cluster runs a bounded set of contracts; 256 bundles
 * of typical size (tens of KiB) stay under a few tens of MiB.
 */
export const CODE_CACHE_ENTRIES_MAX = 256;

/**
 * Bundles kept loaded, as memory snapshots, per engine (sandbox.ts): each is the set-up heap
 * plus the loaded bundle, a few hundred KiB for a typical contract.
 */
export const CODE_SNAPSHOTS_MAX = 32;

/**
 * Interrupt callbacks (of INTERRUPT_TICKS ticks each) a bundle's load may take and still be
 * snapshotted (sandbox.ts). Consensus: it decides which bundles are charged per call for
 * loading and which a fixed amount. Also what a worker spends, once per bundle, finding out.
 */
export const LOAD_PROBE_INTERRUPTS_MAX = 2000;
