import { blake2b256 as blake, toHex } from "@phala-ts/primitives";
import { MAX_EXTRINSIC_BYTES, type RuntimeVersionValue } from "@phala-ts/runtime";
import { closestDescendantMerkleValue } from "@phala-ts/trie";
import { RpcError, type RpcServer, type SubscriptionSink } from "../rpc/index.ts";
import type { NodeService } from "../service.ts";
import { hexParam, invalidParams } from "./params.ts";
import { STORAGE_KEY_BYTES_MAX } from "./legacy.ts";

/** Blocks one follow subscription may keep pinned before it is stopped, as the spec allows. */
export const CHAIN_HEAD_PINNED_BLOCKS_MAX = 512;
/** Concurrent operations per follow subscription; more get `limitReached`. */
export const CHAIN_HEAD_OPERATIONS_MAX = 16;
/** Items sent per operationStorageItems event before waiting for chainHead_v1_continue. */
export const CHAIN_HEAD_STORAGE_ITEMS_PER_EVENT = 256;
export const CHAIN_HEAD_STORAGE_QUERY_ITEMS_MAX = 1024;
export const CHAIN_HEAD_FOLLOWS_PER_CONNECTION_MAX = 2;

interface Operation {
  id: string;
  /** Resumes a paused descendants query; undefined when nothing waits. */
  resume: (() => void) | undefined;
  stopped: boolean;
}

interface Follow {
  sink: SubscriptionSink;
  pinned: Map<string, Uint8Array>;
  operations: Map<string, Operation>;
  nextOp: number;
}

export function runtimeSpecJson(v: RuntimeVersionValue) {
  return {
    specName: v.spec_name,
    implName: v.impl_name,
    specVersion: v.spec_version,
    implVersion: v.impl_version,
    transactionVersion: v.transaction_version,
    apis: Object.fromEntries(v.apis.map(([id, ver]) => [toHex(id), ver])),
  };
}

type StorageQueryType = "value" | "hash" | "closestDescendantMerkleValue" | "descendantsValues" | "descendantsHashes";
const QUERY_TYPES = new Set<StorageQueryType>(["value", "hash", "closestDescendantMerkleValue", "descendantsValues", "descendantsHashes"]);

