import { parentPort } from "node:worker_threads";
import { verifyMultiSignature } from "@phala-ts/primitives";
import type { VerifyRequest } from "./signature-verifier.ts";

// Each message is a batch; the answer lists, per request id, whether the signature holds.
parentPort!.on("message", (batch: VerifyRequest[]) => {
  parentPort!.postMessage(batch.map((r) => [r.id, verifyMultiSignature(r.signature, r.payload, r.who)] as const));
});
