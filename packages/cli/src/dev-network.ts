import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromHex, keyPairFromUri, toHex } from "@phala-ts/primitives";
import { PhalaRegistryStorage, PhatContractsStorage, clusterIdOf } from "@phala-ts/runtime/phala";
import { DEFAULT_RPC_PORT } from "@phala-ts/node";
import { parseFlags, intFlag, UsageError } from "./args.ts";
import { ChainHttp } from "./chain-http.ts";
import { devBundle } from "./dev-bundle.ts";

/** Each pRuntime's public API (queries, results: what pHost advertises on chain) listens this far above its operator port. */
const PUBLIC_PORT_OFFSET = 100;

export const DEV_HELP = `phala dev: run a whole local network as separate processes

  A dev node, one gatekeeper and two workers (each a pRuntime with its pHost). The first
  worker is made gatekeeper through Sudo once it has registered.

  --base-path <dir>        keep every process's data below DIR (persistent across runs)
  --tmp                    run on a temporary directory, deleted on exit (the default)
  --rpc-port <port>        the node's JSON-RPC port (default ${DEFAULT_RPC_PORT})
  --pruntime-port <port>   the gatekeeper's pRuntime operator port; the workers take the next two
                           (default 8000); each public API (what the chain advertises) is 100 above
  --block-interval-ms <n>  produce an empty block at least this often (default 2000)
  --log <level>            log level of the processes (default info); logs go to <dir>/logs
`;

const BIN = resolve(fileURLToPath(new URL("../bin/phala.mjs", import.meta.url)));

interface Member {
  name: string;
  operator: string;
  port: number;
}

interface PruntimeInfo {
  identityKey: string;
  syncedHeight: number;
  role: string;
  registered: boolean;
  masterPubkey: string | null;
  holdsMasterKey: boolean;
}

