/**
 * Single-core signature verification throughput through `verifyMultiSignature`,
 * the path every signed extrinsic takes. Each scheme runs for about BENCH_DURATION_MS
 * over a fixed set of pre-signed messages (dev account Alice, 128-byte payloads).
 */
import { pathToFileURL } from "node:url";
import { devAccount, verifyMultiSignature, KEY_TYPES, type KeyType } from "@phala-ts/primitives";

const BENCH_DURATION_MS = 1000;
/** Distinct signed messages cycled through, so no scheme benefits from a repeated input. */
const SAMPLE_COUNT = 64;
const MESSAGE_LENGTH = 128;
/** Checks the clock once per batch to keep timer overhead out of the measurement. */
const BATCH = 16;

function measure(type: KeyType, durationMs: number): number {
  const pair = devAccount("Alice", type);
  const samples = Array.from({ length: SAMPLE_COUNT }, (_, i) => {
    const message = new Uint8Array(MESSAGE_LENGTH).fill(i);
    return { message, sig: { type, signature: pair.sign(message) } };
  });
  for (const s of samples.slice(0, 8)) verifyMultiSignature(s.sig, s.message, pair.accountId); // warm up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let b = 0; b < BATCH; b++) {
      const s = samples[count % SAMPLE_COUNT];
      if (!verifyMultiSignature(s.sig, s.message, pair.accountId)) throw new Error(`bench: ${type} signature failed to verify`);
      count++;
    }
    elapsed = performance.now() - start;
  }
  return Math.round((count * 1000) / elapsed);
}

export async function benchSignatureVerification(): Promise<Record<KeyType, number>> {
  const result = {} as Record<KeyType, number>;
  for (const type of KEY_TYPES) result[type] = measure(type, BENCH_DURATION_MS);
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await benchSignatureVerification())}\n`);
}
