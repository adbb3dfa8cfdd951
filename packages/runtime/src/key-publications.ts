/**
 * Keeps the signed message that published each master, cluster and contract key
 * (`PhalaRegistry.KeyPublications`), so clients can verify a key's provenance link by link:
 * contract key ← cluster key ← master key ← an attested gatekeeper worker.
 */
import { decodeExact } from "./types/index.ts";
import type { DispatchContext } from "./pallet/context.ts";
import { MasterKeyRotated, MasterPubkeyAnnouncement, type KeyOwnerValue } from "./pallets/phala-registry/types.ts";
import { PhalaRegistryStorage } from "./pallets/phala-registry/storage.ts";
import { ClusterKeyPublished, ContractKeyPublished, ContractTopics } from "./pallets/phala-phat-contracts/types.ts";
import { Topics, type MessageValue, type SignedMessageValue } from "./pallets/phala-mq/types.ts";

/** Whose key `message` publishes, if it is a key publication that decodes. */
export function keyOwnerOfPublication(message: MessageValue): KeyOwnerValue | undefined {
  const t = new TextDecoder().decode(message.destination);
  try {
    if (t === Topics.masterPubkey) {
      decodeExact(MasterPubkeyAnnouncement, message.payload);
      return { tag: "Master", value: 0 };
    }
    if (t === Topics.masterRotation) return { tag: "Master", value: decodeExact(MasterKeyRotated, message.payload).rotation_id };
    if (t === ContractTopics.clusterKey) return { tag: "Cluster", value: decodeExact(ClusterKeyPublished, message.payload).cluster };
    if (t === ContractTopics.contractKey) return { tag: "Contract", value: decodeExact(ContractKeyPublished, message.payload).contract };
  } catch {
    // A payload that does not decode was refused by its pallet already; there is nothing to keep.
    return undefined;
  }
  return undefined;
}

/** Called once a pallet accepted `signed`: keeps it if it published a key. */
export function recordKeyPublication(ctx: DispatchContext, signed: SignedMessageValue): void {
  const owner = keyOwnerOfPublication(signed.message);
  if (owner) PhalaRegistryStorage.KeyPublications.set(ctx.state, owner, signed);
}
