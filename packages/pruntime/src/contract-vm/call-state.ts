/**
 * What one contract call accumulates on the host side (gas, buffered writes, events, the
 * result) and the host's side of the calls QuickJS makes into it: host functions and
 * interrupt callbacks.
 */
import type { HostArgs } from "./engine.ts";
import {
  GasMeter,
  GAS_HOST_CALL,
  GAS_PER_EVENT_BYTE,
  GAS_PER_INTERRUPT,
  GAS_PER_KEY_LISTED,
  GAS_PER_READ_BYTE,
  GAS_PER_WRITE_BYTE,
} from "./gas.ts";
import {
  CALL_WRITE_BYTES_MAX,
  EVENTS_PER_CALL_MAX,
  EVENT_DATA_BYTES_MAX,
  EVENT_TOPIC_BYTES_MAX,
  STORAGE_KEYS_LIMIT_MAX,
  STORAGE_KEY_BYTES_MAX,
  STORAGE_VALUE_BYTES_MAX,
} from "./limits.ts";
import { HostOp } from "./prelude.ts";
import { StorageOverlay } from "./storage-overlay.ts";
import type { CallRequest, ContractEvent } from "./types.ts";
import { LIMIT_FLAG_MEMORY, LIMIT_FLAG_STACK } from "./wasm-patch.ts";

/** Failures that end a call whatever the contract does about them. */
export type FatalKind = "gas" | "memory" | "stack" | "timeout" | "internal";

/** Thrown by the host into the contract: a refused host call, which the contract may catch. */
export class HostRefusal extends Error {
  constructor(name: "Error" | "TypeError" | "RangeError", message: string) {
    super(message);
    this.name = name;
  }
}

export const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/** V8's own RangeError when its native stack runs out. */
export function isV8StackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

export class CallState {
  readonly meter: GasMeter;
  readonly overlay: StorageOverlay;
  readonly events: ContractEvent[] = [];
  /** Key and value bytes written so far. */
  writeBytes = 0;
  interrupts = 0;
  /** The first fatal failure; once set, the call fails with it whatever happens next. */
  fatal: FatalKind | undefined;
  fatalMessage = "";
  /** What the prelude's driver reported (FinishTag and text); the first report counts. */
  finished: { tag: number; text: string } | undefined;

  constructor(
    readonly req: CallRequest,
    readonly envJson: string,
    private readonly memoryLimitBytes: number,
  ) {
    this.meter = new GasMeter(req.gasLimit);
    this.overlay = new StorageOverlay(req.storage);
  }

  setFatal(kind: FatalKind, message: string): void {
    if (this.fatal === undefined) {
      this.fatal = kind;
      this.fatalMessage = message;
    }
  }

  /** Turns a QuickJS out-of-memory or stack overflow, caught by the contract or not, into a fatal failure. */
  checkLimitFlags(flags: number): void {
    if (flags & LIMIT_FLAG_MEMORY) this.setFatal("memory", `out of memory (limit ${this.memoryLimitBytes} bytes)`);
    if (flags & LIMIT_FLAG_STACK) this.setFatal("stack", "stack overflow");
  }

  /** Charges from a host call; past the limit the call is over. */
  private charge(amount: bigint): void {
    if (!this.meter.charge(amount)) {
      this.setFatal("gas", "out of gas");
      throw new HostRefusal("Error", "out of gas");
    }
  }

  /** The interrupt callback: true stops the contract (an exception it cannot catch). */
  onInterrupt(limitFlags: number): boolean {
    try {
      this.checkLimitFlags(limitFlags);
      if (this.fatal !== undefined) return true;
      // Each callback stands for INTERRUPT_TICKS ticks: the counter restarts there after
      // every callback, and a call starts from the snapshot's count (sandbox.ts).
      if (!this.chargeInterrupts(1)) return true;
      if (this.req.deadlineMs !== undefined && performance.now() > this.req.deadlineMs) {
        this.setFatal("timeout", "the query ran past its time limit");
        return true;
      }
      return false;
    } catch (e) {
      this.setFatal(isV8StackOverflow(e) ? "stack" : "internal", isV8StackOverflow(e) ? "stack overflow" : "the interrupt handler failed");
      return true;
    }
  }

  /** Charges `n` interrupt callbacks' worth of gas; false (and fatal) when it runs out. */
  chargeInterrupts(n: number): boolean {
    this.interrupts += n;
    if (this.meter.charge(GAS_PER_INTERRUPT * BigInt(n))) return true;
    this.setFatal("gas", "out of gas");
    return false;
  }

