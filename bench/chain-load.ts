/**
 * End-to-end load against a running node over WebSocket RPC: finalized transfer
 * throughput (pipelined author_submitExtrinsic) and submit-to-finalized latency
 * (sequential author_submitAndWatchExtrinsic).
 */
import { DEV_ACCOUNT_NAMES, devAccount, fromHex, toHex, type KeyPair, type KeyType } from "@phala-ts/primitives";
import { createPhalaRuntime, signExtrinsic, SystemStorage } from "@phala-ts/runtime";
import { RpcClient } from "./rpc-client.ts";

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const runtime = createPhalaRuntime();
const TRANSFER_AMOUNT = 1_000_000_000_000n; // 1 PHA, well above the existential deposit

export interface ChainContext {
  genesisHash: Uint8Array;
}

export async function chainContext(client: RpcClient): Promise<ChainContext> {
  const genesisHex: string = await client.call("chain_getBlockHash", [0]);
  const version = await client.call("state_getRuntimeVersion", []);
  if (version.specVersion !== runtime.version.spec_version || version.transactionVersion !== runtime.version.transaction_version) {
    throw new Error(`node runtime version ${version.specVersion}/${version.transactionVersion} differs from the bench's ${runtime.version.spec_version}/${runtime.version.transaction_version}`);
  }
  return { genesisHash: fromHex(genesisHex) };
}

function transferCall(dest: Uint8Array): Uint8Array {
  return runtime.call.codec.enc({ tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: dest }, value: TRANSFER_AMOUNT } } });
}

function signTransfer(ctx: ChainContext, signer: KeyPair, callBytes: Uint8Array, nonce: number): string {
  return toHex(
    signExtrinsic({
      signer,
      callBytes,
      nonce,
      specVersion: runtime.version.spec_version,
      transactionVersion: runtime.version.transaction_version,
      genesisHash: ctx.genesisHash,
    }),
  );
}

/** The six endowed dev accounts of one key type; each sends to the next one. */
export function devSenders(type: KeyType): KeyPair[] {
  return DEV_ACCOUNT_NAMES.map((n) => devAccount(n, type));
}

async function nextNonces(client: RpcClient, senders: KeyPair[]): Promise<number[]> {
  return Promise.all(senders.map((s) => client.call("system_accountNextIndex", [toHex(s.accountId)]) as Promise<number>));
}

export interface ThroughputResult {
  transfers: number;
  accepted: number;
  finalized: number;
  blocks: number;
  seconds: number;
  /** Time to hand all submissions to the node and get every submit response back. */
  submitSeconds: number;
  transfersPerSecond: number;
  complete: boolean;
  rejected: number;
  firstRejection?: string;
}

/**
 * Pre-signs `count` transfers spread round-robin over the senders (consecutive nonces per
 * sender), submits them pipelined over `connections` sockets (each sender on one socket, so
 * its nonces arrive in order) with at most `inFlightMax` not yet finalized, and times first
 * send to the finalized-head notification of the block that holds the last one.
 */
