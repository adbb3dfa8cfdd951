/**
 * `phala contract build | deploy | call | query | clusters`: confidential contracts from the
 * command line, through `@phala-ts/contract/build` and `@phala-ts/sdk`. Inputs are JSON on
 * the command line; the SDK encrypts every one of them before it leaves this process.
 */
import { readFile } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { blake2b256, toHex } from "@phala-ts/primitives";
import { buildContract, buildContractToFile, type BuildContractResult } from "@phala-ts/contract/build";
import { QUERY_CERT_TTL_MAX_MS, type Json } from "@phala-ts/sdk";
import { COMMAND_GAS_MAX } from "@phala-ts/runtime/phala";
import { UsageError, intFlag } from "./args.ts";
import {
  COMMON_HELP,
  address,
  formatPha,
  idArg,
  parseCommandFlags,
  parsePha,
  print,
  progress,
  signer,
  stringFlag,
  toJson,
  withClient,
  type Flags,
} from "./account-command.ts";

/** Gas of a command when --gas is not given: a fifth of a query's fixed budget, plenty for the examples. */
export const DEFAULT_COMMAND_GAS = 10_000_000;
/** Gas of a contract's init when --gas is not given: pRuntime caps init at this (INIT_GAS_MAX). */
export const DEFAULT_INIT_GAS = 50_000_000;
/** Bytes of the random salt when --salt is not given, so deploying the same code again just works. */
const DEFAULT_SALT_BYTES = 8;

export const CONTRACT_HELP = `phala contract: build, deploy and use confidential contracts

  phala contract build <entry.ts> [--out <file.js>]
      bundle a contract (default output: ./<name>.js); prints its code hash and size
  phala contract deploy <file.js|entry.ts> [--cluster <id>] [--init '<json>'] [--salt <s>] [--gas <n>]
      upload the code (unless the cluster has it) and instantiate it; init args are encrypted
      to the cluster's key. --cluster may be left out when the chain has one cluster.
      --salt defaults to a random one; --gas is the init's gas (default ${DEFAULT_INIT_GAS})
  phala contract call <contractId> '<json>' [--gas <n>] [--deposit <pha>]
      send an encrypted command and wait for its result (default gas ${DEFAULT_COMMAND_GAS}, at most
      the chain's CommandGasMax, ${COMMAND_GAS_MAX});
      --deposit moves PHA into your cluster balance first, to pay for gas
  phala contract query <contractId> '<json>' [--worker <pubkey>] [--ttl-ms <n>]
      ask a worker of the contract's cluster; the answer is verified against chain state
  phala contract clusters
      list clusters, their keys and workers

${COMMON_HELP}
`;

function jsonArg(text: string | undefined, what: string, example: string): Json {
  if (text === undefined) throw new UsageError(`give the ${what} as JSON, e.g. ${example}`);
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new UsageError(`the ${what} is not valid JSON: ${text.slice(0, 80)}; quote it for the shell, e.g. ${example}`);
  }
}

function gasFlag(flags: Flags, dflt: number): number {
  const gas = intFlag(flags, "gas", dflt, 1, Number.MAX_SAFE_INTEGER);
  // Workers would refuse it after the deposit and fee are paid: say so before anything is sent.
  if (BigInt(gas) > COMMAND_GAS_MAX) throw new UsageError(`--gas ${gas} is above the chain's CommandGasMax of ${COMMAND_GAS_MAX} gas per call; ask for at most that`);
  return gas;
}

function onePositional(positional: string[], what: string, usage: string): string {
  if (positional.length === 0) throw new UsageError(`say which ${what}: ${usage}`);
  if (positional.length > 1) throw new UsageError(`unexpected argument ${positional[1]}; usage: ${usage}`);
  return positional[0];
}

export async function runContract(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "build":
      return runBuild(rest);
    case "deploy":
      return runDeploy(rest);
    case "call":
      return runCall(rest);
    case "query":
      return runQuery(rest);
    case "clusters":
      return runClusters(rest);
    case undefined:
      throw new UsageError("say what to do: phala contract build | deploy | call | query | clusters (phala contract --help)");
    default:
      throw new UsageError(`unknown subcommand 'contract ${sub}'; use build, deploy, call, query or clusters (phala contract --help)`);
  }
}

function isTypeScript(file: string): boolean {
  return /\.(ts|mts|tsx)$/.test(file);
}

async function runBuild(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, { string: ["out"] });
  const entry = onePositional(positional, "contract source to build", "phala contract build <entry.ts> [--out <file.js>]");
  const out = resolve(stringFlag(flags, "out") ?? `${basename(entry, extname(entry))}.js`);
  if (out === resolve(entry)) throw new UsageError(`--out would overwrite the source ${entry}; choose another file`);
  const r = await buildContractToFile(entry, out);
  print(flags.has("json"), { entry: resolve(entry), out, codeHash: toHex(r.codeHash), sizeBytes: r.sizeBytes }, () => [
    `built ${entry} → ${out}`,
    `  code hash ${toHex(r.codeHash)}`,
    `  size      ${r.sizeBytes} bytes`,
  ]);
}

async function loadCode(file: string): Promise<BuildContractResult> {
  if (isTypeScript(file)) return buildContract(file);
  let code: Uint8Array;
  try {
    code = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code}); give a bundle from 'phala contract build' or a contract's .ts source`);
  }
  return { code, codeHash: blake2b256(code), sizeBytes: code.length };
}

