/**
 * `phala account`: dev keys, addresses and balances; `phala account deposit`: PHA into a
 * cluster to pay for contract gas. Also the pieces every SDK-backed command shares: the
 * node flag, the signer, PHA amounts, and output that is JSON on stdout under --json.
 */
import { DEV_ACCOUNT_NAMES, KEY_TYPES, decodeSs58, encodeSs58, fromHex, keyPairFromUri, toHex, type KeyPair, type KeyType } from "@phala-ts/primitives";
import { PHA, SS58_PREFIX } from "@phala-ts/runtime";
import { PhalaClient, PhalaSdkError, type TrustAnchor } from "@phala-ts/sdk";
import { DEFAULT_RPC_PORT, loadChainSpec } from "@phala-ts/node";
import { UsageError, parseFlags } from "./args.ts";

export const DEFAULT_NODE_URL = `ws://127.0.0.1:${DEFAULT_RPC_PORT}`;
const PHA_DECIMALS = 12;

/** Flags every SDK-backed command takes. */
export const COMMON_STRING_FLAGS = ["node", "suri", "key-type", "chain"] as const;
export const COMMON_BOOLEAN_FLAGS = ["json", "trust-on-first-use"] as const;

export const COMMON_HELP = `  --node <ws url>        the node to talk to (default ${DEFAULT_NODE_URL})
  --suri <secret uri>    the signing account: //Alice … //Ferdie, a mnemonic or 0x seed (default //Alice)
  --key-type <type>      ${KEY_TYPES.join(", ")} (default sr25519)
  --chain <dev|local|spec.json>
                         the chain to trust: everything the node says is verified against its
                         genesis validators (default dev, the chain of phala dev and phala node --dev)
  --trust-on-first-use   take the chain's genesis from the node instead (dev chains only: a node
                         that lies from the start is believed)
  --json                 print one JSON object on stdout and nothing else`;

export const ACCOUNT_HELP = `phala account: dev keys and balances

  phala account [--suri <uri>]        the account's address (SS58, prefix ${SS58_PREFIX}) and PHA balance;
                                      without --suri, all dev accounts //Alice … //Ferdie
  phala account deposit --cluster <id> --amount <pha> [--to <address>] [--suri <uri>]
                                      lock PHA on chain and credit it inside the cluster (to the signer,
                                      or --to), where contract gas and storage deposits are paid from

${COMMON_HELP}
`;

export type Flags = Map<string, string | true>;

export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function nodeUrl(flags: Flags): string {
  const url = stringFlag(flags, "node") ?? DEFAULT_NODE_URL;
  if (!/^wss?:\/\/[^\s]+$/.test(url)) throw new UsageError(`--node must be a ws:// or wss:// address such as ${DEFAULT_NODE_URL}`);
  return url;
}

/** What the client trusts: the chain spec's genesis validators, or the node on first use when asked by name. */
export function trustAnchor(flags: Flags): TrustAnchor {
  if (flags.has("trust-on-first-use")) {
    if (flags.has("chain")) throw new UsageError("--chain and --trust-on-first-use exclude each other: trust the chain spec, or the node");
    return { trustOnFirstUse: true };
  }
  const chain = stringFlag(flags, "chain") ?? "dev";
  try {
    return { chainSpec: loadChainSpec(chain).json };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function keyType(flags: Flags): KeyType {
  const t = stringFlag(flags, "key-type") ?? "sr25519";
  if (!(KEY_TYPES as readonly string[]).includes(t)) throw new UsageError(`--key-type must be one of ${KEY_TYPES.join(", ")}`);
  return t as KeyType;
}

export function signer(flags: Flags): KeyPair {
  const suri = stringFlag(flags, "suri") ?? "//Alice";
  try {
    return keyPairFromUri(suri, keyType(flags));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--suri is not a usable secret URI (${(e as Error).message}); use //Alice … //Ferdie, a mnemonic or a 0x seed`);
  }
}

/** "12.5" PHA → plancks; at most 12 decimals. */
export function parsePha(text: string, flag: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,12}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} must be an amount of PHA such as 10 or 0.5 (at most ${PHA_DECIMALS} decimals)`);
  return BigInt(m[1]) * PHA + BigInt((m[2] ?? "").padEnd(PHA_DECIMALS, "0"));
}

/** Plancks → "12.5 PHA". */
export function formatPha(plancks: bigint): string {
  const whole = plancks / PHA;
  const frac = (plancks % PHA).toString().padStart(PHA_DECIMALS, "0").replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} PHA`;
}

/** A 32-byte id given as 0x hex (cluster, contract, worker). */
export function idArg(text: string | undefined, what: string, flag: string): string {
  if (text === undefined || !/^0x[0-9a-fA-F]{64}$/.test(text)) throw new UsageError(`${flag} must be the ${what}: 0x followed by 64 hex digits`);
  return text.toLowerCase();
}

/** An account as an SS58 address or 0x hex AccountId32. */
export function accountArg(text: string, flag: string): Uint8Array {
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) return fromHex(text);
  try {
    return decodeSs58(text).publicKey;
  } catch {
    throw new UsageError(`${flag} must be an SS58 address or 0x followed by 64 hex digits`);
  }
}

