import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { verifyMultiSignature } from "@phala-ts/primitives";
import type { SignatureCheck } from "@phala-ts/runtime";

export interface VerifyRequest extends SignatureCheck {
  id: number;
}

/** Checks transaction signatures for pool admission, possibly off the main thread. */
export interface SignatureVerifier {
  verify(check: SignatureCheck): Promise<boolean>;
  close(): Promise<void>;
}

/** Verifies on the calling thread; for tests and single-core machines. */
export const inlineSignatureVerifier: SignatureVerifier = {
  verify: async (c) => verifyMultiSignature(c.signature, c.payload, c.who),
  close: async () => {},
};

/** Requests sent to a worker in one message; amortizes the cost of a postMessage. */
export const VERIFY_BATCH_MAX = 256;
/** Verifications waiting for a worker; beyond this, admission waits for the queue to drain. */
export const VERIFY_PENDING_MAX = 16_384;

/**
 * A pool of worker threads that verify signatures, so the thread that builds blocks does
 * not spend its time on curve arithmetic. Requests are batched per event-loop turn.
 */
export class WorkerSignatureVerifier implements SignatureVerifier {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, (ok: boolean) => void>();
  #queue: VerifyRequest[] = [];
  #next = 0;
  #rr = 0;
  #flushScheduled = false;
  #closed = false;

  readonly #onError: (e: Error) => void;

  constructor(options: { threads?: number; onError?: (e: Error) => void; workerUrl?: URL } = {}) {
    this.#onError = options.onError ?? (() => {});
    const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    for (let i = 0; i < threads; i++) {
      const w = new Worker(options.workerUrl ?? new URL("./signature-worker-boot.mjs", import.meta.url));
      w.on("message", (results: Array<readonly [number, boolean]>) => {
        for (const [id, ok] of results) {
          const done = this.#pending.get(id);
          this.#pending.delete(id);
          done?.(ok);
        }
      });
      w.on("error", (e) => this.#lose(w, e));
      w.on("exit", (code) => {
        if (!this.#closed) this.#lose(w, new Error(`a signature worker thread exited (code ${code})`));
      });
      w.unref();
      this.#workers.push(w);
    }
  }

  /** Threads still running; with none left, signatures are checked on the calling thread. */
  get threads(): number {
    return this.#workers.length;
  }

  async verify(check: SignatureCheck): Promise<boolean> {
    if (this.#closed) throw new Error("signature verifier is closed");
    if (this.#workers.length === 0 || this.#pending.size >= VERIFY_PENDING_MAX) return verifyMultiSignature(check.signature, check.payload, check.who);
    const id = this.#next++;
    const p = new Promise<boolean>((resolve) => this.#pending.set(id, resolve));
    this.#queue.push({ id, who: check.who, signature: check.signature, payload: check.payload });
    if (this.#queue.length >= VERIFY_BATCH_MAX) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    return p;
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    if (this.#workers.length === 0) {
      // Every thread is gone: "false" sends each through the caller's full check, which gives the verdict.
      for (const r of batch) {
        const done = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        done?.(false);
      }
      return;
    }
    this.#workers[this.#rr++ % this.#workers.length].postMessage(batch);
  }

  /** A thread that failed or exited leaves the rotation, so no request is posted to it again. */
  #lose(w: Worker, e: Error): void {
    const i = this.#workers.indexOf(w);
    if (i < 0) return;
    this.#workers.splice(i, 1);
    this.#failAll(e);
  }

  #failAll(e: Error): void {
    this.#onError(e);
    // Answers the crashed worker held are lost; "false" sends each transaction through the
    // caller's full check on its own thread, which gives the right verdict.
    this.#queue = [];
    for (const [id, done] of this.#pending) {
      this.#pending.delete(id);
      done(false);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
