import { concatBytes, u64le, utf8 } from "@phala-ts/primitives";
import { T, type Infer } from "../../types/index.ts";
import { AccountId32, H256 } from "../../types/std.ts";

/** Who sent a message (ARCHITECTURE §4). Worker, Gatekeeper, Cluster and Contract origins sign what they send. */
export const MessageOrigin = T.enumeration(["phala_mq", "types", "MessageOrigin"], {
  Pallet: { index: 0, fields: [T.bytes], typeNames: ["Vec<u8>"] },
  Contract: { index: 1, fields: [H256], typeNames: ["H256"] },
  Worker: { index: 2, fields: [T.fixedBytes(32)], typeNames: ["WorkerPublicKey"] },
  AccountId: { index: 3, fields: [AccountId32], typeNames: ["AccountId"] },
  Gatekeeper: { index: 4 },
  Cluster: { index: 5, fields: [H256], typeNames: ["H256"] },
});
export type MessageOriginValue = Infer<typeof MessageOrigin>;

export const Message = T.struct(["phala_mq", "types", "Message"], {
  sender: MessageOrigin,
  /** The topic, a path such as `phala/registry/event`. */
  destination: T.bytes,
  payload: T.bytes,
});
export type MessageValue = Infer<typeof Message>;

export const SignedMessage = T.struct(["phala_mq", "types", "SignedMessage"], {
  message: Message,
  sequence: T.u64,
  signature: T.fixedBytes(64),
});
export type SignedMessageValue = Infer<typeof SignedMessage>;

/** A block's ingress queue: everything pushed to pRuntimes in that block, in order. */
export const MessageList = T.vec(Message);

export const EGRESS_DOMAIN = utf8("phala/mq/egress/v1");

/**
 * Bytes an egress signature covers: a domain, the chain's genesis hash (so a message can't be
 * replayed on another chain), the SCALE message and its sequence number.
 */
export function egressSigningPayload(genesisHash: Uint8Array, message: MessageValue, sequence: bigint): Uint8Array {
  return concatBytes(EGRESS_DOMAIN, genesisHash, Message.codec.enc(message), u64le(sequence));
}


/** Topics, as byte paths. Chain pallets and pRuntime dispatch on these exact strings. */
export const Topics = {
  /** PhalaRegistry → pRuntimes: RegistryEvent. */
  registryEvent: "phala/registry/event",
  /** A gatekeeper worker → chain: MasterPubkeyAnnouncement, signed by the worker identity key. */
  masterPubkey: "phala/gatekeeper/master-pubkey",
  /** Gatekeeper → a new gatekeeper: MasterKeyDistribution, signed by the master key. */
  keyDistribution: "phala/gatekeeper/key-distribution",
  /** Gatekeeper → everyone: RandomBeacon, signed by the master key. */
  randomBeacon: "phala/gatekeeper/random-beacon",
  /** Gatekeeper → chain: MasterKeyRotated, signed by the old master key. */
  masterRotation: "phala/gatekeeper/master-rotation",
} as const;

export function topic(name: keyof typeof Topics): Uint8Array {
  return utf8(Topics[name]);
}