export function address(accountId: Uint8Array): string {
  return encodeSs58(accountId, SS58_PREFIX);
}

/** JSON with bigints as decimal strings and bytes as 0x hex. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? toHex(v) : v), 2);
}

/** Prints the result: JSON alone under --json, else the human lines. */
export function print(json: boolean, value: unknown, human: () => string[]): void {
  process.stdout.write(json ? toJson(value) + "\n" : human().join("\n") + "\n");
}

/** A progress line for people; nothing under --json, so stdout stays one JSON object. */
export function progress(json: boolean, line: string): void {
  if (!json) process.stdout.write(line + "\n");
}

/**
 * Runs `f` with a client and turns SDK errors into CLI errors that name where the failure
 * is (chain, worker, contract, gas); under --json the error is also printed as JSON on stdout.
 */
export async function withClient<T>(flags: Flags, f: (client: PhalaClient) => Promise<T>): Promise<T> {
  const json = flags.has("json");
  const url = nodeUrl(flags);
  let client: PhalaClient | undefined;
  try {
    client = await PhalaClient.connect(url, { trust: trustAnchor(flags) });
    if (client.trust === "trust-on-first-use" && !json) process.stderr.write("warning: the chain's genesis was taken from the node on first use (--trust-on-first-use); nothing proves it is the chain you meant\n");
    return await f(client);
  } catch (e) {
    if (json) {
      const err = e as Error & { code?: string; where?: string; details?: unknown };
      process.stdout.write(toJson({ error: { code: err.code ?? "ERROR", where: err.where ?? (e instanceof UsageError ? "usage" : "cli"), message: err.message, details: err.details } }) + "\n");
    }
    if (e instanceof PhalaSdkError) throw Object.assign(new Error(`(${e.where}) ${e.message}`, { cause: e }), { code: e.code });
    throw e;
  } finally {
    client?.close();
  }
}

/** Parses flags of an SDK-backed command: the common ones plus its own. */
export function parseCommandFlags(argv: string[], own: { boolean?: readonly string[]; string?: readonly string[] }) {
  return parseFlags(argv, { boolean: [...COMMON_BOOLEAN_FLAGS, ...(own.boolean ?? [])], string: [...COMMON_STRING_FLAGS, ...(own.string ?? [])] });
}

export async function runAccount(argv: string[]): Promise<void> {
  if (argv[0] === "deposit") return runDeposit(argv.slice(1));
  const { flags, positional } = parseCommandFlags(argv, {});
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}; did you mean 'phala account deposit'?`);
  const json = flags.has("json");
  const type = keyType(flags);
  const accounts: Array<{ name: string; key: KeyPair }> = flags.has("suri")
    ? [{ name: stringFlag(flags, "suri")!.startsWith("//") ? stringFlag(flags, "suri")! : "account", key: signer(flags) }]
    : DEV_ACCOUNT_NAMES.map((n) => ({ name: `//${n}`, key: keyPairFromUri(`//${n}`, type) }));
  await withClient(flags, async (client) => {
    const rows: Array<{ name: string; keyType: KeyType; address: string; accountId: string; nonce: number; free: bigint; reserved: bigint; frozen: bigint }> = [];
    for (const a of accounts) {
      const b = await client.account(a.key.accountId);
      rows.push({ name: a.name, keyType: a.key.type, address: address(a.key.accountId), accountId: toHex(a.key.accountId), nonce: b.nonce, free: b.free, reserved: b.reserved, frozen: b.frozen });
    }
    print(json, flags.has("suri") ? rows[0] : { accounts: rows }, () =>
      rows.flatMap((r) => [`${r.name} (${r.keyType})  ${r.address}`, `  free ${formatPha(r.free)}, reserved ${formatPha(r.reserved)}, nonce ${r.nonce}`]),
    );
  });
}

async function runDeposit(argv: string[]): Promise<void> {
  const { flags, positional } = parseCommandFlags(argv, { string: ["cluster", "amount", "to"] });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const json = flags.has("json");
  const cluster = idArg(stringFlag(flags, "cluster"), "cluster id (phala contract clusters lists them)", "--cluster");
  const amountText = stringFlag(flags, "amount");
  if (amountText === undefined) throw new UsageError("say how much PHA to deposit: --amount <pha>, e.g. --amount 10");
  const amount = parsePha(amountText, "amount");
  if (amount === 0n) throw new UsageError("--amount must be above 0");
  const key = signer(flags);
  const to = stringFlag(flags, "to");
  const dest = to === undefined ? key.accountId : accountArg(to, "--to");
  await withClient(flags, async (client) => {
    const included = await client.transferToCluster(key, { cluster, amount, dest });
    print(json, { cluster, from: address(key.accountId), to: address(dest), amount, blockNumber: included.blockNumber, blockHash: included.blockHash, extrinsic: included.hash }, () => [
      `deposited ${formatPha(amount)} into cluster ${cluster} for ${address(dest)} (block #${included.blockNumber})`,
    ]);
  });
}
