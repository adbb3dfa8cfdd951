/**
 * What the SDK trusts about a chain before it has read anything from it (ARCHITECTURE §8):
 * the chain's genesis and the validator set it announces. Everything else is proven from
 * there. The caller names the anchor; a dev chain may be trusted on first use, but only when
 * asked for by name, and the client then says so.
 */
import { decodeSs58, fromHex, HexError } from "@phala-ts/primitives";
import type { ValidatorSetValue } from "@phala-ts/runtime/consensus";
import { PhalaSdkError, errorMessage } from "./errors.ts";
import { idBytes, type IdLike } from "./ids.ts";

/** One validator of a set, as given by a caller: an ed25519 key (SS58 or 0x hex) and its voting power. */
export interface ValidatorInput {
  id: string | Uint8Array;
  power: number | bigint;
}

export type TrustAnchor =
  /** The genesis hash, from a source the caller trusts; the validator set comes from the genesis header and is checked against `validators` when given. */
  | { genesisHash: IdLike; validators?: readonly ValidatorInput[] }
  /** A chain spec (JSON, as `phala node --chain` takes or prints): its genesis validators are the anchor. */
  | { chainSpec: unknown }
  /** Take the node's genesis as it comes. For dev chains only: an RPC node that lies from the start is believed. */
  | { trustOnFirstUse: true };

export type TrustMode = "genesis-hash" | "chain-spec" | "trust-on-first-use";

/** What an anchor pins before the genesis header is read. */
export interface ResolvedAnchor {
  mode: TrustMode;
  genesisHash: Uint8Array | undefined;
  /** Set 0 as the anchor gives it; undefined when the genesis header is the only source. */
  validators: ValidatorSetValue | undefined;
}

function anchorError(message: string, cause?: unknown): PhalaSdkError {
  return new PhalaSdkError("INVALID_ARGUMENT", "sdk", message, cause === undefined ? {} : { cause });
}

function validatorKey(id: string | Uint8Array, i: number): Uint8Array {
  if (id instanceof Uint8Array) {
    if (id.length !== 32) throw anchorError(`validator ${i} must be a 32-byte ed25519 public key`);
    return id;
  }
  try {
    const key = id.startsWith("0x") ? fromHex(id) : decodeSs58(id).publicKey;
    if (key.length !== 32) throw new HexError(`${key.length} bytes`);
    return key;
  } catch (e) {
    throw anchorError(`validator ${i} (${id}) is neither an SS58 address nor 0x-prefixed 32-byte hex: ${errorMessage(e)}`, e);
  }
}

function validatorSetOf(list: unknown, where: string): ValidatorSetValue {
  if (!Array.isArray(list) || list.length === 0) throw anchorError(`${where} lists no validators; the trust anchor needs the genesis validator set`);
  const validators = list.map((v: unknown, i) => {
    const o = v as { id?: unknown; power?: unknown } | null;
    if (typeof o?.id !== "string" && !(o?.id instanceof Uint8Array)) throw anchorError(`${where}: validator ${i} has no id`);
    const power = o.power;
    if (!(typeof power === "bigint" || (typeof power === "number" && Number.isSafeInteger(power))) || BigInt(power) <= 0n) {
      throw anchorError(`${where}: validator ${i} needs a positive integer power`);
    }
    return { public_key: validatorKey(o.id, i), power: BigInt(power) };
  });
  return { set_id: 0n, validators };
}

export function resolveAnchor(anchor: TrustAnchor | undefined): ResolvedAnchor {
  if (anchor === undefined || anchor === null || typeof anchor !== "object") {
    throw anchorError(
      "say which chain to trust: { trust: { chainSpec } } with the chain's spec, { trust: { genesisHash } }, or, for a dev chain only, { trust: { trustOnFirstUse: true } }; an RPC node is never trusted by itself",
    );
  }
  if ("trustOnFirstUse" in anchor) {
    if (anchor.trustOnFirstUse !== true) throw anchorError("trustOnFirstUse must be true when given");
    return { mode: "trust-on-first-use", genesisHash: undefined, validators: undefined };
  }
  if ("chainSpec" in anchor) {
    let spec = anchor.chainSpec;
    if (typeof spec === "string") {
      try {
        spec = JSON.parse(spec);
      } catch (e) {
        throw anchorError(`the chain spec is not JSON: ${errorMessage(e)}`, e);
      }
    }
    const patch = (spec as { genesis?: { runtimeGenesis?: { patch?: { validators?: unknown } } } } | null)?.genesis?.runtimeGenesis?.patch;
    return { mode: "chain-spec", genesisHash: undefined, validators: validatorSetOf(patch?.validators, "the chain spec's genesis.runtimeGenesis.patch.validators") };
  }
  if ("genesisHash" in anchor) {
    const genesisHash = idBytes(anchor.genesisHash, "genesis hash");
    return { mode: "genesis-hash", genesisHash, validators: anchor.validators === undefined ? undefined : validatorSetOf(anchor.validators, "validators") };
  }
  throw anchorError("the trust anchor must have chainSpec, genesisHash or trustOnFirstUse");
}

/** Same validators with the same powers in the same order (indices are what precommits name). */
export function sameValidatorSet(a: ValidatorSetValue, b: ValidatorSetValue): boolean {
  if (a.set_id !== b.set_id || a.validators.length !== b.validators.length) return false;
  return a.validators.every((v, i) => {
    const w = b.validators[i];
    return v.power === w.power && v.public_key.length === w.public_key.length && v.public_key.every((x, j) => x === w.public_key[j]);
  });
}
