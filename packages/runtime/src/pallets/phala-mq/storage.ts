import { T } from "../../types/index.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { MessageList, MessageOrigin } from "./types.ts";

const s = palletStorage("PhalaMq");

export const PhalaMqStorage = {
  /** This block's ingress queue. Cleared when the next block starts; pRuntimes read it by proof. */
  OutboundMessages: s.value("OutboundMessages", MessageList, { default: [], docs: ["The messages pushed to pRuntimes in this block."] }),
  /** Next expected egress sequence number per signing origin. */
  OffchainIngress: s.map("OffchainIngress", "Blake2_128Concat", MessageOrigin, T.u64, {
    default: 0n,
    docs: ["The next sequence number expected from each off-chain sender."],
  }),
};
