/**
 * Commands off the HTTP thread (issue 12): a ContractRunner whose `execute` runs commands and
 * inits on a worker thread (vm-thread.ts) with a VM of its own, so a command that runs until
 * its gas is gone never keeps the main thread from answering /health, /info, results and
 * queries. Queries still run on the main thread's VM (`call`): they are read-only, capped by
 * QUERY_TIME_LIMIT_MS, and a round trip to the thread would cost more than a short query.
 *
 * The boundary: the main thread sends the call (code, input, env, seed, gas limit: everything
 * the VM reads besides storage) and answers the thread's storage reads from the contract's
 * committed storage while the call runs; the thread sends back the result with its write set,
 * which the contracts machine applies (or not) exactly as for an in-thread call. The VM is
 * deterministic and reads nothing else, so a command gives the same bytes on either thread
 * and on every worker. The thread keeps no state across calls except caches; a crash of it
 * fails the sync in progress (pRuntime then refuses work and resumes from its checkpoint).
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { ContractVmOptions } from "./contract-vm/index.ts";
import type { ContractCall, ContractCallResult, ContractRunner, StorageReader } from "./contract-runner.ts";
import { PruntimeError } from "./errors.ts";
import { silentLogger, type LogFields, type Logger } from "./logger.ts";
import { createVmRunner, type VmRunner } from "./vm-runner.ts";

/** What the command thread starts with. */
export interface ThreadInit {
  vmOptions: ContractVmOptions;
  storagePort: MessagePort;
  /** One Int32: 1 when a storage reply is queued on `storagePort`. */
  flag: SharedArrayBuffer;
}

/** A call as sent to the thread: the storage stays here. */
export interface ThreadCallRequest {
  callId: number;
  call: Omit<ContractCall, "storage">;
}

export type ThreadMessage =
  | { kind: "ready" }
  | { kind: "log"; level: "debug" | "info" | "warn" | "error"; scope: string; message: string; fields: LogFields | undefined }
  | { kind: "result"; callId: number; result: ContractCallResult }
  | { kind: "fault"; callId: number; reason: string };

export type ThreadStorageRequest = { callId: number; op: "get"; key: string } | { callId: number; op: "keys"; prefix: string; limit: number };
export type ThreadStorageReply = { op: "get"; value: string | undefined } | { op: "keys"; keys: string[] };

export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * V8 stack of the command thread. The VM's start-up check needs QuickJS's stack limit to trip
 * well before V8's stack ends; 4 MiB (Node's default for workers) passes it, set here so a
 * change of Node's default cannot make the thread fail that check.
 */
const COMMAND_THREAD_STACK_MB = 4;

interface InFlight {
  readonly callId: number;
  readonly storage: StorageReader;
  readonly resolve: (r: ContractCallResult) => void;
  readonly reject: (e: PruntimeError) => void;
}

export class ThreadedVmRunner implements ContractRunner {
  readonly #local: VmRunner;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  readonly #log: Logger;
  readonly #threadLog: Logger;
  /** Calls run one at a time; later ones wait here, in order. */
  readonly #queue: { call: ContractCall; resolve: (r: ContractCallResult) => void; reject: (e: PruntimeError) => void }[] = [];
  #current: InFlight | undefined;
  #nextCallId = 1;
  #failure: PruntimeError | undefined;

  private constructor(local: VmRunner, worker: Worker, port: MessagePort, flag: Int32Array, log: Logger) {
    this.#local = local;
    this.#worker = worker;
    this.#port = port;
    this.#flag = flag;
    this.#log = log;
    this.#threadLog = log.child("thread");
    port.on("message", (req: ThreadStorageRequest) => this.answerRead(req));
    worker.on("message", (m: ThreadMessage) => this.onThreadMessage(m));
    worker.on("error", (e) => this.fail(`the command thread crashed: ${errorText(e)}`));
    worker.on("exit", (code) => this.fail(`the command thread exited (code ${code})`));
    // An idle thread does not keep the process alive (pRuntime's lifetime is its HTTP
    // server's); a call in flight does, so whoever awaits it is not left behind at exit.
    worker.unref();
    port.unref();
  }