/** The new JSON-RPC spec's chainHead_v1 group, on a chain where every block is final. */
export function registerChainHeadRpc(rpc: RpcServer, node: NodeService): void {
  const { chain } = node;
  const follows = new Map<string, Follow>();
  const perConnection = new Map<number, number>();

  const deferred = (f: () => void) => setImmediate(f);

  const follow = (sub: unknown): Follow | undefined => (typeof sub === "string" ? follows.get(sub) : undefined);
  const pinnedHash = (f: Follow, h: unknown): Uint8Array => {
    const hash = hexParam(h, "block hash", 32);
    const pinned = f.pinned.get(toHex(hash));
    if (!pinned) throw invalidParams(`block ${toHex(hash)} is not pinned by this follow subscription`);
    return pinned;
  };
  const startOperation = (f: Follow): Operation | undefined => {
    if (f.operations.size >= CHAIN_HEAD_OPERATIONS_MAX) return undefined;
    const op: Operation = { id: String(f.nextOp++), resume: undefined, stopped: false };
    f.operations.set(op.id, op);
    return op;
  };
  const endOperation = (f: Follow, op: Operation) => f.operations.delete(op.id);

  rpc.register("chainHead_v1_follow", (p, ctx) => {
    if (typeof p[0] !== "boolean") throw invalidParams("withRuntime must be a boolean");
    const withRuntime = p[0];
    const count = perConnection.get(ctx.connectionId) ?? 0;
    if (count >= CHAIN_HEAD_FOLLOWS_PER_CONNECTION_MAX) throw new RpcError(-32800, `at most ${CHAIN_HEAD_FOLLOWS_PER_CONNECTION_MAX} chainHead_v1_follow subscriptions per connection`);
    const sink = ctx.subscribe("chainHead_v1_followEvent", ["chainHead_v1_unfollow"]);
    perConnection.set(ctx.connectionId, count + 1);
    const f: Follow = { sink, pinned: new Map(), operations: new Map(), nextOp: 0 };
    follows.set(sink.id, f);
    const head = chain.finalized;
    f.pinned.set(toHex(head.hash), head.hash);
    sink.notify({
      event: "initialized",
      finalizedBlockHashes: [toHex(head.hash)],
      ...(withRuntime ? { finalizedBlockRuntime: { type: "valid", spec: runtimeSpecJson(chain.runtime.version) } } : {}),
    });
    const off = node.onBlock((b) => {
      if (f.pinned.size >= CHAIN_HEAD_PINNED_BLOCKS_MAX) {
        sink.notify({ event: "stop" });
        sink.close();
        return;
      }
      const hash = toHex(b.header.hash);
      f.pinned.set(hash, b.header.hash);
      sink.notify({ event: "newBlock", blockHash: hash, parentBlockHash: toHex(b.header.parentHash), newRuntime: null });
      sink.notify({ event: "bestBlockChanged", bestBlockHash: hash });
      sink.notify({ event: "finalized", finalizedBlockHashes: [hash], prunedBlockHashes: [] });
    });
    sink.onClose(() => {
      off();
      for (const op of f.operations.values()) op.stopped = true;
      follows.delete(sink.id);
      perConnection.set(ctx.connectionId, (perConnection.get(ctx.connectionId) ?? 1) - 1);
    });
    return sink.id;
  });

  rpc.register("chainHead_v1_unfollow", (p) => {
    follow(p[0])?.sink.close();
    return null;
  });

  rpc.register("chainHead_v1_header", (p) => {
    const f = follow(p[0]);
    if (!f) return null;
    const h = chain.headerByHash(pinnedHash(f, p[1]));
    return h ? toHex(h.encoded) : null;
  });

  rpc.register("chainHead_v1_unpin", (p) => {
    const f = follow(p[0]);
    if (!f) return null;
    const list = Array.isArray(p[1]) ? p[1] : [p[1]];
    const hashes = list.map((h) => toHex(hexParam(h, "block hash", 32)));
    for (const h of hashes) if (!f.pinned.has(h)) throw invalidParams(`block ${h} is not pinned`);
    for (const h of hashes) f.pinned.delete(h);
    return null;
  });

  rpc.register("chainHead_v1_body", (p) => {
    const f = follow(p[0]);
    if (!f) return { result: "limitReached" };
    const hash = pinnedHash(f, p[1]);
    const op = startOperation(f);
    if (!op) return { result: "limitReached" };
    deferred(() => {
      endOperation(f, op);
      if (op.stopped) return;
      const body = chain.body(hash);
      f.sink.notify(body ? { event: "operationBodyDone", operationId: op.id, value: body.map(toHex) } : { event: "operationInaccessible", operationId: op.id });
    });
    return { result: "started", operationId: op.id };
  });

  rpc.register("chainHead_v1_call", (p) => {
    const f = follow(p[0]);
    if (!f) return { result: "limitReached" };
    const hash = pinnedHash(f, p[1]);
    if (typeof p[2] !== "string") throw invalidParams("function must be a string");
    const fn = p[2];
    // polkadot-api sends "" for an empty parameter list.
    const input = hexParam(p[3] === undefined || p[3] === "" ? "0x" : p[3], "callParameters", MAX_EXTRINSIC_BYTES * 2);
    const op = startOperation(f);
    if (!op) return { result: "limitReached" };
    deferred(() => {
      endOperation(f, op);
      if (op.stopped) return;
      try {
        f.sink.notify({ event: "operationCallDone", operationId: op.id, output: toHex(chain.callApi(hash, fn, input)) });
      } catch (e) {
        f.sink.notify({ event: "operationError", operationId: op.id, error: (e as Error).message });
      }
    });
    return { result: "started", operationId: op.id };
  });

  rpc.register("chainHead_v1_storage", (p) => {
    const f = follow(p[0]);
    if (!f) return { result: "limitReached" };
    const hash = pinnedHash(f, p[1]);
    if (!Array.isArray(p[2])) throw invalidParams("items must be an array of { key, type }");
    if (p[2].length > CHAIN_HEAD_STORAGE_QUERY_ITEMS_MAX) throw invalidParams(`at most ${CHAIN_HEAD_STORAGE_QUERY_ITEMS_MAX} items per query`);
    if (p[3] !== undefined && p[3] !== null) throw invalidParams("child tries are not supported");
    const items = p[2].map((it: any, i: number) => {
      if (!it || !QUERY_TYPES.has(it.type)) throw invalidParams(`items[${i}].type must be one of ${[...QUERY_TYPES].join(", ")}`);
      return { key: hexParam(it.key, `items[${i}].key`, STORAGE_KEY_BYTES_MAX), type: it.type as StorageQueryType };
    });
    const op = startOperation(f);
    if (!op) return { result: "limitReached" };
    deferred(() => runStorage(f, op, hash, items));
    return { result: "started", operationId: op.id, discardedItems: 0 };
  });

  function runStorage(f: Follow, op: Operation, hash: Uint8Array, items: { key: Uint8Array; type: StorageQueryType }[]): void {
    let state;
    try {
      state = chain.stateAt(hash);
    } catch {
      endOperation(f, op);
      f.sink.notify({ event: "operationInaccessible", operationId: op.id });
      return;
    }
    const out: unknown[] = [];
    const flush = () => {
      if (out.length) f.sink.notify({ event: "operationStorageItems", operationId: op.id, items: out.splice(0) });
    };
    const descendants: Array<{ prefix: Uint8Array; hashes: boolean }> = [];
    for (const it of items) {
      if (it.type === "value" || it.type === "hash") {
        const v = state.get(it.key);
        if (v !== undefined) out.push(it.type === "value" ? { key: toHex(it.key), value: toHex(v) } : { key: toHex(it.key), hash: toHex(blake(v)) });
      } else if (it.type === "closestDescendantMerkleValue") {
        const mv = closestDescendantMerkleValue(chain.trie, state.root, it.key);
        if (mv) out.push({ key: toHex(it.key), closestDescendantMerkleValue: toHex(mv) });
      } else descendants.push({ prefix: it.key, hashes: it.type === "descendantsHashes" });
    }
    // Descendant queries are paged: one batch per event, then wait for chainHead_v1_continue.
    let d = 0;
    let startKey: Uint8Array | undefined;
    const step = () => {
      op.resume = undefined;
      if (op.stopped) return void endOperation(f, op);
      while (d < descendants.length) {
        const { prefix, hashes } = descendants[d];
        const keys = chain.trie.keys(state.root, { prefix, startKey, limit: CHAIN_HEAD_STORAGE_ITEMS_PER_EVENT });
        for (const k of keys) {
          const v = state.get(k)!;
          out.push(hashes ? { key: toHex(k), hash: toHex(blake(v)) } : { key: toHex(k), value: toHex(v) });
        }
        if (keys.length === CHAIN_HEAD_STORAGE_ITEMS_PER_EVENT) {
          startKey = keys[keys.length - 1];
          flush();
          op.resume = step;
          f.sink.notify({ event: "operationWaitingForContinue", operationId: op.id });
          return;
        }
        d++;
        startKey = undefined;
      }
      flush();
      endOperation(f, op);
      f.sink.notify({ event: "operationStorageDone", operationId: op.id });
    };
    step();
  }

  rpc.register("chainHead_v1_continue", (p) => {
    const f = follow(p[0]);
    if (!f) return null;
    const op = typeof p[1] === "string" ? f.operations.get(p[1]) : undefined;
    if (!op?.resume) throw invalidParams("no operation with this id is waiting for chainHead_v1_continue");
    const r = op.resume;
    deferred(r);
    op.resume = undefined;
    return null;
  });

  rpc.register("chainHead_v1_stopOperation", (p) => {
    const f = follow(p[0]);
    const op = f && typeof p[1] === "string" ? f.operations.get(p[1]) : undefined;
    if (f && op) {
      op.stopped = true;
      f.operations.delete(op.id);
    }
    return null;
  });
}

