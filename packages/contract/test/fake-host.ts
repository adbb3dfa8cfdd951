/**
 * A tiny stand-in for the contract VM, for testing contracts' logic in Node: every call
 * evaluates the bundle in a fresh `node:vm` context (so no state survives in the heap),
 * with `__phala_host` installed as the ABI says (frozen, non-enumerable), `Date`, `WeakRef`
 * and `FinalizationRegistry` removed and `Math.random` seeded per call. Storage is a Map;
 * a call's writes go to an overlay that is committed only when the call succeeds. Inputs
 * and results cross as JSON text, as in the VM.
 *
 * It meters nothing: `timeoutMs` (node:vm's own) is the only bound on a call.
 */
import vm from "node:vm";
import type { Env, Origin, PhalaHost } from "@phala-ts/contract";
import { STORAGE_KEY_BYTES_MAX, STORAGE_KEYS_LIMIT_MAX, STORAGE_VALUE_BYTES_MAX } from "@phala-ts/contract";

export interface FakeEvent {
  /** The sender the event is delivered to. */
  to: string;
  topic: string;
  data: unknown;
}

export type CallOutcome =
  | { ok: true; value: unknown; events: FakeEvent[] }
  /** `contract`: the contract threw a ContractError; `trap`: anything else (bug, timeout, host refusal). */
  | { ok: false; kind: "contract" | "trap"; message: string };

export interface FakeHostOptions {
  contractId?: string;
  /** Wall-clock bound on each call (node:vm timeout); default 2000 ms. */
  timeoutMs?: number;
}

const DEFAULT_CONTRACT_ID = `0x${"c0".repeat(32)}`;
const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

export class FakeContractHost {
  /** Committed storage: what a sealed store would hold between calls. */
  readonly storage = new Map<string, string>();
  /** Every event delivered by a successful command, in order. */
  readonly events: FakeEvent[] = [];
  blockNumber = 1;
  timestamp = 1_700_000_000_000;
  readonly contractId: string;
  private readonly source: string;
  private readonly timeoutMs: number;
  private callCount = 0;

  constructor(code: Uint8Array, options: FakeHostOptions = {}) {
    this.source = new TextDecoder().decode(code);
    this.contractId = options.contractId ?? DEFAULT_CONTRACT_ID;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  init(args: unknown, deployer: string): CallOutcome {
    return this.call("init", args, { kind: "account", id: deployer });
  }

  handle(command: unknown, sender: string): CallOutcome {
    return this.call("handle", command, { kind: "account", id: sender });
  }

  query(request: unknown, caller: string): CallOutcome {
    return this.call("query", request, { kind: "account", id: caller });
  }

  private call(mode: Env["mode"], input: unknown, origin: Origin): CallOutcome {
    this.callCount += 1;
    const overlay = new Map<string, string | null>();
    const events: FakeEvent[] = [];
    const readOnly = (what: string): void => {
      if (mode === "query") throw new Error(`${what} is not allowed in a query`);
    };
    const env: Env = { blockNumber: this.blockNumber, timestamp: this.timestamp, contractId: this.contractId, caller: origin.id, mode };
    const get = (key: string): string | undefined => {
      const v = overlay.get(key);
      return v === null ? undefined : (v ?? this.storage.get(key));
    };
    const checkKey = (key: string): void => {
      if (typeof key !== "string" || utf8Length(key) > STORAGE_KEY_BYTES_MAX) throw new RangeError("storage key too long");
    };
    const host: PhalaHost = {
      storageGet: (key) => (checkKey(key), get(key)),
      storageSet: (key, value) => {
        readOnly("storageSet");
        checkKey(key);
        if (typeof value !== "string" || utf8Length(value) > STORAGE_VALUE_BYTES_MAX) throw new RangeError("storage value too large");
        overlay.set(key, value);
      },
      storageRemove: (key) => {
        readOnly("storageRemove");
        checkKey(key);
        overlay.set(key, null);
      },
      storageKeys: (prefix, limit) => {
        if (!Number.isInteger(limit) || limit < 0 || limit > STORAGE_KEYS_LIMIT_MAX) throw new RangeError("storageKeys limit out of range");
        const all = new Set([...this.storage.keys(), ...overlay.keys()]);
        return [...all].filter((k) => k.startsWith(prefix) && get(k) !== undefined).sort().slice(0, limit);
      },
      emit: (topic, data) => {
        readOnly("emit");
        events.push({ to: origin.id, topic, data: JSON.parse(data) });
      },
      env: () => JSON.stringify(env),
    };

    const context = vm.createContext({});
    Object.defineProperty(context, "__phala_host", { value: Object.freeze(host), enumerable: false, writable: false, configurable: false });
    Object.defineProperty(context, "__input", { value: JSON.stringify(input), enumerable: false });
    Object.defineProperty(context, "__origin", { value: JSON.stringify(origin), enumerable: false });
    const seed = (this.callCount * 0x9e3779b1) >>> 0 || 1;
    const prelude = `delete globalThis.Date; delete globalThis.WeakRef; delete globalThis.FinalizationRegistry;
      Math.random = (() => { let s = ${seed}; return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; }; })();`;
    const invoke = `(() => {
      const c = globalThis.__contract && globalThis.__contract.default;
      const f = c && c[${JSON.stringify(mode)}];
      if (typeof f !== "function") throw new TypeError("contract has no ${mode}");
      const r = f.call(c, JSON.parse(__input), JSON.parse(__origin));
      if (r !== null && typeof r === "object" && typeof r.then === "function") throw new TypeError("the fake host does not run promises");
      return r === undefined ? undefined : JSON.stringify(r);
    })()`;
    try {
      vm.runInContext(prelude, context);
      vm.runInContext(this.source, context, { timeout: this.timeoutMs });
      const out: unknown = vm.runInContext(invoke, context, { timeout: this.timeoutMs });
      if (mode !== "query") {
        for (const [k, v] of overlay) if (v === null) this.storage.delete(k); else this.storage.set(k, v);
        this.events.push(...events);
      }
      return { ok: true, value: typeof out === "string" ? JSON.parse(out) : undefined, events };
    } catch (e) {
      const name = (e as { name?: unknown } | null)?.name;
      const message = String((e as { message?: unknown } | null)?.message ?? e);
      return { ok: false, kind: name === "ContractError" ? "contract" : "trap", message };
    }
  }
}

/** The value of a successful call; fails the test with the call's message otherwise. */
export function ok(outcome: CallOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.kind} error: ${outcome.message}`);
  return outcome.value;
}

/** The message of a ContractError; fails the test on success or on a trap. */
export function contractError(outcome: CallOutcome): string {
  if (outcome.ok) throw new Error(`expected a ContractError, got success: ${JSON.stringify(outcome.value)}`);
  if (outcome.kind !== "contract") throw new Error(`expected a ContractError, got a trap: ${outcome.message}`);
  return outcome.message;
}

/** A distinct account id per name, in the `0x` + 64 hex form of `Origin.id`. */
export function accountOf(name: string): string {
  const hex = Buffer.from(name.padEnd(32, "."), "utf8").subarray(0, 32).toString("hex");
  return `0x${hex}`;
}

export const ALICE = accountOf("alice");
export const BOB = accountOf("bob");
export const CHARLIE = accountOf("charlie");
export const DAVE = accountOf("dave");
export const EVE = accountOf("eve");
