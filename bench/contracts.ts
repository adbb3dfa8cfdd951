/**
 * Confidential contract figures (issue 4), on a network of real processes:
 *  - encrypted commands executed per second: pre-sealed commands submitted in JSON-RPC batches
 *    of 32 (as the transfer runs), timed until a worker has executed all of them; one untimed
 *    warm-up run, then two timed runs (median and best);
 *  - query round trip p50 / p99 (sequential, after as many untimed warm-up queries) and
 *    queries per second (16 in flight, two 3 s bursts, median and best) against one worker, through the
 *    SDK, every answer decrypted and verified. The SDK sends queries in flight together as
 *    batches (`POST /queries`, one signature each); the same bursts with batching off
 *    (`queryBatchMax: 1`, every query its own request and signature) are reported beside;
 * and, as a phase of its own (`devStartToFirstQuery`), the time from starting `phala dev` to the
 * first successful query (build, deploy, query), from a cold and from a warm bundle cache.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromHex, keyPairFromUri, toHex, utf8 } from "@phala-ts/primitives";
import { createPhalaRuntime, signExtrinsic } from "@phala-ts/runtime";
import { buildContract } from "@phala-ts/contract/build";
import { builtinChainSpecJson } from "@phala-ts/node";
import { PhalaClient, sealCommand } from "@phala-ts/sdk";
import { startNetwork } from "../test/helpers/network.ts";
import { RpcClient } from "./rpc-client.ts";
import { figure, type Figure } from "./stats.ts";

/** The test networks run `--dev`: the SDK trusts that chain spec's genesis validators. */
const DEV_TRUST = { chainSpec: builtinChainSpecJson("dev") };

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const EXAMPLES = fileURLToPath(new URL("../packages/contract/examples/", import.meta.url));
const BIN = resolve(fileURLToPath(new URL("../packages/cli/bin/phala.mjs", import.meta.url)));
/** Where `phala dev` keeps the esbuild bundle of the CLI it runs its processes from (packages/cli/src/dev-bundle.ts). */
const DEV_BUNDLE_CACHE = resolve(fileURLToPath(new URL("../node_modules/.cache/phala-dev", import.meta.url)));
const runtime = createPhalaRuntime();
const PHA = 10n ** 12n;
/** `phala dev`'s default interval between empty blocks (packages/cli/src/dev-network.ts). */
const DEV_BLOCK_INTERVAL_MS = 2000;
/** author_submitExtrinsic calls per JSON-RPC batch, as in the transfer runs. */
const SUBMIT_BATCH = 32;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface ContractBenchResult {
  /** Median and best of the timed runs (the warm-up is only in commandRuns). */
  commandsPerSecond: Figure;
  commands: number;
  /** Every timed run's rate, warm-up first. */
  commandRuns: number[];
  query: {
    p50Ms: number;
    p99Ms: number;
    samples: number;
    /** Median and best of the bursts. */
    queriesPerSecond: Figure;
    /** The same bursts with every query its own request (`queryBatchMax: 1`). */
    unbatchedQueriesPerSecond: Figure;
  };
}