export async function measureTransferThroughput(
  url: string,
  type: KeyType,
  count: number,
  opts: { connections?: number; timeoutMs?: number; batch?: number; inFlightMax?: number } = {},
): Promise<ThroughputResult> {
  const connections = opts.connections ?? 3;
  const batchSize = opts.batch ?? 1;
  // Submitted but not yet seen finalized; below the pool's 8192 ready slots, so a long run is never refused as "pool full".
  const inFlightMax = opts.inFlightMax ?? 6000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const control = await RpcClient.connect(url);
  const submitters = await Promise.all(Array.from({ length: connections }, () => RpcClient.connect(url)));
  try {
    const ctx = await chainContext(control);
    const senders = devSenders(type);
    const calls = senders.map((_, i) => transferCall(senders[(i + 1) % senders.length].accountId));
    const nonces = await nextNonces(control, senders);
    const startNonces = [...nonces];
    const accountKeys = senders.map((s) => toHex(SystemStorage.Account.key(s.accountId)));

    log(`${type}: signing ${count} transfers from ${senders.length} senders`);
    const signStart = performance.now();
    const perConnHex: string[][] = submitters.map(() => []);
    for (let i = 0; i < count; i++) {
      const s = i % senders.length;
      const hex = signTransfer(ctx, senders[s], calls[s], nonces[s]++);
      perConnHex[s % connections].push(hex);
    }
    const perConn = perConnHex.map((hexes, c) => {
      const batches: { ids: number[]; text: string }[] = [];
      for (let i = 0; i < hexes.length; i += batchSize) {
        batches.push(submitters[c].prepareBatch("author_submitExtrinsic", hexes.slice(i, i + batchSize).map((h) => [h])));
      }
      return batches;
    });
    log(`${type}: signed in ${((performance.now() - signStart) / 1000).toFixed(1)} s; submitting over ${connections} connections`);

    let finalized = 0;
    let blocks = 0;
    let accepted = 0;
    let rejected = 0;
    let responses = 0;
    let firstRejection: string | undefined;
    let tEnd = 0;
    let tSubmitted = 0;
    let startNumber = -1;
    let sent = 0;
    let waiters: Array<() => void> = [];
    const room = async () => {
      while (sent - finalized >= inFlightMax) await new Promise<void>((r) => waiters.push(r));
    };
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const checkDone = () => {
      if (responses === count && finalized >= accepted) {
        if (!tEnd) tEnd = performance.now();
        resolveDone();
      }
    };

    // Finalized heads arrive in order. Ours in a block are counted from the senders' nonces in its
    // state (AccountInfo starts with the u32 nonce): six storage reads, not a body of thousands of
    // extrinsics for the node to encode and this process to parse.
    let chainTail = Promise.resolve();
    const subId = await control.subscribe("chain_subscribeFinalizedHeads", [], (header: { number: string }) => {
      const at = performance.now();
      const number = Number.parseInt(header.number, 16);
      if (startNumber < 0) {
        startNumber = number;
        return;
      }
      if (number <= startNumber) return;
      chainTail = chainTail.then(async () => {
        const hash = await control.call("chain_getBlockHash", [number]);
        const [set] = (await control.call("state_queryStorageAt", [accountKeys, hash])) as Array<{ changes: Array<[string, string | null]> }>;
        let included = 0;
        for (const [key, value] of set.changes) {
          const i = accountKeys.indexOf(key as `0x${string}`);
          if (i < 0 || value === null) continue;
          const bytes = fromHex(value);
          included += (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) - startNonces[i];
        }
        const mine = included - finalized;
        if (mine > 0) {
          blocks++;
          finalized += mine;
          if (finalized >= accepted && responses === count) tEnd = at;
          const woken = waiters;
          waiters = [];
          for (const w of woken) w();
          log(`${type}: block #${number} finalized ${mine} of ours (${finalized}/${count})`);
        }
        checkDone();
      });
    });

    const t0 = performance.now();
    const submitPromises: Promise<void>[] = [];
    const connectionLoops = perConn.map(async (batches, c) => {
      for (const b of batches) {
        await room();
        sent += b.ids.length;
        for (const p of submitters[c].sendBatch(b)) {
          submitPromises.push(
            p.then(
              () => {
                accepted++;
                responses++;
                checkDone();
              },
              (e: Error) => {
                rejected++;
                responses++;
                firstRejection ??= e.message;
                checkDone();
              },
            ),
          );
        }
      }
    });
    void Promise.all(connectionLoops)
      .then(() => Promise.all(submitPromises))
      .then(() => (tSubmitted = performance.now()));

    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
    clearTimeout(timer);
    await chainTail;
    if (timedOut) {
      tEnd = performance.now();
      log(`${type}: timed out after ${timeoutMs} ms with ${finalized}/${accepted} finalized`);
    }
    control.unsubscribeLocal(subId);
    const seconds = (tEnd - t0) / 1000;
    if (rejected) log(`${type}: ${rejected} submissions rejected, first: ${firstRejection}`);
    return {
      transfers: count,
      accepted,
      finalized,
      blocks,
      seconds: round(seconds, 3),
      submitSeconds: round(((tSubmitted || performance.now()) - t0) / 1000, 3),
      transfersPerSecond: Math.round(finalized / seconds),
      complete: !timedOut && finalized === count,
      rejected,
      ...(firstRejection ? { firstRejection } : {}),
    };
  } finally {
    control.close();
    for (const s of submitters) s.close();
  }
}

export interface LatencyResult {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

/**
 * `rounds` sequential submit-and-watch transfers: each is sent only after the previous
 * one was reported finalized, timed from send to the "finalized" notification.
 */
export async function measureSubmitToFinalizedLatency(url: string, rounds: number, opts: { type?: KeyType; pauseMs?: number } = {}): Promise<LatencyResult> {
  const type = opts.type ?? "sr25519";
  const pauseMs = opts.pauseMs ?? 5;
  const client = await RpcClient.connect(url);
  try {
    const ctx = await chainContext(client);
    const sender = devAccount("Alice", type);
    const call = transferCall(devAccount("Bob", type).accountId);
    let [nonce] = await nextNonces(client, [sender]);
    const txs = Array.from({ length: rounds }, () => signTransfer(ctx, sender, call, nonce++));
    const samples: number[] = [];
    for (const tx of txs) {
      const t0 = performance.now();
      let subId: string | undefined;
      const finalizedAt = await new Promise<number>((resolve, reject) => {
        client
          .subscribe("author_submitAndWatchExtrinsic", [tx], (status: unknown) => {
            if (status && typeof status === "object" && "finalized" in status) resolve(performance.now());
            else if (status === "invalid" || status === "dropped" || (status && typeof status === "object" && "usurped" in status)) {
              reject(new Error(`transaction ended as ${JSON.stringify(status)}`));
            }
          })
          .then((id) => (subId = id), reject);
      });
      // The node closes the subscription after "finalized"; drop our handler too.
      if (subId !== undefined) client.unsubscribeLocal(subId);
      samples.push(finalizedAt - t0);
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
    return {
      p50: round(pct(0.5), 1),
      p99: round(pct(0.99), 1),
      max: round(sorted[sorted.length - 1], 1),
      mean: round(samples.reduce((a, b) => a + b, 0) / samples.length, 1),
      samples: samples.length,
    };
  } finally {
    client.close();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
