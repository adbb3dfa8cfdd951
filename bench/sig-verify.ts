/**
 * Single-core signature verification throughput through `verifyMultiSignature`, the path every
 * signed extrinsic takes, over as many distinct keys as the transfer runs have senders
 * (BENCH_ACCOUNTS, default 10,000): each key signs one 128-byte message and every check uses
 * another key, so caches of parsed public keys (ed25519 keeps 1024) are as cold as with real
 * users. Each scheme runs for at least BENCH_DURATION_MS and at least one pass over all keys;
 * the same pass with one key (dev Alice) is reported beside, as the best case a cache can give.
 */
import { pathToFileURL } from "node:url";
import { blake2b256, devAccount, keyPairFromSeed, utf8, verifyMultiSignature, KEY_TYPES, type KeyPair, type KeyType } from "@phala-ts/primitives";
import { envInt, figure, type Figure } from "./stats.ts";

const BENCH_DURATION_MS = 1000;
const MESSAGE_LENGTH = 128;
/** Checks the clock once per batch to keep timer overhead out of the measurement. */
const BATCH = 16;
/** Messages the one-key comparison cycles through, so it does not verify one input over and over. */
const ONE_KEY_SAMPLES = 64;

interface Sample {
  message: Uint8Array;
  sig: { type: KeyType; signature: Uint8Array };
  accountId: Uint8Array;
}

/** The bench's distinct accounts, derived from a fixed seed so every run (and the transfer bench) uses the same ones. */
export function benchAccount(type: KeyType, i: number): KeyPair {
  return keyPairFromSeed(blake2b256(utf8(`phala-ts bench account ${type} ${i}`)), type);
}

function signed(pair: KeyPair, i: number): Sample {
  const message = blake2b256(utf8(`message ${i}`));
  const full = new Uint8Array(MESSAGE_LENGTH);
  for (let o = 0; o < MESSAGE_LENGTH; o += message.length) full.set(message.subarray(0, Math.min(message.length, MESSAGE_LENGTH - o)), o);
  return { message: full, sig: { type: pair.type, signature: pair.sign(full) }, accountId: pair.accountId };
}

function measure(samples: Sample[], durationMs: number): number {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs || count < samples.length) {
    for (let b = 0; b < BATCH; b++) {
      const s = samples[count % samples.length];
      if (!verifyMultiSignature(s.sig, s.message, s.accountId)) throw new Error(`bench: a ${s.sig.type} signature failed to verify`);
      count++;
    }
    elapsed = performance.now() - start;
  }
  return (count * 1000) / elapsed;
}

export interface SignatureBenchResult {
  description: string;
  keys: number;
  /** Verifications per second, each by another of `keys` distinct keys. */
  distinctKeys: Record<KeyType, Figure>;
  /** The same with one key (dev Alice), as a key cache's best case. */
  oneKey: Record<KeyType, Figure>;
}

export function benchSignatureVerification(options: { keys?: number; runs?: number } = {}): SignatureBenchResult {
  const keys = options.keys ?? envInt("BENCH_ACCOUNTS", 10_000);
  const runs = options.runs ?? 3;
  const distinctKeys = {} as Record<KeyType, Figure>;
  const oneKey = {} as Record<KeyType, Figure>;
  for (const type of KEY_TYPES) {
    const samples = Array.from({ length: keys }, (_, i) => signed(benchAccount(type, i), i));
    const alice = devAccount("Alice", type);
    const aliceSamples = Array.from({ length: ONE_KEY_SAMPLES }, (_, i) => signed(alice, i));
    // One untimed pass over a few so the JIT has compiled the path before the first timed run.
    measure(aliceSamples, 0);
    distinctKeys[type] = figure(Array.from({ length: runs }, () => measure(samples, BENCH_DURATION_MS)));
    oneKey[type] = figure(Array.from({ length: runs }, () => measure(aliceSamples, BENCH_DURATION_MS)));
  }
  return {
    description:
      `signature checks per second on one core through verifyMultiSignature (128-byte messages): distinctKeys cycles through ${keys} keys, ` +
      `each check another key (at least one full pass and ${BENCH_DURATION_MS} ms per run); oneKey is dev Alice only. ` +
      `Median and best of ${runs} runs after an untimed warm-up; key generation and signing are not timed.`,
    keys,
    distinctKeys,
    oneKey,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(benchSignatureVerification(), null, 2)}\n`);
}
