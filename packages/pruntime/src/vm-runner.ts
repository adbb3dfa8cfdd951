/**
 * The QuickJS contract VM (contract-vm/) as the ContractRunner pRuntime calls. The VM writes
 * a successful call's storage changes into the storage it is given; here that is an overlay
 * over a read-only view of the committed state, so the changes come back as a write set and
 * the contracts machine commits them only after the sender paid for them.
 */
import assert from "node:assert/strict";
import { ContractVm, StorageOverlay, type ContractStorage as VmStorage, type ContractVmOptions } from "./contract-vm/index.ts";
import type { ContractCall, ContractCallResult, ContractRunner, StorageReader } from "./contract-runner.ts";
import { silentLogger, type Logger } from "./logger.ts";

/** Committed state as the VM's overlay reads it; the overlay never writes through during a call. */
class CommittedView implements VmStorage {
  constructor(private readonly storage: StorageReader) {}

  get(key: string): string | undefined {
    return this.storage.get(key);
  }

  set(): void {
    assert.fail("the VM writes committed storage only through pRuntime's overlay");
  }

  remove(): void {
    assert.fail("the VM writes committed storage only through pRuntime's overlay");
  }

  keys(prefix: string, limit: number): string[] {
    return this.storage.keys(prefix, limit);
  }
}

export class VmRunner implements ContractRunner {
  constructor(readonly vm: ContractVm) {}

  call(call: ContractCall): ContractCallResult {
    return runOnVm(this.vm, call);
  }
}

/**
 * One call on `vm`, on this thread. `call.timeLimitMs` (queries only) becomes a wall-clock
 * deadline checked at every gas tick. Shared with the command thread (vm-thread.ts), so a
 * command gives the same result wherever it runs.
 */
export function runOnVm(vm: ContractVm, call: ContractCall): ContractCallResult {
  const overlay = new StorageOverlay(new CommittedView(call.storage));
  const out = vm.call({
    code: call.code,
    codeHash: call.codeHash,
    mode: call.mode,
    input: call.input,
    // The ABI gives init no origin; its caller (the deployer) is in env.
    origin: call.mode === "init" ? null : call.origin,
    env: call.env,
    seed: call.seed,
    gasLimit: call.gasLimit,
    storage: overlay,
    deadlineMs: call.timeLimitMs === undefined ? undefined : performance.now() + call.timeLimitMs,
  });
  if (!out.ok) return { ok: false, error: { kind: out.error.kind, message: out.error.message }, gasUsed: out.gasUsed };
  const writes = new Map<string, string | undefined>();
  for (const w of overlay.writes()) writes.set(w.key, w.value);
  return { ok: true, output: out.output, gasUsed: out.gasUsed, events: out.events.map((e) => ({ topic: e.topic, data: e.data })), writes };
}

/** Starts the VM (compiles QuickJS and checks the stack margin of this process). */
export async function createVmRunner(options: ContractVmOptions = {}, logger: Logger = silentLogger): Promise<VmRunner> {
  return new VmRunner(await ContractVm.create(options, { logger }));
}