export async function benchContracts(opts: { commands?: number; queries?: number } = {}): Promise<ContractBenchResult> {
  const commands = opts.commands ?? 5000;
  const queries = opts.queries ?? 500;
  // Empty blocks as often as `phala dev` makes them (the test helper's 300 ms would have every
  // worker and pHost sync three times as many blocks while queries are timed).
  const net = await startNetwork({ blockIntervalMs: DEV_BLOCK_INTERVAL_MS });
  let client: PhalaClient | undefined;
  try {
    client = await PhalaClient.connect(net.node.wsUrl, { trust: DEV_TRUST });
    const alice = keyPairFromUri("//Alice", "sr25519");
    await client.transferToCluster(alice, { cluster: net.cluster, amount: 1000n * PHA });
    // The token: each command is a transfer of constant size, so the rate does not fall as state grows.
    const sender = keyPairFromUri("//Alice", "ed25519");
    const { code } = await buildContract(join(EXAMPLES, "token.ts"));
    const codeHash = await client.uploadCode(alice, net.cluster, code);
    const id = await client.instantiate(alice, { codeHash, cluster: net.cluster, initArgs: { owner: toHex(sender.accountId), supply: "1000000000" }, gasLimit: 50_000_000n });
    const keys = (await client.contractKeys(id))!;
    const worker = net.members[1];
    // Bounded: a worker that stops answering fails the bench instead of hanging it.
    const executed = async () =>
      ((await (await fetch(`http://127.0.0.1:${worker.pruntime.port}/contracts/${id}`, { signal: AbortSignal.timeout(10_000) })).json()) as { commands: number }).commands;

    // What a stalled run shows: how far each part got, and the end of each process's log.
    const diagnosis = async (): Promise<string> => {
      const lines: string[] = [];
      const ask = async (url: string) => {
        try {
          return JSON.stringify(await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json());
        } catch (e) {
          return `(${(e as Error).message})`;
        }
      };
      const rpc = async (method: string) => {
        try {
          const r = await fetch(net.node.httpUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: 1, jsonrpc: "2.0", method, params: [] }), signal: AbortSignal.timeout(5_000) });
          return JSON.stringify(((await r.json()) as { result?: unknown }).result);
        } catch (e) {
          return `(${(e as Error).message})`;
        }
      };
      lines.push(`node best header: ${await rpc("chain_getHeader")}; pending extrinsics: ${(await rpc("author_pendingExtrinsics")).length} chars`);
      for (const m of net.members) {
        lines.push(`${m.name} /info: ${await ask(`http://127.0.0.1:${m.pruntime.port}/info`)}`);
        lines.push(`${m.name} contract: ${await ask(`http://127.0.0.1:${m.pruntime.port}/contracts/${id}`)}`);
        for (const [what, p] of [["pruntime", m.pruntime], ["phost", m.phost]] as const) lines.push(`--- ${m.name} ${what} log (end):\n${p.output().slice(-3000)}`);
      }
      lines.push(`--- node log (end):\n${net.node.output().slice(-3000)}`);
      return lines.join("\n");
    };

    // Commands: sealed and signed up front (ed25519 signer: cheap to verify), then pipelined.
    log(`contracts: ${commands} encrypted commands per run`);
    await client.transferToCluster(sender, { cluster: net.cluster, amount: 1000n * PHA });
    log("contracts: sender funded");
    const rpc = await RpcClient.connect(net.node.wsUrl);
    const genesisHash = fromHex(await rpc.call("chain_getBlockHash", [0]));
    let nonce: number = await rpc.call("system_accountNextIndex", [toHex(sender.accountId)]);
    const runCommands = async (count: number): Promise<number> => {
      const xts: string[] = [];
      for (let i = 0; i < count; i++) {
        const sealed = sealCommand({ contractEcdhPubkey: keys.ecdh_pubkey, contractId: fromHex(id), sender: sender.accountId, gasLimit: 5_000_000n, input: utf8(JSON.stringify({ op: "transfer", to: toHex(alice.accountId), amount: "1" })) });
        const callBytes = runtime.call.codec.enc({ tag: "PhalaPhatContracts", value: { tag: "push_contract_message", value: { contract: fromHex(id), payload: sealed.payload, deposit: 0n, gas_limit: 5_000_000n } } });
        xts.push(toHex(signExtrinsic({ signer: sender, callBytes, nonce: nonce++, specVersion: runtime.version.spec_version, transactionVersion: runtime.version.transaction_version, genesisHash })));
      }
      const before = await executed();
      const t0 = performance.now();
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < xts.length; i += SUBMIT_BATCH) sent.push(...rpc.sendBatch(rpc.prepareBatch("author_submitExtrinsic", xts.slice(i, i + SUBMIT_BATCH).map((x) => [x]))));
      await Promise.all(sent);
      let done = before;
      let pollFailures = 0;
      for (;;) {
        try {
          done = await executed();
        } catch (e) {
          // A kept-alive connection the server closed as the poll reused it (ECONNRESET) is
          // worth another poll; a worker that is gone fails at the deadline with the diagnosis.
          if (pollFailures++ === 0) log(`contracts: polling the worker failed (${(e as Error).message}: ${String((e as Error).cause ?? "")}); polling again`);
        }
        if (done >= before + count) break;
        if (performance.now() - t0 > 120_000) throw new Error(`${before + count - done} of ${count} commands were not executed within 120 s (${pollFailures} failed polls)\n${await diagnosis()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (pollFailures > 0) log(`contracts: ${pollFailures} polls of the worker failed during the run`);
      return Math.round(count / ((performance.now() - t0) / 1000));
    };
    // A network that has run a while has its hot paths compiled: one warm-up run, not counted.
    const commandRuns: number[] = [];
    for (let run = 0; run < 3; run++) {
      commandRuns.push(await runCommands(run === 0 ? Math.min(commands, 2000) : commands));
      log(`contracts: ${run === 0 ? "warm-up " : ""}commands/s ${commandRuns[run]}`);
    }
    rpc.close();

    // Queries through the SDK to one worker: sequential for latency, 16 in flight for rate.
    log(`contracts: ${queries} warm-up queries, ${queries} sequential queries, then two 3 s bursts with batches and two without`);
    const notes = client.contract(id);
    const q = () => notes.query(alice, { op: "balance" }, { worker: worker.info.identityKey });
    const unbatchedClient = await PhalaClient.connect(net.node.wsUrl, { trust: DEV_TRUST, queryBatchMax: 1 });
    const unbatched = unbatchedClient.contract(id);
    const qOneByOne = () => unbatched.query(alice, { op: "balance" }, { worker: worker.info.identityKey });
    // Untimed, as the transfer runs' warm-up: a worker that has served a while has its query path compiled.
    for (let i = 0; i < queries; i++) await q();
    const lat: number[] = [];
    for (let i = 0; i < queries; i++) {
      const s = performance.now();
      await q();
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    const burst = async (ask: () => Promise<unknown>): Promise<number> => {
      let done = 0;
      const burstEnd = performance.now() + 3000;
      const burstStart = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (performance.now() < burstEnd) {
          await ask();
          done++;
        }
      }));
      return Math.round(done / ((performance.now() - burstStart) / 1000));
    };
    const bursts = [await burst(q), await burst(q)];
    const unbatchedBursts = [await burst(qOneByOne), await burst(qOneByOne)];
    unbatchedClient.close();
    client.close();
    client = undefined;
    await net.stop();
    return {
      commandsPerSecond: figure(commandRuns.slice(1)),
      commands,
      commandRuns,
      query: {
        p50Ms: round(percentile(lat, 50)),
        p99Ms: round(percentile(lat, 99)),
        samples: lat.length,
        queriesPerSecond: figure(bursts),
        unbatchedQueriesPerSecond: figure(unbatchedBursts),
      },
    };
  } finally {
    client?.close();
    await net.stop();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/** How long `phala dev` may take to print its cluster before the start counts as failed. */
const DEV_START_TIMEOUT_MS = 120_000;
const CLUSTER_LINE = /Cluster (0x[0-9a-f]{64})/;

/**
 * Seconds from spawning `phala dev` to the first query answered by a freshly deployed contract
 * (start, build the contract, upload, instantiate, query). `cold` deletes the CLI bundle cache
 * first, so the start includes building the bundle, as on a fresh checkout or after any
 * source change; warm reuses the bundle the previous start left.
 */
export async function devStartToFirstQuery(cache: "cold" | "warm"): Promise<number> {
  if (cache === "cold") rmSync(DEV_BUNDLE_CACHE, { recursive: true, force: true });
  // Below Linux's ephemeral range (32768+), where other connections take ports.
  const rpcPort = 21_000 + (process.pid % 4_000);
  const t0 = performance.now();
  const dev = spawn(process.execPath, [BIN, "dev", "--rpc-port", String(rpcPort), "--pruntime-port", String(rpcPort + 5_000)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  try {
    // Resolves on the output line that names the cluster, not on a polling interval.
    const cluster = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`phala dev did not come up within ${DEV_START_TIMEOUT_MS} ms:\n${out.slice(-4000)}`)), DEV_START_TIMEOUT_MS);
      const onData = (d: Buffer) => {
        out += d;
        const m = CLUSTER_LINE.exec(out);
        if (!m) return;
        clearTimeout(timer);
        resolve(m[1]);
      };
      dev.stdout.on("data", onData);
      dev.stderr.on("data", onData);
      dev.once("exit", () => {
        clearTimeout(timer);
        reject(new Error(`phala dev exited:\n${out.slice(-4000)}`));
      });
    });
    const client = await PhalaClient.connect(`ws://127.0.0.1:${rpcPort}`, { trust: DEV_TRUST });
    try {
      const alice = keyPairFromUri("//Alice", "sr25519");
      const { code } = await buildContract(join(EXAMPLES, "notes.ts"));
      const codeHash = await client.uploadCode(alice, cluster, code);
      const id = await client.instantiate(alice, { codeHash, cluster, initArgs: {}, gasLimit: 50_000_000n });
      await client.contract(id).query(alice, { op: "list" });
      return (performance.now() - t0) / 1000;
    } finally {
      client.close();
    }
  } finally {
    if (dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGTERM");
      await once(dev, "exit");
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchContracts().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"));
}
