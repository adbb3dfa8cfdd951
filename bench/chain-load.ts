/**
 * End-to-end load against a running node over WebSocket RPC: finalized transfer
 * throughput (pipelined author_submitExtrinsic) and submit-to-finalized latency
 * (sequential author_submitAndWatchExtrinsic).
 */
import { DEV_ACCOUNT_NAMES, blake2b256, devAccount, fromHex, keyPairFromSeed, toHex, utf8, type KeyPair, type KeyType } from "@phala-ts/primitives";
import { PHA, createPhalaRuntime, signExtrinsic, SystemStorage } from "@phala-ts/runtime";
import { AccountInfo } from "@phala-ts/runtime/types";
import { RpcClient } from "./rpc-client.ts";

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const runtime = createPhalaRuntime();
const TRANSFER_AMOUNT = PHA; // well above the existential deposit

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

function transferCall(dest: Uint8Array, amount = TRANSFER_AMOUNT): Uint8Array {
  return runtime.call.codec.enc({ tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: dest }, value: amount } } });
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
 * What a run counts as included: storage keys read at every finalized block, and from their
 * values the number of the run's transfers that block's state shows included so far.
 */
interface InclusionWatch {
  keys: `0x${string}`[];
  included(values: Map<string, Uint8Array | null>): number;
}

/**
 * Pre-signs `count` transfers spread round-robin over the senders (consecutive nonces per
 * sender), submits them pipelined over `connections` sockets (each sender on one socket, so
 * its nonces arrive in order) with at most `inFlightMax` not yet finalized, and times first
 * send to the finalized-head notification of the block that holds the last one. The senders
 * are the six endowed dev accounts: their keys are hot in every cache (see
 * `ManyAccountTransfers` for the realistic case).
 */
export async function measureTransferThroughput(
  url: string,
  type: KeyType,
  count: number,
  opts: { connections?: number; timeoutMs?: number; batch?: number; inFlightMax?: number } = {},
  transfers?: { senders: KeyPair[]; dests: Uint8Array[]; amount: bigint },
): Promise<ThroughputResult> {
  const connections = opts.connections ?? 3;
  const control = await RpcClient.connect(url);
  try {
    const ctx = await chainContext(control);
    const senders = transfers?.senders ?? devSenders(type);
    const destOf = (i: number) => (transfers ? transfers.dests[i % transfers.dests.length] : senders[(i + 1) % senders.length].accountId);
    const calls = new Map<number, Uint8Array>();
    const nonces = await nextNonces(control, senders);
    const startNonces = [...nonces];
    const accountKeys = senders.map((s) => toHex(SystemStorage.Account.key(s.accountId)));
    log(`${type}: signing ${count} transfers from ${senders.length} senders`);
    const signStart = performance.now();
    const perConnHex: string[][] = Array.from({ length: connections }, () => []);
    for (let i = 0; i < count; i++) {
      const s = i % senders.length;
      const callBytes = transfers ? transferCall(destOf(i), transfers.amount) : (calls.get(s) ?? calls.set(s, transferCall(destOf(s))).get(s)!);
      perConnHex[s % connections].push(signTransfer(ctx, senders[s], callBytes, nonces[s]++));
    }
    log(`${type}: signed in ${((performance.now() - signStart) / 1000).toFixed(1)} s; submitting over ${connections} connections`);
    // AccountInfo starts with the u32 nonce: the senders' nonces count what is included.
    const watch: InclusionWatch = {
      keys: accountKeys,
      included: (values) => {
        let included = 0;
        for (const [i, key] of accountKeys.entries()) {
          const bytes = values.get(key);
          if (bytes) included += (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) - startNonces[i];
        }
        return included;
      },
    };
    return await submitAndWatch(url, type, control, perConnHex, watch, opts);
  } finally {
    control.close();
  }
}

/** Balance each of the many senders gets: enough for every run's transfer and fee many times over. */
const MANY_SENDER_FUNDING = 100n * PHA;
/** What each of the many senders sends per run: any amount above the existential deposit would do. */
const MANY_SENDER_AMOUNT = PHA / 10n;

/**
 * Transfers from many distinct accounts (BENCH_ACCOUNTS, default 10,000), one from each per run,
 * all to one sink account, as many users paying one merchant or exchange: every signature is by a
 * key the node has not seen for thousands of checks, so its key caches are as cold as with real
 * users. The accounts are funded once (`fund`) from the six dev accounts; that funding run is
 * itself the few-hot-senders case and is reported as such. Inclusion is counted from the sink's
 * balance, one storage read a block.
 */
export class ManyAccountTransfers {
  readonly type: KeyType;
  readonly accounts: KeyPair[];
  readonly #url: string;
  readonly #sink: Uint8Array;
  #nonces: number[];

  constructor(url: string, type: KeyType, accounts: KeyPair[]) {
    this.#url = url;
    this.type = type;
    this.accounts = accounts;
    this.#sink = keyPairFromSeed(blake2b256(utf8(`phala-ts bench sink ${type}`)), type).accountId;
    this.#nonces = accounts.map(() => 0);
  }

