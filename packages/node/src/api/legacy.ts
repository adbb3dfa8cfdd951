import { blake2b256, bytesEqual, concatBytes, toHex, u32le } from "@phala-ts/primitives";
import { RuntimeDispatchInfo } from "@phala-ts/runtime/types";
import { RuntimeApiError, SystemStorage, MAX_EXTRINSIC_BYTES, RUNTIME_VERSION, type RuntimeVersionValue } from "@phala-ts/runtime";
import { RpcError, type RpcContext, type RpcServer } from "../rpc/index.ts";
import { ChainError } from "../chain.ts";
import { PoolError, type TxStatus } from "../pool/tx-pool.ts";
import type { NodeService } from "../service.ts";
import { accountParam, headerAt, headerJson, hexParam, invalidParams, justificationsJson, optionalHash } from "./params.ts";

export const NODE_NAME = "phala-ts";
export const NODE_VERSION = "0.1.0";
/** Substrate caps state_getKeysPaged at 1000 keys per call. */
export const KEYS_PAGED_COUNT_MAX = 1000;
export const STORAGE_KEYS_PER_CALL_MAX = 1000;
export const STORAGE_KEY_BYTES_MAX = 1024;
export const BLOCK_HASH_LIST_MAX = 1000;

export function runtimeVersionJson(v: RuntimeVersionValue) {
  return {
    specName: v.spec_name,
    implName: v.impl_name,
    authoringVersion: v.authoring_version,
    specVersion: v.spec_version,
    implVersion: v.impl_version,
    apis: v.apis.map(([id, ver]) => [toHex(id), ver]),
    transactionVersion: v.transaction_version,
    stateVersion: v.system_version,
  };
}

/** Maps chain and runtime errors to JSON-RPC errors with Substrate's codes. */
export function clientError(e: unknown): never {
  if (e instanceof RpcError) throw e;
  if (e instanceof ChainError) throw new RpcError(4003, `Client error: ${e.message}`);
  if (e instanceof RuntimeApiError) throw new RpcError(4003, `Client error: Execution failed: ${e.message}`);
  if (e instanceof PoolError) throw new RpcError(e.rpcCode, e.rpcCode === 1001 ? e.message : e.message.split(":")[0], e.data);
  throw e;
}

export function legacyStatus(s: TxStatus): unknown {
  switch (s.type) {
    case "future":
    case "ready":
    case "dropped":
    case "invalid":
      return s.type;
    case "inBlock":
      return { inBlock: toHex(s.blockHash) };
    case "finalized":
      return { finalized: toHex(s.blockHash) };
    case "usurped":
      return { usurped: toHex(s.by) };
  }
}

function storageKeys(v: unknown): Uint8Array[] {
  if (!Array.isArray(v)) throw invalidParams("keys must be an array of hex storage keys");
  if (v.length > STORAGE_KEYS_PER_CALL_MAX) throw invalidParams(`at most ${STORAGE_KEYS_PER_CALL_MAX} keys per call`);
  return v.map((k, i) => hexParam(k, `keys[${i}]`, STORAGE_KEY_BYTES_MAX));
}