async function runDeploy(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, { string: ["cluster", "init", "salt", "gas"] });
  const file = onePositional(positional, "contract to deploy", "phala contract deploy <file.js|entry.ts> --cluster <id> [--init '<json>']");
  const json = flags.has("json");
  const clusterFlag = stringFlag(flags, "cluster");
  if (clusterFlag !== undefined) idArg(clusterFlag, "cluster id", "--cluster");
  const initArgs = flags.has("init") ? jsonArg(stringFlag(flags, "init"), "--init value", `--init '{"owner":"me"}'`) : null;
  const salt = stringFlag(flags, "salt") ?? toHex(new Uint8Array(randomBytes(DEFAULT_SALT_BYTES)));
  const gasLimit = gasFlag(flags, DEFAULT_INIT_GAS);
  const key = signer(flags);
  const built = await loadCode(file);
  progress(json, `contract ${basename(file)}: code hash ${toHex(built.codeHash)}, ${built.sizeBytes} bytes`);
  await withClient(flags, async (client) => {
    let cluster = clusterFlag?.toLowerCase();
    if (cluster === undefined) {
      const ids = await client.clusterIds();
      if (ids.length !== 1) {
        throw new UsageError(ids.length === 0 ? "this chain has no cluster yet; phala dev creates one, or add one through Sudo" : `say which cluster: --cluster <id>, one of ${ids.join(", ")}`);
      }
      cluster = ids[0];
    }
    const codeHash = toHex(built.codeHash);
    const already = await client.codeUploaded(cluster, codeHash);
    if (already) progress(json, `  the cluster already has this code`);
    else {
      progress(json, `  uploading to cluster ${cluster}…`);
      await client.uploadCode(key, cluster, built.code);
    }
    progress(json, `  instantiating (salt ${salt}); waiting for the cluster to publish the contract's key…`);
    const r = await client.instantiateDetailed(key, { codeHash, cluster, salt, initArgs, gasLimit });
    print(json, { contractId: r.contractId, codeHash, cluster, salt, deployer: address(key.accountId), blockNumber: r.blockNumber, sizeBytes: built.sizeBytes, init: r.init }, () => [
      `deployed contract ${r.contractId}`,
      `  cluster ${cluster}, instantiated in block #${r.blockNumber}, init used ${r.init?.gasUsed ?? "?"} gas`,
      "next:",
      `  phala contract call ${r.contractId} '<json command>'`,
      `  phala contract query ${r.contractId} '<json request>'`,
    ]);
  });
}

function eventLines(events: Array<{ topic: string; data: Json }>): string[] {
  return events.map((e) => `  event ${e.topic}: ${JSON.stringify(e.data)}`);
}

async function runCall(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, { string: ["gas", "deposit"] });
  const usage = "phala contract call <contractId> '<json>' [--gas <n>] [--deposit <pha>]";
  if (positional.length > 2) throw new UsageError(`unexpected argument ${positional[2]}; usage: ${usage}`);
  const contractId = idArg(positional[0], "contract id (deploy printed it)", "the first argument");
  const command = jsonArg(positional[1], "command", `'{"op":"add","text":"hello"}'`);
  const gasLimit = gasFlag(flags, DEFAULT_COMMAND_GAS);
  const depositText = stringFlag(flags, "deposit");
  const deposit = depositText === undefined ? 0n : parsePha(depositText, "deposit");
  const key = signer(flags);
  const json = flags.has("json");
  await withClient(flags, async (client) => {
    const r = await client.contract(contractId).send(key, command, { gasLimit, deposit });
    print(json, r, () => [toJson(r.output), `  gas used ${r.gasUsed} of ${gasLimit}, fee ${formatPha(r.fee)}, block #${r.blockNumber}`, ...eventLines(r.events)]);
  });
}

async function runQuery(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, { string: ["worker", "ttl-ms"] });
  const usage = "phala contract query <contractId> '<json>' [--worker <pubkey>]";
  if (positional.length > 2) throw new UsageError(`unexpected argument ${positional[2]}; usage: ${usage}`);
  const contractId = idArg(positional[0], "contract id (deploy printed it)", "the first argument");
  const request = jsonArg(positional[1], "query", `'{"op":"list"}'`);
  const worker = flags.has("worker") ? idArg(stringFlag(flags, "worker"), "worker's identity key", "--worker") : undefined;
  const ttlMs = intFlag(flags, "ttl-ms", 60_000, 1_000, QUERY_CERT_TTL_MAX_MS);
  const key = signer(flags);
  const json = flags.has("json");
  await withClient(flags, async (client) => {
    const r = await client.contract(contractId).queryDetailed(key, request, { worker, ttlMs });
    print(json, r, () => [toJson(r.output), `  answered and signed by worker ${r.worker}, gas used ${r.gasUsed}`]);
  });
}

async function runClusters(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, {});
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  await withClient(flags, async (client) => {
    const clusters = await client.clusters();
    print(flags.has("json"), { clusters }, () =>
      clusters.length === 0
        ? ["no clusters on this chain yet"]
        : clusters.flatMap((c) => [
            `cluster ${c.id}`,
            `  key ${c.publicKeys ? c.publicKeys.pubkey : "not published yet"}, gas price ${c.gasPrice}, deposit ${c.depositPerByte}/byte ${c.depositPerItem}/item`,
            ...c.workers.map((w) => `  worker ${w.pubkey} ${w.info ? "registered" : "NOT registered"} ${w.endpoint ? w.endpoint.url : "(no endpoint)"}`),
          ]),
    );
  });
}