  /** Funds every account from the six dev accounts; the run's figures are the few-senders case. */
  async fund(opts: { timeoutMs?: number; batch?: number } = {}): Promise<ThroughputResult> {
    const result = await measureTransferThroughput(this.#url, this.type, this.accounts.length, opts, {
      senders: devSenders(this.type),
      dests: this.accounts.map((a) => a.accountId),
      amount: MANY_SENDER_FUNDING,
    });
    if (!result.complete) throw new Error(`funding ${this.accounts.length} ${this.type} bench accounts did not complete: ${JSON.stringify(result)}`);
    return result;
  }

  /** One transfer from every account to the sink, timed from first send to the finalization of the last. */
  async run(opts: { connections?: number; timeoutMs?: number; batch?: number; inFlightMax?: number } = {}): Promise<ThroughputResult> {
    const connections = opts.connections ?? 3;
    const control = await RpcClient.connect(this.#url);
    try {
      const ctx = await chainContext(control);
      const callBytes = transferCall(this.#sink, MANY_SENDER_AMOUNT);
      log(`${this.type}: signing ${this.accounts.length} transfers from as many accounts`);
      const signStart = performance.now();
      const perConnHex: string[][] = Array.from({ length: connections }, () => []);
      for (const [i, a] of this.accounts.entries()) perConnHex[i % connections].push(signTransfer(ctx, a, callBytes, this.#nonces[i]));
      log(`${this.type}: signed in ${((performance.now() - signStart) / 1000).toFixed(1)} s`);
      const sinkKey = toHex(SystemStorage.Account.key(this.#sink));
      const freeOf = (bytes: Uint8Array | null | undefined) => (bytes ? AccountInfo.codec.dec(bytes).data.free : 0n);
      const startFree = freeOf(await storageAt(control, sinkKey));
      const watch: InclusionWatch = {
        keys: [sinkKey],
        included: (values) => Number((freeOf(values.get(sinkKey)) - startFree) / MANY_SENDER_AMOUNT),
      };
      const result = await submitAndWatch(this.#url, this.type, control, perConnHex, watch, opts);
      if (result.complete) this.#nonces = this.#nonces.map((n) => n + 1);
      else this.#nonces = await nextNonces(control, this.accounts);
      return result;
    } finally {
      control.close();
    }
  }
}

async function storageAt(client: RpcClient, key: string): Promise<Uint8Array | null> {
  const hex = (await client.call("state_getStorage", [key])) as string | null;
  return hex === null ? null : fromHex(hex);
}

/**
 * Submits pre-signed extrinsics (hex, one list per connection, each sent in order) in JSON-RPC
 * batches with at most `inFlightMax` not yet finalized, and times first send to the finalized
 * head whose state shows the last of them included.
 */
async function submitAndWatch(
  url: string,
  label: string,
  control: RpcClient,
  perConnHex: string[][],
  watch: InclusionWatch,
  opts: { timeoutMs?: number; batch?: number; inFlightMax?: number },
): Promise<ThroughputResult> {
  const batchSize = opts.batch ?? 1;
  // Submitted but not yet seen finalized; below the pool's 8192 ready slots, so a long run is never refused as "pool full".
  const inFlightMax = opts.inFlightMax ?? 6000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const count = perConnHex.reduce((n, l) => n + l.length, 0);
  const submitters = await Promise.all(perConnHex.map(() => RpcClient.connect(url)));
  try {
    const perConn = perConnHex.map((hexes, c) => {
      const batches: { ids: number[]; text: string }[] = [];
      for (let i = 0; i < hexes.length; i += batchSize) {
        batches.push(submitters[c].prepareBatch("author_submitExtrinsic", hexes.slice(i, i + batchSize).map((h) => [h])));
      }
      return batches;
    });

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

    // Finalized heads arrive in order. Ours in a block are counted from a few storage values in
    // its state, not from a body of thousands of extrinsics for the node to encode and this
    // process to parse.
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
        const [set] = (await control.call("state_queryStorageAt", [watch.keys, hash])) as Array<{ changes: Array<[string, string | null]> }>;
        const values = new Map(set.changes.map(([k, v]) => [k, v === null ? null : fromHex(v)] as const));
        const mine = watch.included(values) - finalized;
        if (mine > 0) {
          blocks++;
          finalized += mine;
          if (finalized >= accepted && responses === count) tEnd = at;
          const woken = waiters;
          waiters = [];
          for (const w of woken) w();
          log(`${label}: block #${number} finalized ${mine} of ours (${finalized}/${count})`);
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
      log(`${label}: timed out after ${timeoutMs} ms with ${finalized}/${accepted} finalized`);
    }
    control.unsubscribeLocal(subId);
    const seconds = (tEnd - t0) / 1000;
    if (rejected) log(`${label}: ${rejected} submissions rejected, first: ${firstRejection}`);
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