/** Substrate's legacy RPC: system_*, chain_*, state_*, author_*, payment_*. */
export function registerLegacyRpc(rpc: RpcServer, node: NodeService): void {
  const { chain } = node;
  const spec = node.options.spec.json;
  const wrap =
    <A extends unknown[]>(f: (p: unknown[], ...rest: A) => unknown) =>
    (p: unknown[], ...rest: A) => {
      try {
        return f(p, ...rest);
      } catch (e) {
        clientError(e);
      }
    };

  rpc.register("system_name", () => NODE_NAME);
  rpc.register("system_version", () => NODE_VERSION);
  rpc.register("system_chain", () => spec.name);
  rpc.register("system_chainType", () => spec.chainType);
  rpc.register("system_properties", () => spec.properties);
  rpc.register("system_health", () => ({ peers: 0, isSyncing: false, shouldHavePeers: false }));
  rpc.register("system_nodeRoles", () => [node.author ? "Authority" : "Full"]);
  rpc.register("system_peers", () => []);
  rpc.register("system_localListenAddresses", () => []);
  rpc.register("system_syncState", () => ({ startingBlock: 0, currentBlock: chain.finalized.number, highestBlock: chain.finalized.number }));
  rpc.register(
    "system_accountNextIndex",
    wrap((p) => {
      const who = accountParam(p[0]);
      const onChain = SystemStorage.Account.get(chain.stateAt(chain.finalized.hash), who).nonce;
      return node.pool.nextNonce(who, onChain);
    }),
  );

  const blockHashAt = (n: unknown): string | null => {
    const num = typeof n === "string" && /^0x[0-9a-fA-F]{1,13}$/.test(n) ? parseInt(n, 16) : n;
    if (typeof num !== "number" || !Number.isSafeInteger(num) || num < 0) throw invalidParams("block number must be a non-negative integer or hex string");
    const h = chain.headerByNumber(num);
    return h ? toHex(h.hash) : null;
  };
  rpc.register(
    "chain_getBlockHash",
    wrap((p) => {
      const n = p[0];
      if (n === undefined || n === null) return toHex(chain.finalized.hash);
      // Substrate takes ListOrValue<NumberOrHex>: a list gives a list.
      if (Array.isArray(n)) {
        if (n.length > BLOCK_HASH_LIST_MAX) throw invalidParams(`at most ${BLOCK_HASH_LIST_MAX} block numbers per call`);
        return n.map(blockHashAt);
      }
      return blockHashAt(n);
    }),
  );
  rpc.registerAlias("chain_getHead", "chain_getBlockHash");
  rpc.register("chain_getFinalizedHead", () => toHex(chain.finalized.hash));
  rpc.registerAlias("chain_getFinalisedHead", "chain_getFinalizedHead");
  rpc.register(
    "chain_getHeader",
    wrap((p) => {
      const hash = optionalHash(p[0]);
      const h = hash ? chain.headerByHash(hash) : chain.finalized;
      return h ? headerJson(h) : null;
    }),
  );
  rpc.register(
    "chain_getBlock",
    wrap((p) => {
      const hash = optionalHash(p[0]);
      const h = hash ? chain.headerByHash(hash) : chain.finalized;
      if (!h) return null;
      return { block: { header: headerJson(h), extrinsics: (chain.body(h.hash) ?? []).map(toHex) }, justifications: justificationsJson(chain, h.hash) };
    }),
  );

  const headSubscription = (notification: string, unsub: string[]) => (_p: unknown[], ctx: RpcContext) => {
    const sink = ctx.subscribe(notification, unsub);
    sink.notify(headerJson(chain.finalized));
    const off = node.onBlock((b) => sink.notify(headerJson(b.header)));
    sink.onClose(off);
    return sink.id;
  };
  rpc.register("chain_subscribeNewHeads", headSubscription("chain_newHead", ["chain_unsubscribeNewHeads", "chain_unsubscribeNewHead"]));
  rpc.registerAlias("chain_subscribeNewHead", "chain_subscribeNewHeads");
  rpc.register("chain_subscribeFinalizedHeads", headSubscription("chain_finalizedHead", ["chain_unsubscribeFinalizedHeads", "chain_unsubscribeFinalisedHeads"]));
  rpc.registerAlias("chain_subscribeFinalisedHeads", "chain_subscribeFinalizedHeads");
  rpc.register("chain_subscribeAllHeads", headSubscription("chain_allHead", ["chain_unsubscribeAllHeads"]));

  rpc.register("state_getRuntimeVersion", wrap((p) => (headerAt(chain, p[0]), runtimeVersionJson(chain.runtime.version))));
  rpc.registerAlias("chain_getRuntimeVersion", "state_getRuntimeVersion");
  rpc.register("state_subscribeRuntimeVersion", (_p, ctx) => {
    const sink = ctx.subscribe("state_runtimeVersion", ["state_unsubscribeRuntimeVersion"]);
    sink.notify(runtimeVersionJson(RUNTIME_VERSION));
    return sink.id;
  });
  rpc.registerAlias("chain_subscribeRuntimeVersion", "state_subscribeRuntimeVersion");
  rpc.register("state_getMetadata", wrap((p) => (headerAt(chain, p[0]), toHex(chain.metadata(14)!))));
  rpc.register(
    "state_call",
    wrap((p) => {
      if (typeof p[0] !== "string") throw invalidParams("method name must be a string");
      const data = hexParam(p[1] ?? "0x", "call data", MAX_EXTRINSIC_BYTES * 2);
      const h = headerAt(chain, p[2]);
      return toHex(chain.callApi(h.hash, p[0], data));
    }),
  );
  rpc.registerAlias("state_callAt", "state_call");
  const getStorage = (p: unknown[]) => {
    const key = hexParam(p[0], "storage key", STORAGE_KEY_BYTES_MAX);
    const v = chain.stateAt(headerAt(chain, p[1]).hash).get(key);
    return v === undefined ? null : v;
  };
  rpc.register("state_getStorage", wrap((p) => {
    const v = getStorage(p);
    return v === null ? null : toHex(v);
  }));
  rpc.registerAlias("state_getStorageAt", "state_getStorage");
  rpc.register("state_getStorageHash", wrap((p) => {
    const v = getStorage(p);
    return v === null ? null : toHex(blake2b256(v));
  }));
  rpc.register("state_getStorageSize", wrap((p) => {
    const v = getStorage(p);
    return v === null ? null : v.length;
  }));
  rpc.register(
    "state_queryStorageAt",
    wrap((p) => {
      const keys = storageKeys(p[0]);
      const h = headerAt(chain, p[1]);
      const state = chain.stateAt(h.hash);
      return [{ block: toHex(h.hash), changes: keys.map((k) => [toHex(k), ((v) => (v === undefined ? null : toHex(v)))(state.get(k))]) }];
    }),
  );
  rpc.register(
    "state_getKeysPaged",
    wrap((p) => {
      const prefix = hexParam(p[0] ?? "0x", "prefix", STORAGE_KEY_BYTES_MAX);
      const count = p[1];
      if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) throw invalidParams("count must be a non-negative integer");
      if (count > KEYS_PAGED_COUNT_MAX) throw new RpcError(4002, `count exceeds maximum value. value: ${count}, max: ${KEYS_PAGED_COUNT_MAX}`);
      const startKey = p[2] === undefined || p[2] === null ? undefined : hexParam(p[2], "start key", STORAGE_KEY_BYTES_MAX);
      const h = headerAt(chain, p[3]);
      return chain.trie.keys(chain.stateAt(h.hash).root, { prefix, startKey, limit: count }).map(toHex);
    }),
  );
  rpc.registerAlias("state_getKeysPagedAt", "state_getKeysPaged");
  rpc.register(
    "state_getReadProof",
    wrap((p) => {
      const keys = storageKeys(p[0]);
      const h = headerAt(chain, p[1]);
      return { at: toHex(h.hash), proof: chain.trie.prove(chain.stateAt(h.hash).root, keys).map(toHex) };
    }),
  );
  rpc.register(
    "state_subscribeStorage",
    wrap((p, ctx: RpcContext) => {
      const keys = p[0] === undefined || p[0] === null ? undefined : storageKeys(p[0]);
      if (!keys || keys.length === 0) throw invalidParams("state_subscribeStorage needs a list of keys; subscribing to every change is not supported");
      const sink = ctx.subscribe("state_storage", ["state_unsubscribeStorage"]);
      let last = new Map<string, Uint8Array | undefined>();
      const push = (hash: Uint8Array, initial: boolean) => {
        const state = chain.stateAt(hash);
        const now = new Map(keys.map((k) => [toHex(k), state.get(k)]));
        const changes: Array<[string, string | null]> = [];
        for (const [k, v] of now) {
          const before = last.get(k);
          const same = before === undefined ? v === undefined : v !== undefined && bytesEqual(before, v);
          if (initial || !same) changes.push([k, v === undefined ? null : toHex(v)]);
        }
        last = now;
        if (changes.length) sink.notify({ block: toHex(hash), changes });
      };
      push(chain.finalized.hash, true);
      sink.onClose(node.onBlock((b) => push(b.header.hash, false)));
      return sink.id;
    }),
  );

  rpc.register("author_submitExtrinsic", async (p) => {
    const bytes = hexParam(p[0], "extrinsic", MAX_EXTRINSIC_BYTES);
    try {
      return toHex(await node.submit(bytes));
    } catch (e) {
      clientError(e);
    }
  });
  rpc.register("author_submitAndWatchExtrinsic", async (p, ctx) => {
    const bytes = hexParam(p[0], "extrinsic", MAX_EXTRINSIC_BYTES);
    const sink = ctx.subscribe("author_extrinsicUpdate", ["author_unwatchExtrinsic"]);
    try {
      await node.submit(bytes, (s) => {
        sink.notify(legacyStatus(s));
        if (s.type === "finalized" || s.type === "dropped" || s.type === "invalid" || s.type === "usurped") sink.close();
      });
    } catch (e) {
      sink.close();
      clientError(e);
    }
    return sink.id;
  });
  rpc.register("author_pendingExtrinsics", () => node.pool.pending().map(toHex));

  const queryInfo = (p: unknown[]) => {
    const tx = hexParam(p[0], "extrinsic", MAX_EXTRINSIC_BYTES);
    const h = headerAt(chain, p[1]);
    return { out: chain.callApi(h.hash, "TransactionPaymentApi_query_info", concatBytes(tx, u32le(tx.length))) };
  };
  rpc.register(
    "payment_queryInfo",
    wrap((p) => {
      return decodeDispatchInfo(queryInfo(p).out);
    }),
  );
  rpc.register("rpc_methods", () => ({ version: 1, methods: rpc.methods() }));
}

function decodeDispatchInfo(out: Uint8Array) {
  const v = RuntimeDispatchInfo.codec.dec(out);
  return {
    weight: { refTime: Number(v.weight.ref_time), proofSize: Number(v.weight.proof_size) },
    class: v.class.tag.toLowerCase(),
    partialFee: v.partial_fee.toString(),
  };
}
