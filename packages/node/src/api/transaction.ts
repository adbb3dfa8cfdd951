import { toHex } from "@phala-ts/primitives";
import { MAX_EXTRINSIC_BYTES } from "@phala-ts/runtime";
import { RpcError, type RpcServer } from "../rpc/index.ts";
import { PoolError, type TxStatus } from "../pool/tx-pool.ts";
import type { NodeService } from "../service.ts";
import { hexParam } from "./params.ts";

/** Broadcast operations remembered for transaction_v1_stop. */
export const BROADCASTS_MAX = 4096;

function watchEvent(s: TxStatus): { event: string; [k: string]: unknown } | undefined {
  switch (s.type) {
    case "ready":
    case "future":
      return { event: "validated" };
    case "inBlock":
      return { event: "bestChainBlockIncluded", block: { hash: toHex(s.blockHash), index: s.index } };
    case "finalized":
      return { event: "finalized", block: { hash: toHex(s.blockHash), index: s.index } };
    case "invalid":
      return { event: "invalid", error: s.reason };
    case "dropped":
      return { event: "dropped", error: s.reason };
    case "usurped":
      return { event: "invalid", error: `replaced by ${toHex(s.by)}` };
  }
}

/** transaction_v1 and transactionWatch_v1 of the new JSON-RPC spec. */
export function registerTransactionRpc(rpc: RpcServer, node: NodeService): void {
  const broadcasts = new Set<string>();
  let next = 0;

  rpc.register("transaction_v1_broadcast", (p) => {
    const bytes = hexParam(p[0], "transaction", MAX_EXTRINSIC_BYTES);
    if (broadcasts.size >= BROADCASTS_MAX) return null;
    const id = `broadcast-${next++}`;
    broadcasts.add(id);
    node.submit(bytes).catch((e: unknown) => {
      // The spec reports nothing for invalid broadcasts; the operation simply does nothing.
      if (e instanceof PoolError) node.log.debug("broadcast transaction refused", { reason: e.message });
      else node.log.error("broadcast transaction failed", { error: (e as Error).message });
    });
    return id;
  });

  rpc.register("transaction_v1_stop", (p) => {
    if (typeof p[0] !== "string" || !broadcasts.delete(p[0])) throw new RpcError(-32602, "Invalid operation id");
    return null;
  });

  rpc.register("transactionWatch_v1_submitAndWatch", (p, ctx) => {
    const bytes = hexParam(p[0], "transaction", MAX_EXTRINSIC_BYTES);
    const sink = ctx.subscribe("transactionWatch_v1_watchEvent", ["transactionWatch_v1_unwatch"]);
    node
      .submit(bytes, (s) => {
        const ev = watchEvent(s);
        if (!ev) return;
        sink.notify(ev);
        if (ev.event === "finalized" || ev.event === "invalid" || ev.event === "dropped" || ev.event === "error") sink.close();
      })
      .catch((e: unknown) => {
        if (e instanceof PoolError) sink.notify({ event: e.rpcCode === 1010 || e.rpcCode === 1001 ? "invalid" : "dropped", error: e.data ?? e.message });
        else sink.notify({ event: "error", error: "the node could not process the transaction" });
        sink.close();
      });
    return sink.id;
  });
}