  /** One call of the raw host function (prelude.ts HostOp). Throws HostRefusal into the contract. */
  hostCall(args: HostArgs, limitFlags: number): string | undefined {
    try {
      this.checkLimitFlags(limitFlags);
      if (this.fatal !== undefined) throw new HostRefusal("Error", "the call has already failed");
      const op = args.number(0);
      const mode = this.req.mode;
      switch (op) {
        case HostOp.storageGet: {
          const key = args.string(1);
          const keyBytes = checkedBytes(key, STORAGE_KEY_BYTES_MAX, "key");
          this.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(keyBytes));
          const value = this.overlay.get(key);
          if (value === undefined) return undefined;
          this.charge(GAS_PER_READ_BYTE * BigInt(utf8Length(value)));
          return value;
        }
        case HostOp.storageSet:
        case HostOp.storageRemove: {
          if (mode === "query") throw new HostRefusal("Error", "storage is read-only in a query");
          const key = args.string(1);
          const keyBytes = checkedBytes(key, STORAGE_KEY_BYTES_MAX, "key");
          const value = op === HostOp.storageSet ? args.string(2) : undefined;
          const valueBytes = value === undefined ? 0 : checkedBytes(value, STORAGE_VALUE_BYTES_MAX, "value");
          this.charge(GAS_HOST_CALL + GAS_PER_WRITE_BYTE * BigInt(keyBytes + valueBytes));
          this.writeBytes += keyBytes + valueBytes;
          if (this.writeBytes > CALL_WRITE_BYTES_MAX) {
            this.setFatal("memory", `the call wrote more than ${CALL_WRITE_BYTES_MAX} bytes of storage`);
            throw new HostRefusal("Error", "too many storage writes");
          }
          if (value === undefined) this.overlay.remove(key);
          else this.overlay.set(key, value);
          return undefined;
        }
        case HostOp.storageKeys: {
          const prefix = args.string(1);
          const prefixBytes = checkedBytes(prefix, STORAGE_KEY_BYTES_MAX, "prefix");
          const limit = args.number(2);
          if (!Number.isInteger(limit) || limit < 0 || limit > STORAGE_KEYS_LIMIT_MAX) throw new HostRefusal("RangeError", `limit must be an integer from 0 to ${STORAGE_KEYS_LIMIT_MAX}`);
          this.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(prefixBytes));
          const keys = this.overlay.keys(prefix, limit);
          const json = JSON.stringify(keys);
          this.charge(GAS_PER_KEY_LISTED * BigInt(keys.length) + GAS_PER_READ_BYTE * BigInt(utf8Length(json)));
          return json;
        }
        case HostOp.emit: {
          if (mode === "query") throw new HostRefusal("Error", "events cannot be emitted in a query");
          const topic = args.string(1);
          const data = args.string(2);
          const bytes = checkedBytes(topic, EVENT_TOPIC_BYTES_MAX, "topic") + checkedBytes(data, EVENT_DATA_BYTES_MAX, "data");
          if (this.events.length >= EVENTS_PER_CALL_MAX) throw new HostRefusal("RangeError", `at most ${EVENTS_PER_CALL_MAX} events per call`);
          this.charge(GAS_HOST_CALL + GAS_PER_EVENT_BYTE * BigInt(bytes));
          this.events.push({ topic, data });
          return undefined;
        }
        case HostOp.env:
          this.charge(GAS_HOST_CALL + GAS_PER_READ_BYTE * BigInt(utf8Length(this.envJson)));
          return this.envJson;
        case HostOp.meter: {
          // The prelude's builtin metering (prelude.ts): gas it computed from input sizes.
          const gas = args.number(1);
          if (!Number.isSafeInteger(gas) || gas < 0) {
            this.setFatal("internal", `builtin metering reported ${gas} gas`);
            throw new HostRefusal("Error", "invalid builtin metering");
          }
          this.charge(GAS_HOST_CALL + BigInt(gas));
          return undefined;
        }
        case HostOp.finish: {
          if (this.finished === undefined) this.finished = { tag: args.number(1), text: args.string(2) };
          return undefined;
        }
        default:
          this.setFatal("internal", `unknown host op ${op}`);
          throw new HostRefusal("Error", "unknown host op");
      }
    } catch (e) {
      if (!(e instanceof HostRefusal)) {
        // Not a refusal we chose: V8 out of stack in host code, or a bug. The contract must
        // not be able to observe and survive it.
        this.setFatal(isV8StackOverflow(e) ? "stack" : "internal", isV8StackOverflow(e) ? "stack overflow" : `host call failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      throw e;
    }
  }

}

/** UTF-8 length of a host-call argument, refused past `max`. */
function checkedBytes(s: string, max: number, what: string): number {
  const n = utf8Length(s);
  if (n > max) throw new HostRefusal("RangeError", `${what} is ${n} bytes, more than ${max}`);
  return n;
}
