import { concatByteList, toHex } from "@phala-ts/primitives";
import { encodeCompact } from "@phala-ts/runtime/types";
import { announcedValidatorSet, decodeHeader as decodeHeaderValue } from "@phala-ts/runtime/consensus";
import { SYNC_BATCH_BLOCKS_MAX } from "@phala-ts/runtime/phala";
import { RawJson, RpcError, type RpcServer } from "../rpc/index.ts";
import type { Chain } from "../chain.ts";
import type { NodeService } from "../service.ts";
import { headerAt, invalidParams } from "./params.ts";

function blockNumberParam(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 0xffff_ffff) throw invalidParams(`${what} must be a block number (a non-negative integer)`);
  return v;
}

/**
 * Finalized blocks `from..` for a pRuntime light client in one answer: headers, each block's
 * ingress messages with their read proof, and the commit certificate of the last one. The
 * batch stops after a header announcing a validator set, so the set that signs that
 * announcement is the one the light client already trusts.
 *
 * A SyncBlock is its header (as bytes) followed by the fields of the stored IngressRecord,
 * in the same order and encoding, so the stored record is spliced in as is.
 */
export function syncBatch(chain: Chain, from: number, maxBlocks: number): Uint8Array {
  const finalized = chain.finalized.number;
  if (from < 1) throw invalidParams("sync starts at block 1; the genesis header comes from phala_getGenesisHeader");
  if (from > finalized) throw new RpcError(4003, `Client error: block #${from} is not finalized yet (finalized is #${finalized})`);
  const last = Math.min(finalized, from + maxBlocks - 1);
  const parts: Uint8Array[] = [];
  let count = 0;
  let lastHash: Uint8Array | undefined;
  for (let n = from; n <= last; n++) {
    const hash = chain.db.hashAt(n);
    const header = hash && chain.db.header(hash);
    const ingress = chain.db.ingressAt(n);
    if (!hash || !header || !ingress) throw new RpcError(4003, `Client error: block #${n} or its ingress proof is missing from this node's database`);
    parts.push(encodeCompact(header.length), header, ingress);
    count++;
    lastHash = hash;
    if (announcedValidatorSet(decodeHeaderValue(header))) break;
  }
  const certificate = chain.justification(lastHash!);
  if (!certificate) throw new RpcError(4003, `Client error: block #${from + count - 1} has no finality certificate`);
  parts.unshift(encodeCompact(count));
  parts.push(encodeCompact(certificate.length), certificate);
  return concatByteList(parts);
}


/** Encoded batches kept: the pHosts of a node ask for the same new blocks, one after another. */
const SYNC_BATCH_CACHE_MAX = 16;

/** Set changes in one `phala_proveFinality` answer; a client that is further behind asks again from the last. */
export const FINALITY_PROOF_SET_CHANGES_MAX = 64;

function setIdParam(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw invalidParams("knownSetId must be a validator set id (a non-negative integer)");
  return BigInt(v);
}

/**
 * What a light client needs to trust a finalized block without downloading the chain: the
 * block's SCALE header and commit certificate, preceded by every header that announced a
 * validator set after `knownSetId` (up to the block), each with its own certificate by the
 * set before it (warp-sync style).
 */
export function finalityProof(chain: Chain, at: unknown, knownSet: unknown) {
  const h = headerAt(chain, at);
  const knownSetId = setIdParam(knownSet);
  const certified = (hash: Uint8Array, number: number) => {
    const header = chain.db.header(hash);
    const certificate = chain.justification(hash);
    if (!header || !certificate) throw new RpcError(4003, `Client error: block #${number} has no finality certificate on this node`);
    return { header: toHex(header), certificate: toHex(certificate) };
  };
  if (h.number === 0) throw invalidParams("the genesis block has no certificate; it is the trust anchor itself (phala_getGenesisHeader)");
  const setChanges = chain.db
    .setChangesAfter(knownSetId, FINALITY_PROOF_SET_CHANGES_MAX)
    .filter((n) => n <= h.number)
    .map((n) => {
      const hash = chain.db.hashAt(n);
      if (!hash) throw new RpcError(4003, `Client error: block #${n} is missing from this node's database`);
      return certified(hash, n);
    });
  return { ...certified(h.hash, h.number), setChanges };
}

/** Phala's own RPC methods: what pHost needs to feed pRuntime, and finality proofs for light clients. */
export function registerPhalaRpc(rpc: RpcServer, node: NodeService): void {
  rpc.register("phala_getGenesisHeader", () => toHex(node.chain.genesis.encoded));
  rpc.register("phala_proveFinality", (p: unknown[]) => finalityProof(node.chain, p[0], p[1]));
  // Finalized blocks never change, so a batch is the same for every pHost that asks.
  const batches = new Map<string, RawJson>();
  rpc.register("phala_getSyncBatch", (p: unknown[]) => {
    const from = blockNumberParam(p[0], "from");
    const max = p[1] === undefined ? 1000 : blockNumberParam(p[1], "maxBlocks");
    if (max < 1 || max > SYNC_BATCH_BLOCKS_MAX) throw invalidParams(`maxBlocks must be between 1 and ${SYNC_BATCH_BLOCKS_MAX}`);
    const key = `${from}:${Math.min(node.chain.finalized.number, from + max - 1)}`;
    const hit = batches.get(key);
    if (hit !== undefined) return hit;
    const encoded = RawJson.hex(toHex(syncBatch(node.chain, from, max)));
    if (batches.size >= SYNC_BATCH_CACHE_MAX) batches.delete(batches.keys().next().value!);
    batches.set(key, encoded);
    return encoded;
  });
}
