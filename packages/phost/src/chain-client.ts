import { HexError, fromHex, toHex } from "@phala-ts/primitives";
import { PhostError } from "./errors.ts";
import type { RpcClient } from "./rpc-client.ts";

/** The node's runtime version fields a signed extrinsic commits to. */
export interface ChainRuntimeVersion {
  specVersion: number;
  transactionVersion: number;
}

function bad(method: string, what: string): PhostError<"NODE_BAD_RESPONSE"> {
  return new PhostError("NODE_BAD_RESPONSE", `${method} answered ${what}`, { details: { method } });
}

function hexResult(method: string, v: unknown, length?: number): Uint8Array {
  if (typeof v !== "string" || !v.startsWith("0x")) throw bad(method, "something that is not hex");
  let bytes: Uint8Array;
  try {
    // fromHex checks every character; a regex over a batch of megabytes cost as much again.
    bytes = fromHex(v);
  } catch (e) {
    if (e instanceof HexError) throw bad(method, "something that is not hex");
    throw e;
  }
  if (length !== undefined && bytes.length !== length) throw bad(method, `${bytes.length} bytes where ${length} were expected`);
  return bytes;
}

function u32Result(method: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 0xffff_ffff) throw bad(method, "something that is not a u32");
  return v;
}

/** A block number in a header's JSON: "0x…" as Substrate sends it (a plain number is accepted too). */
export function headerNumber(method: string, header: unknown): number {
  if (typeof header !== "object" || header === null) throw bad(method, "no header");
  const n = (header as Record<string, unknown>).number;
  if (typeof n === "number") return u32Result(method, n);
  if (typeof n !== "string" || !/^0x[0-9a-fA-F]{1,8}$/.test(n)) throw bad(method, "a header without a valid number");
  return parseInt(n, 16);
}

/** Extrinsics in one block body pHost looks through; far above what a block holds, so only a broken node hits it. */
export const BLOCK_EXTRINSICS_MAX = 100_000;

/**
 * The node methods pHost uses, with every answer checked at the boundary. Each method
 * throws the RpcClient's errors (NODE_UNAVAILABLE, NODE_TIMEOUT, NODE_RPC_ERROR) or
 * NODE_BAD_RESPONSE.
 */
export class ChainClient {
  constructor(readonly rpc: RpcClient) {}

  /** Height of the node's finalized head, read by polling. */
  async finalizedHeight(): Promise<number> {
    const hash = await this.rpc.request("chain_getFinalizedHead");
    const hashHex = toHex(hexResult("chain_getFinalizedHead", hash, 32));
    const header = await this.rpc.request("chain_getHeader", [hashHex]);
    return headerNumber("chain_getHeader", header);
  }

  async genesisHash(): Promise<Uint8Array> {
    const v = await this.rpc.request("chain_getBlockHash", [0]);
    if (v === null) throw bad("chain_getBlockHash", "null for block 0");
    return hexResult("chain_getBlockHash", v, 32);
  }

  /** SCALE genesis header (contract: `phala_getGenesisHeader`). */
  async genesisHeader(): Promise<Uint8Array> {
    return hexResult("phala_getGenesisHeader", await this.rpc.request("phala_getGenesisHeader"));
  }

  /** SCALE SyncBatch of finalized blocks from `from` (contract: `phala_getSyncBatch`). */
  async syncBatch(from: number, maxBlocks: number): Promise<Uint8Array> {
    return hexResult("phala_getSyncBatch", await this.rpc.request("phala_getSyncBatch", [from, maxBlocks]));
  }

  async runtimeVersion(): Promise<ChainRuntimeVersion> {
    const v = await this.rpc.request("state_getRuntimeVersion");
    if (typeof v !== "object" || v === null) throw bad("state_getRuntimeVersion", "no runtime version");
    const r = v as Record<string, unknown>;
    return {
      specVersion: u32Result("state_getRuntimeVersion", r.specVersion),
      transactionVersion: u32Result("state_getRuntimeVersion", r.transactionVersion),
    };
  }

  /** Next nonce of an account, counting its transactions waiting in the pool. */
  async accountNextIndex(accountId: Uint8Array): Promise<number> {
    return u32Result("system_accountNextIndex", await this.rpc.request("system_accountNextIndex", [toHex(accountId)]));
  }

  /** A storage value at the finalized head (or at block `at`), or undefined when the key is absent. */
  async storage(key: Uint8Array, at?: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.rpc.request("state_getStorage", at === undefined ? [toHex(key)] : [toHex(key), toHex(at)]);
    if (v === null || v === undefined) return undefined;
    return hexResult("state_getStorage", v);
  }

  /** Hash of the block at `height` on the node's chain, or undefined when it has none there yet. */
  async blockHash(height: number): Promise<Uint8Array | undefined> {
    const v = await this.rpc.request("chain_getBlockHash", [height]);
    if (v === null || v === undefined) return undefined;
    return hexResult("chain_getBlockHash", v, 32);
  }

  /** The encoded extrinsics of a block, in order (their index is the ApplyExtrinsic phase of their events). */
  async blockExtrinsics(blockHash: Uint8Array): Promise<Uint8Array[]> {
    const method = "chain_getBlock";
    const v = await this.rpc.request(method, [toHex(blockHash)]);
    if (typeof v !== "object" || v === null) throw bad(method, `no block ${toHex(blockHash)}`);
    const block = (v as Record<string, unknown>).block;
    const xts = typeof block === "object" && block !== null ? (block as Record<string, unknown>).extrinsics : undefined;
    if (!Array.isArray(xts)) throw bad(method, "a block without an extrinsics list");
    if (xts.length > BLOCK_EXTRINSICS_MAX) throw bad(method, `${xts.length} extrinsics, more than ${BLOCK_EXTRINSICS_MAX}`);
    return xts.map((x) => hexResult(method, x));
  }

  /** Submits an encoded extrinsic; resolves with its hash, throws NodeRpcError when the pool refuses it. */
  async submitExtrinsic(bytes: Uint8Array): Promise<Uint8Array> {
    return hexResult("author_submitExtrinsic", await this.rpc.request("author_submitExtrinsic", [toHex(bytes)]), 32);
  }
}
