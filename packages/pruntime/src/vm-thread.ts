/**
 * The command thread: owns a QuickJS contract VM of its own and runs the commands and inits
 * the main thread sends (threaded-runner.ts), one at a time, in order. It holds no state that
 * outlives a call besides the VM's caches: committed storage stays on the main thread and is
 * read through a synchronous request per read (the thread blocks on Atomics.wait while the
 * main thread answers), so a command sees exactly what it would see on the main thread and a
 * restart needs nothing from this thread.
 */
import assert from "node:assert/strict";
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { ContractVm } from "./contract-vm/index.ts";
import type { ContractCallResult, StorageReader } from "./contract-runner.ts";
import type { LogFields, Logger } from "./logger.ts";
import { errorText, type ThreadCallRequest, type ThreadInit, type ThreadMessage, type ThreadStorageReply, type ThreadStorageRequest } from "./threaded-runner.ts";
import { runOnVm } from "./vm-runner.ts";

const init = workerData as ThreadInit;
const port: MessagePort = init.storagePort;
const flag = new Int32Array(init.flag);
assert.ok(parentPort !== null, "vm-thread.ts runs as a worker thread");
const parent = parentPort;

/**
 * Committed storage of the call in progress, read from the main thread. Committed storage
 * does not change while a call runs (the main thread applies its writes after it), so each
 * key is asked for once per call: a round trip costs tens of microseconds.
 */
class RemoteStorage implements StorageReader {
  readonly #values = new Map<string, string | undefined>();

  constructor(private readonly callId: number) {}

  private request(req: ThreadStorageRequest): ThreadStorageReply {
    port.postMessage(req);
    // The main thread posts its reply, then sets the flag: once the flag is 1 the reply is queued.
    Atomics.wait(flag, 0, 0);
    Atomics.store(flag, 0, 0);
    const got = receiveMessageOnPort(port);
    assert.ok(got !== undefined, "the main thread queues a storage reply before it wakes the command thread");
    return got.message as ThreadStorageReply;
  }

  get(key: string): string | undefined {
    if (this.#values.has(key)) return this.#values.get(key);
    const reply = this.request({ callId: this.callId, op: "get", key });
    assert.ok(reply.op === "get");
    this.#values.set(key, reply.value);
    return reply.value;
  }

  keys(prefix: string, limit: number): string[] {
    const reply = this.request({ callId: this.callId, op: "keys", prefix, limit });
    assert.ok(reply.op === "keys");
    return reply.keys;
  }
}

/** The VM's log lines, written by the main thread's logger (fields are strings and numbers). */
function threadLogger(scope: string): Logger {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: LogFields): void => {
      const line: ThreadMessage = { kind: "log", level, scope, message, fields };
      parent.postMessage(line);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (s) => threadLogger(scope === "" ? s : `${scope}.${s}`) };
}

const vm = await ContractVm.create(init.vmOptions, { logger: threadLogger("") });

parent.on("message", (req: ThreadCallRequest) => {
  let result: ContractCallResult;
  try {
    result = runOnVm(vm, { ...req.call, storage: new RemoteStorage(req.callId) });
  } catch (e) {
    // A fault of the VM host itself (never a contract's doing): the main thread stops syncing.
    const message: ThreadMessage = { kind: "fault", callId: req.callId, reason: errorText(e) };
    parent.postMessage(message);
    return;
  }
  const message: ThreadMessage = { kind: "result", callId: req.callId, result };
  parent.postMessage(message);
});

const ready: ThreadMessage = { kind: "ready" };
parent.postMessage(ready);