  /** Starts the main thread's VM (for queries) and the command thread with its own. */
  static async create(options: ContractVmOptions = {}, logger: Logger = silentLogger): Promise<ThreadedVmRunner> {
    const local = await createVmRunner(options, logger);
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const init: ThreadInit = { vmOptions: options, storagePort: port2, flag };
    const worker = new Worker(new URL("./vm-thread.mjs", import.meta.url), {
      workerData: init,
      transferList: [port2],
      resourceLimits: { stackSizeMb: COMMAND_THREAD_STACK_MB },
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: ThreadMessage) => {
        if (m.kind === "log") logger.child("thread")[m.level](m.message, m.fields);
        if (m.kind !== "ready") return;
        cleanup();
        resolve();
      };
      const onError = (e: Error) => {
        cleanup();
        reject(new PruntimeError("VM_THREAD_FAILED", `the contract VM's command thread did not start: ${errorText(e)}; check the VM options and Node's version`, { cause: e }));
      };
      const onExit = (code: number) => onError(new Error(`exited with code ${code}`));
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.once("error", onError);
      worker.once("exit", onExit);
    });
    return new ThreadedVmRunner(local, worker, port1, new Int32Array(flag), logger);
  }

  call(call: ContractCall): ContractCallResult {
    return this.#local.call(call);
  }

  execute(call: ContractCall): Promise<ContractCallResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ call, resolve, reject });
      if (this.#current === undefined) this.startNext();
    });
  }

  /** Stops the command thread; calls still queued fail. */
  async close(): Promise<void> {
    this.fail("the contract runner was closed");
    await this.#worker.terminate();
    this.#port.close();
  }

  private startNext(): void {
    const next = this.#queue.shift();
    if (next === undefined) return;
    const callId = this.#nextCallId++;
    this.#current = { callId, storage: next.call.storage, resolve: next.resolve, reject: next.reject };
    const { storage: _storage, ...rest } = next.call;
    const request: ThreadCallRequest = { callId, call: rest };
    this.#worker.ref();
    this.#worker.postMessage(request);
  }

  private answerRead(req: ThreadStorageRequest): void {
    const current = this.#current;
    if (current === undefined || current.callId !== req.callId) {
      // The thread reads only during the call it was sent; anything else is a bug of this file.
      this.fail(`the command thread read storage for call ${req.callId}, which is not in progress`);
      return;
    }
    const reply: ThreadStorageReply =
      req.op === "get" ? { op: "get", value: current.storage.get(req.key) } : { op: "keys", keys: current.storage.keys(req.prefix, req.limit) };
    this.#port.postMessage(reply);
    Atomics.store(this.#flag, 0, 1);
    Atomics.notify(this.#flag, 0);
  }

  private onThreadMessage(m: ThreadMessage): void {
    if (m.kind === "ready") return;
    if (m.kind === "log") {
      (m.scope === "" ? this.#threadLog : this.#threadLog.child(m.scope))[m.level](m.message, m.fields);
      return;
    }
    const current = this.#current;
    if (current === undefined || current.callId !== m.callId) {
      this.fail(`the command thread answered call ${m.callId}, which is not in progress`);
      return;
    }
    this.#current = undefined;
    this.#worker.unref();
    if (m.kind === "fault") {
      this.fail(`the contract VM failed on the command thread: ${m.reason}`, current);
      return;
    }
    current.resolve(m.result);
    this.startNext();
  }

  /** Fails the call in progress and every queued one; later calls fail at once; stops the thread. */
  private fail(reason: string, current: InFlight | undefined = this.#current): void {
    if (this.#failure === undefined) {
      this.#failure = new PruntimeError("VM_THREAD_FAILED", `${reason}; restart pRuntime (it resumes from its last checkpoint)`);
      if (reason !== "the contract runner was closed") this.#log.error("the contract VM's command thread failed", { reason });
      // A thread in an unknown state must not run anything more (close() awaits its end itself).
      void this.#worker.terminate();
    }
    this.#current = undefined;
    current?.reject(this.#failure);
    for (const q of this.#queue.splice(0)) q.reject(this.#failure);
  }
}

/** The QuickJS VM with commands on their own thread and queries on this one. */
export function createThreadedVmRunner(options: ContractVmOptions = {}, logger: Logger = silentLogger): Promise<ThreadedVmRunner> {
  return ThreadedVmRunner.create(options, logger);
}
