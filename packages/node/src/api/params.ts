import { decodeSs58, fromHex, HexError, toHex } from "@phala-ts/primitives";
import { RpcError } from "../rpc/index.ts";
import type { Chain, HeaderInfo } from "../chain.ts";
import { DigestItem, FINALITY_ENGINE_ID } from "@phala-ts/runtime/consensus";

export const INVALID_PARAMS = -32602;

export function invalidParams(message: string): RpcError {
  return new RpcError(INVALID_PARAMS, message);
}

export function hexParam(v: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof v !== "string" || !v.startsWith("0x")) throw invalidParams(`${what} must be 0x-prefixed hex`);
  if ((v.length - 2) / 2 > maxBytes) throw invalidParams(`${what} is longer than ${maxBytes} bytes`);
  try {
    return fromHex(v);
  } catch (e) {
    if (e instanceof HexError) throw invalidParams(`${what} must be 0x-prefixed hex`);
    throw e;
  }
}

export function optionalHash(v: unknown, what = "block hash"): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  const h = hexParam(v, what, 32);
  if (h.length !== 32) throw invalidParams(`${what} must be 32 bytes`);
  return h;
}

/** The header a hash names (the finalized head when absent); throws a clear RPC error when unknown. */
export function headerAt(chain: Chain, v: unknown): HeaderInfo {
  const hash = optionalHash(v);
  if (!hash) return chain.finalized;
  const h = chain.headerByHash(hash);
  if (!h) throw new RpcError(4003, `Client error: UnknownBlock: block ${toHex(hash)} is not known to this node`);
  return h;
}

export function accountParam(v: unknown): Uint8Array {
  if (typeof v !== "string") throw invalidParams("account must be an SS58 address or 0x-prefixed 32-byte hex");
  if (v.startsWith("0x")) {
    const b = hexParam(v, "account", 32);
    if (b.length !== 32) throw invalidParams("account must be 32 bytes");
    return b;
  }
  try {
    return decodeSs58(v).publicKey;
  } catch (e) {
    throw invalidParams(`account: ${(e as Error).message}`);
  }
}

export function headerJson(h: HeaderInfo) {
  return {
    parentHash: toHex(h.parentHash),
    number: "0x" + h.number.toString(16),
    stateRoot: toHex(h.stateRoot),
    extrinsicsRoot: toHex(h.extrinsicsRoot),
    digest: { logs: digestLogs(h) },
  };
}

/** SCALE of each digest item, as Substrate's header JSON lists them. */
function digestLogs(h: HeaderInfo): string[] {
  return h.digests.map((d) => toHex(DigestItem.codec.enc(d)));
}

export function justificationsJson(chain: Chain, hash: Uint8Array): Array<[number[], number[]]> | null {
  const j = chain.justification(hash);
  if (!j) return null;
  return [[[...new TextEncoder().encode(FINALITY_ENGINE_ID)], [...j]]];
}
