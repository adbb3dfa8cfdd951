import { readFileSync } from "node:fs";
import { decodeSs58, devAccount, encodeSs58, fromHex, type DevAccountName } from "@phala-ts/primitives";
import type { GenesisConfig } from "@phala-ts/runtime";
import type { ValidatorSetValue } from "@phala-ts/runtime/consensus";
import { decodePolicy, devPolicy, encodePolicy } from "@phala-ts/attestation";

/** A chain spec in Substrate's JSON shape, with a runtime genesis patch. */
export interface ChainSpecJson {
  name: string;
  id: string;
  chainType: "Development" | "Local" | "Live";
  bootNodes: string[];
  telemetryEndpoints: null;
  protocolId: string | null;
  properties: { ss58Format: number; tokenDecimals: number; tokenSymbol: string };
  codeSubstitutes: Record<string, string>;
  genesis: {
    runtimeGenesis: {
      code: string;
      patch: {
        balances: { balances: Array<[string, string | number]> };
        sudo?: { key: string };
        /** Finality validators: ed25519 public keys (SS58 or hex) with voting power. */
        validators: Array<{ id: string; power: number }>;
        /** Test chains accept dev attestation evidence; shown on status pages. Picks the default attestation policy. */
        devAttestation?: boolean;
        /** SCALE attestation policy as hex; overrides the default that `devAttestation` picks. */
        attestationPolicy?: string;
      };
    };
  };
}

export class ChainSpecError extends Error {
  readonly code = "INVALID_CHAIN_SPEC";
  constructor(message: string) {
    super(message);
    this.name = "ChainSpecError";
  }
}

export interface LoadedChainSpec {
  json: ChainSpecJson;
  genesis: GenesisConfig;
  validatorSet: ValidatorSetValue;
}

const DEV_ENDOWMENT = (1n << 60n).toString();
const ENDOWED: DevAccountName[] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

function devSpec(id: "dev" | "local"): ChainSpecJson {
  const addr = (n: DevAccountName, t: "sr25519" | "ed25519" = "sr25519") => encodeSs58(devAccount(n, t).accountId, 30);
  const validators = id === "dev" ? [{ id: addr("Alice", "ed25519"), power: 1 }] : [{ id: addr("Alice", "ed25519"), power: 1 }];
  return {
    name: id === "dev" ? "Phala Development" : "Phala Local Testnet",
    id,
    chainType: id === "dev" ? "Development" : "Local",
    bootNodes: [],
    telemetryEndpoints: null,
    protocolId: "pha",
    properties: { ss58Format: 30, tokenDecimals: 12, tokenSymbol: "PHA" },
    codeSubstitutes: {},
    genesis: {
      runtimeGenesis: {
        code: "0x",
        patch: {
          // sr25519 dev accounts as in Substrate, plus their ed25519 twins so ed25519 signers work out of the box.
          balances: {
            balances: [...ENDOWED.map((n) => [addr(n), DEV_ENDOWMENT] as [string, string]), ...ENDOWED.map((n) => [addr(n, "ed25519"), DEV_ENDOWMENT] as [string, string])],
          },
          sudo: { key: addr("Alice") },
          validators,
          // A local testnet stands in for production: only hardware evidence registers workers.
          devAttestation: id === "dev",
        },
      },
    },
  };
}

export const BUILTIN_CHAINS = ["dev", "local"] as const;

function account(s: string, what: string): Uint8Array {
  try {
    if (s.startsWith("0x")) {
      const b = fromHex(s);
      if (b.length !== 32) throw new Error("expected 32 bytes");
      return b;
    }
    return decodeSs58(s).publicKey;
  } catch (e) {
    throw new ChainSpecError(`${what}: "${s}" is neither an SS58 address nor 32 bytes of hex (${(e as Error).message})`);
  }
}

function amount(v: string | number, what: string): bigint {
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new ChainSpecError(`${what}: ${v} loses precision as a JSON number; write it as a string`);
  try {
    const a = BigInt(v);
    if (a < 0n || a >= 1n << 128n) throw new Error("out of range");
    return a;
  } catch {
    throw new ChainSpecError(`${what}: "${v}" is not a balance in plancks (a non-negative integer below 2^128)`);
  }
}

function attestationPolicyOf(patch: ChainSpecJson["genesis"]["runtimeGenesis"]["patch"]): Uint8Array {
  // Without an explicit policy: a dev chain takes everything, other chains every hardware TEE
  // (any measurement) but never dev evidence. Real networks list their measurements.
  if (patch.attestationPolicy === undefined) return encodePolicy(devPolicy(patch.devAttestation === true ? {} : { allowDev: false }));
  let bytes: Uint8Array;
  try {
    bytes = fromHex(patch.attestationPolicy);
    decodePolicy(bytes);
  } catch (e) {
    throw new ChainSpecError(`attestationPolicy is not a SCALE attestation policy in hex (${(e as Error).message})`);
  }
  if (patch.devAttestation !== true && decodePolicy(bytes).allowDev) {
    throw new ChainSpecError("attestationPolicy allows dev evidence but devAttestation is not set; a chain that accepts dev evidence must say so");
  }
  return bytes;
}

/** Validates a chain spec's JSON and derives the runtime genesis and validator set from it. */
export function parseChainSpec(json: unknown): LoadedChainSpec {
  const spec = json as ChainSpecJson;
  const patch = spec?.genesis?.runtimeGenesis?.patch;
  if (!spec || typeof spec.name !== "string" || typeof spec.id !== "string" || !patch) {
    throw new ChainSpecError("chain spec needs name, id and genesis.runtimeGenesis.patch");
  }
  if (!Array.isArray(patch.balances?.balances)) throw new ChainSpecError("genesis patch needs balances.balances: [[address, amount], …]");
  if (!Array.isArray(patch.validators) || patch.validators.length === 0) throw new ChainSpecError("genesis patch needs at least one validator");
  const genesis: GenesisConfig = {
    balances: patch.balances.balances.map(([who, v], i) => [account(who, `balances[${i}]`), amount(v, `balances[${i}]`)]),
    sudoKey: patch.sudo ? account(patch.sudo.key, "sudo.key") : undefined,
    attestationPolicy: attestationPolicyOf(patch),
  };
  const validatorSet: ValidatorSetValue = {
    set_id: 0n,
    validators: patch.validators.map((v, i) => {
      if (!Number.isSafeInteger(v.power) || v.power <= 0) throw new ChainSpecError(`validators[${i}].power must be a positive integer`);
      return { public_key: account(v.id, `validators[${i}]`), power: BigInt(v.power) };
    }),
  };
  return { json: spec, genesis, validatorSet };
}

/** `dev`, `local`, or a path to a JSON chain spec file. */
export function loadChainSpec(chain: string): LoadedChainSpec {
  if (chain === "dev" || chain === "local") return parseChainSpec(devSpec(chain));
  let text: string;
  try {
    text = readFileSync(chain, "utf8");
  } catch (e) {
    throw new ChainSpecError(`--chain ${chain}: not a built-in chain (${BUILTIN_CHAINS.join(", ")}) and the file cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ChainSpecError(`${chain}: not valid JSON (${(e as Error).message})`);
  }
  return parseChainSpec(json);
}

export function builtinChainSpecJson(id: "dev" | "local"): ChainSpecJson {
  return devSpec(id);
}

