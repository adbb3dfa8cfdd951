/**
 * Gas: what a contract call costs. One unit is about one nanosecond of one core of the
 * reference machine (the one the bench ran on, see bench/contract-vm.ts), so 1e9 gas is
 * about a second of work. Every figure below is consensus: all workers must charge the
 * same, so change them only together with the runtime's gas price.
 *
 * gasUsed = CALL_BASE
 *         + CODE_BYTE × bundle bytes + INPUT_BYTE × input bytes + OUTPUT_BYTE × output bytes
 *         + INTERRUPT × interrupt callbacks
 *         + Σ host calls (HOST_CALL + per-byte charges)
 *         + metered builtins: per character or element of their input or output, reported by
 *           the prelude in batches (prelude.ts BUILTIN_GAS, BUILTIN_METER_BATCH_GAS)
 *
 *         (interrupt callbacks: every one but the first)
 *
 * Interrupt callbacks: QuickJS decrements a counter at every jump, call and regexp
 * backtracking step, and calls the host's interrupt handler each time it reaches zero,
 * then starts again from INTERRUPT_TICKS (1,000; QuickJS's own 10,000 is patched down so
 * that less work goes unmetered, see wasm-patch.ts). The runtime and context are fresh
 * every call, so the counter starts from the same state (zero: the first callback comes at
 * the first tick and is not charged) and the number of callbacks is a pure function of the
 * code and its inputs. The work between two callbacks varies with what the code does
 * (~25 ns per tick for arithmetic loops, ~80 ns with calls and allocation here);
 * INTERRUPT is set from the middle of that range.
 */

/** Runtime, context and prelude set up and torn down for every call (~250 µs measured). */
export const GAS_CALL_BASE = 250_000n;
/** Loading the bundle's cached bytecode and defining its functions, on every call (~20 ns per source byte). */
export const GAS_PER_CODE_BYTE = 20n;
/** Copying and parsing the input JSON. */
export const GAS_PER_INPUT_BYTE = 10n;
/** Serialising and copying the result JSON. */
export const GAS_PER_OUTPUT_BYTE = 10n;
/** One interrupt callback after the first: INTERRUPT_TICKS (1,000) interpreter ticks. */
export const GAS_PER_INTERRUPT = 50_000n;
/** Crossing from the contract into the host and back, for every host function. */
export const GAS_HOST_CALL = 2_000n;
/** Per UTF-8 byte of key and value read (storageGet, storageKeys, env). */
export const GAS_PER_READ_BYTE = 10n;
/** Per UTF-8 byte of key and value written (storageSet, storageRemove): the write is later sealed and replicated. */
export const GAS_PER_WRITE_BYTE = 30n;
/** Per key returned by storageKeys, besides its bytes. */
export const GAS_PER_KEY_LISTED = 500n;
/** Per UTF-8 byte of event topic and data: each event is encrypted and sent to the sender. */
export const GAS_PER_EVENT_BYTE = 30n;

/** Counts gas against a limit. Once the limit is passed it stays exhausted. */
export class GasMeter {
  private usedGas = 0n;
  private exhausted = false;

  constructor(readonly limit: bigint) {}

  /** Adds `amount`; returns false (and from then on `isExhausted`) if that passes the limit. */
  charge(amount: bigint): boolean {
    if (this.exhausted) return false;
    const next = this.usedGas + amount;
    if (next > this.limit) {
      this.usedGas = this.limit;
      this.exhausted = true;
      return false;
    }
    this.usedGas = next;
    return true;
  }

  get used(): bigint {
    return this.usedGas;
  }

  get isExhausted(): boolean {
    return this.exhausted;
  }
}