export interface DevNetwork {
  rpcPort: number;
  members: Member[];
  /** The cluster of both workers, once its key is on chain. */
  cluster: string;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, dead: () => string | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    const d = dead();
    if (d) throw new Error(`${d} exited while waiting for ${what}; see its log`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Starts the node, pRuntimes and pHosts as child processes and stops them all together. */
export async function startDevNetwork(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<DevNetwork> {
  const { flags, positional } = parseFlags(argv, {
    boolean: ["tmp"],
    string: ["base-path", "rpc-port", "pruntime-port", "block-interval-ms", "log"],
  });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const basePathFlag = flags.get("base-path") as string | undefined;
  if (basePathFlag && flags.has("tmp")) throw new UsageError("--tmp and --base-path exclude each other");
  const temporary = !basePathFlag;
  const base = temporary ? mkdtempSync(join(tmpdir(), "phala-dev-")) : resolve(basePathFlag);
  const rpcPort = intFlag(flags, "rpc-port", DEFAULT_RPC_PORT, 1, 65535);
  const firstPruntimePort = intFlag(flags, "pruntime-port", 8000, 1, 65535 - 2 - PUBLIC_PORT_OFFSET);
  const interval = intFlag(flags, "block-interval-ms", 2000, 10, 3_600_000);
  const log = (flags.get("log") as string | undefined) ?? "info";
  const logDir = join(base, "logs");
  mkdirSync(logDir, { recursive: true });

  const children: Array<{ name: string; proc: ChildProcess }> = [];
  const exited = new Map<string, number | string>();
  let stopping = false;
  const entry = (await devBundle(out)) ?? BIN;
  const launch = (name: string, args: string[]) => {
    const logFile = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
    const proc = spawn(process.execPath, [entry, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PHALA_PARENT_PID: String(process.pid) } });
    proc.stdout!.pipe(logFile, { end: false });
    proc.stderr!.pipe(logFile, { end: false });
    proc.on("exit", (code, signal) => {
      exited.set(name, code ?? signal ?? "?");
      logFile.end();
      if (!stopping) out(`!! ${name} exited (${code ?? signal}); its log is ${join(logDir, name + ".log")}`);
    });
    children.push({ name, proc });
  };
  const dead = () => {
    const [name] = [...exited.keys()];
    return name;
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // pHosts first, so nothing is fed to a pRuntime that is checkpointing on its way out.
    for (const phase of ["phost", "pruntime", "node"]) {
      const group = children.filter((c) => c.name.endsWith(phase) && !exited.has(c.name));
      for (const c of group) c.proc.kill("SIGTERM");
      await Promise.all(
        group.map(
          (c) =>
            new Promise<void>((r) => {
              if (exited.has(c.name)) return r();
              const t = setTimeout(() => {
                c.proc.kill("SIGKILL");
                r();
              }, 10_000);
              c.proc.once("exit", () => {
                clearTimeout(t);
                r();
              });
            }),
        ),
      );
    }
    if (temporary) rmSync(base, { recursive: true, force: true });
  };

  try {
    const nodeUrl = `http://127.0.0.1:${rpcPort}`;
    launch("node", ["node", "--dev", "--base-path", join(base, "node"), "--rpc-port", String(rpcPort), "--block-interval-ms", String(interval), "--log", log]);
    const members: Member[] = [
      { name: "gatekeeper", operator: "//Bob", port: firstPruntimePort },
      { name: "worker1", operator: "//Charlie", port: firstPruntimePort + 1 },
      { name: "worker2", operator: "//Dave", port: firstPruntimePort + 2 },
    ];
    // pRuntimes need no node to start (pHosts connect them), so they start alongside it.
    for (const m of members) {
      const publicPort = String(m.port + PUBLIC_PORT_OFFSET);
      launch(`${m.name}-pruntime`, ["pruntime", "--data-dir", join(base, m.name), "--port", String(m.port), "--public-port", publicPort, "--public-host", "127.0.0.1", "--log", log]);
    }
    const chain = new ChainHttp(nodeUrl);
    await waitFor("the node's RPC", () => chain.call("system_health").catch(() => undefined), 30_000, dead);
    for (const m of members) {
      await waitFor(`${m.name}'s pRuntime`, () => getJson(`http://127.0.0.1:${m.port}/health`), 30_000, dead);
      launch(`${m.name}-phost`, [
        "phost",
        "--node",
        `ws://127.0.0.1:${rpcPort}`,
        "--pruntime",
        `http://127.0.0.1:${m.port}`,
        "--endpoint",
        `http://127.0.0.1:${m.port + PUBLIC_PORT_OFFSET}`,
        "--operator",
        m.operator,
        "--log",
        log,
      ]);
    }
    out(`Phala dev network starting in ${base}${temporary ? " (temporary)" : ""}`);
    out(`  node RPC: ws://127.0.0.1:${rpcPort}    logs: ${logDir}`);
    out("  THIS CHAIN ACCEPTS DEV ATTESTATION: workers run without TEE hardware.");

    // The first worker becomes gatekeeper once the chain knows it.
    const gk = members[0];
    const gkInfo = await waitFor(
      "the gatekeeper to register",
      async () => {
        const i = await getJson<PruntimeInfo>(`http://127.0.0.1:${gk.port}/info`);
        return i?.registered ? i : undefined;
      },
      60_000,
      dead,
    );
    const gkKey = fromHex(gkInfo.identityKey);
    const listed = await chain.storage(PhalaRegistryStorage.Gatekeepers.key());
    const already = listed && PhalaRegistryStorage.Gatekeepers.type.codec.dec(listed).some((k: Uint8Array) => toHex(k) === toHex(gkKey));
    if (!already) {
      await chain.signAndSubmit(keyPairFromUri("//Alice", "sr25519"), {
        tag: "Sudo",
        value: { tag: "sudo", value: { call: { tag: "PhalaRegistry", value: { tag: "register_gatekeeper", value: { pubkey: gkKey } } } } },
      });
    }
    await waitFor(
      "the gatekeeper to publish the master key",
      async () => {
        const i = await getJson<PruntimeInfo>(`http://127.0.0.1:${gk.port}/info`);
        return i?.masterPubkey ? i : undefined;
      },
      60_000,
      dead,
    );
    const cluster = await ensureCluster(chain, members.slice(1), dead);
    return { rpcPort, members, cluster, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Gas price and storage deposits of the dev cluster, in plancks (1 PHA = 10^12). */
const DEV_CLUSTER = { gasPrice: 1n, depositPerByte: 1_000n, depositPerItem: 100_000n };
/** What //Alice and //Bob find in their cluster balance: 1,000 PHA. */
const DEV_CLUSTER_FUNDING = 1_000n * 10n ** 12n;

/** Creates the dev cluster of the workers (once per chain) and waits for its key on chain. */
async function ensureCluster(chain: ChainHttp, workers: Member[], dead: () => string | undefined): Promise<string> {
  const id = clusterIdOf(0n);
  const created = !(await chain.storage(PhatContractsStorage.Clusters.key(id)));
  if (created) {
    const keys = await Promise.all(
      workers.map((w) =>
        waitFor(`${w.name} to register`, async () => {
          const i = await getJson<PruntimeInfo>(`http://127.0.0.1:${w.port}/info`);
          return i?.registered ? fromHex(i.identityKey) : undefined;
        }, 60_000, dead),
      ),
    );
    const alice = keyPairFromUri("//Alice", "sr25519");
    await chain.signAndSubmit(alice, {
      tag: "Sudo",
      value: {
        tag: "sudo",
        value: {
          call: {
            tag: "PhalaPhatContracts",
            value: {
              tag: "add_cluster",
              value: { owner: alice.accountId, workers: keys, gas_price: DEV_CLUSTER.gasPrice, deposit_per_byte: DEV_CLUSTER.depositPerByte, deposit_per_item: DEV_CLUSTER.depositPerItem },
            },
          },
        },
      },
    });
  }
  await waitFor("the cluster key on chain", () => chain.storage(PhalaRegistryStorage.ClusterKeys.key(id)), 60_000, dead);
  if (!created) return toHex(id);
  // Gas inside the cluster is paid from cluster balances: fund the dev accounts people try first.
  for (const name of ["//Alice", "//Bob"]) {
    const who = keyPairFromUri(name, "sr25519");
    await chain.signAndSubmit(who, { tag: "PhalaPhatContracts", value: { tag: "transfer_to_cluster", value: { amount: DEV_CLUSTER_FUNDING, cluster: id, dest_account: who.accountId } } });
  }
  return toHex(id);
}

/** The three steps `npm start` prints: build, deploy, use. */
export function contractSteps(net: DevNetwork): string[] {
  const node = net.rpcPort === DEFAULT_RPC_PORT ? "" : ` --node ws://127.0.0.1:${net.rpcPort}`;
  return [
    "Try a confidential contract (the private note store):",
    `  1. npx phala contract build packages/contract/examples/notes.ts --out notes.js`,
    `  2. npx phala contract deploy notes.js --cluster ${net.cluster} --suri //Alice${node}`,
    `  3. npx phala contract call <contract id from step 2> '{"op":"add","text":"hello"}' --suri //Alice${node}`,
    `     npx phala contract query <contract id> '{"op":"list"}' --suri //Alice${node}`,
  ];
}

/** One status line per member: what a person watching `npm start` wants to know. */
export async function statusLines(net: DevNetwork): Promise<string[]> {
  return Promise.all(
    net.members.map(async (m) => {
      const i = await getJson<PruntimeInfo>(`http://127.0.0.1:${m.port}/info`);
      if (!i) return `  ${m.name.padEnd(10)} pRuntime http://127.0.0.1:${m.port}  not answering`;
      const role = i.role === "gatekeeper" ? (i.holdsMasterKey ? "gatekeeper (holds master key)" : "gatekeeper (waiting for key)") : "worker";
      return `  ${m.name.padEnd(10)} pRuntime http://127.0.0.1:${m.port} (public :${m.port + PUBLIC_PORT_OFFSET})  synced #${i.syncedHeight}  ${i.registered ? "registered" : "not registered"}  ${role}  key ${i.identityKey.slice(0, 10)}…`;
    }),
  );
}

/** `phala dev`: starts the network, prints how to use it and its status, and stops it on Ctrl-C or SIGTERM. */
export async function runDevNetwork(argv: string[]): Promise<void> {
  const net = await startDevNetwork(argv);
  let last = "";
  let shownAt = 0;
  // Reprint when a registration or role changes, and otherwise every half minute.
  const show = async () => {
    const lines = await statusLines(net);
    const sig = lines.map((l) => l.replace(/synced #\d+/, "")).join("\n");
    if (sig === last && Date.now() - shownAt < 30_000) return;
    process.stdout.write(lines.join("\n") + "\n");
    last = sig;
    shownAt = Date.now();
  };
  process.stdout.write(
    [
      "",
      "Phala dev network is running.",
      `  RPC (WebSocket and HTTP): ws://127.0.0.1:${net.rpcPort}`,
      "  Dev accounts //Alice … //Ferdie are endowed; //Alice is sudo and the validator.",
      `  Cluster ${net.cluster} runs contracts on worker1 and worker2.`,
      "  Ctrl-C stops every process.",
      "",
      ...contractSteps(net),
      "",
    ].join("\n"),
  );
  await show();
  const timer = setInterval(() => void show(), 2000);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      clearInterval(timer);
      process.stdout.write(`stopping (${sig})…\n`);
      void net.stop().then(() => process.exit(0));
    });
  }
}
