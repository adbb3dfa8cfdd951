import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount, utf8 } from "@phala-ts/primitives";
import { WorkerSignatureVerifier } from "./signature-verifier.ts";

/** The threads are unref'd (they never keep a node alive); a test keeps the loop alive itself. */
function keepAlive(): () => void {
  const t = setInterval(() => {}, 1000);
  return () => clearInterval(t);
}

function check(type: "ed25519" | "sr25519", message: string, tamper = false) {
  const signer = devAccount("Alice", type);
  const payload = utf8(message);
  const signature = signer.sign(payload);
  if (tamper) signature[0] ^= 1;
  return { who: signer.accountId, signature: { type, signature }, payload };
}

test("worker threads give the same verdicts as the signatures deserve, for each scheme", async () => {
  const v = new WorkerSignatureVerifier({ threads: 2 });
  const release = keepAlive();
  try {
    const checks = [check("ed25519", "a"), check("ed25519", "b", true), check("sr25519", "c"), check("sr25519", "d", true)];
    assert.deepEqual(await Promise.all(checks.map((c) => v.verify(c))), [true, false, true, false]);
  } finally {
    release();
    await v.close();
  }
});

test("a signature thread that dies leaves the rotation: nothing hangs, and checks fall back to the calling thread", { timeout: 10_000 }, async () => {
  // A thread that throws on its first batch, as a crash inside the verifier would.
  const crashing = new URL(`data:text/javascript,${encodeURIComponent('import { parentPort } from "node:worker_threads"; parentPort.on("message", () => { throw new Error("boom"); });')}`);
  const errors: string[] = [];
  const v = new WorkerSignatureVerifier({ threads: 1, workerUrl: crashing, onError: (e) => errors.push(e.message) });
  const release = keepAlive();
  try {
    assert.equal(v.threads, 1);
    // In flight when the thread dies: answered "not verified here", so the caller's full check decides.
    assert.equal(await v.verify(check("ed25519", "in flight")), false);
    assert.ok(errors.some((m) => m.includes("boom")), "the failure is reported");
    // The thread leaves the rotation before its failure is reported, so no need to wait and see.
    assert.equal(v.threads, 0);
    // Afterwards every check runs inline and gets its real verdict.
    assert.equal(await v.verify(check("ed25519", "after")), true);
    assert.equal(await v.verify(check("sr25519", "after", true)), false);
  } finally {
    release();
    await v.close();
  }
});
