import { toHex } from "@phala-ts/primitives";
import type { RpcServer } from "../rpc/index.ts";
import type { NodeService } from "../service.ts";
import { registerLegacyRpc } from "./legacy.ts";
import { registerChainHeadRpc } from "./chain-head.ts";
import { registerTransactionRpc } from "./transaction.ts";
import { registerPhalaRpc } from "./phala.ts";

/** Registers every RPC method the node serves. */
export function registerNodeRpc(rpc: RpcServer, node: NodeService): void {
  registerLegacyRpc(rpc, node);
  registerChainHeadRpc(rpc, node);
  registerTransactionRpc(rpc, node);
  registerPhalaRpc(rpc, node);
  const spec = node.options.spec.json;
  rpc.register("chainSpec_v1_chainName", () => spec.name);
  rpc.register("chainSpec_v1_genesisHash", () => toHex(node.chain.genesis.hash));
  rpc.register("chainSpec_v1_properties", () => spec.properties);
}
