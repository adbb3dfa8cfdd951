/**
 * A small model of the chain side of the message queue, for in-process tests: it takes the
 * pRuntimes' pending egress, accepts what the chain would (next sequence per origin, signature
 * by the origin's key, the first master key announcement from a gatekeeper, master rotations,
 * cluster keys published by the gatekeepers and contract keys published by clusters),
 * puts accepted messages and pallet events into the next block's OutboundMessages (with real
 * proofs and certificates, via ChainFixture) and syncs every pRuntime through the light client.
 */
import { bytesEqual, toHex, utf8, verifyEd25519 } from "@phala-ts/primitives";
import { decodeExact } from "@phala-ts/runtime/types";
import {
  ClusterKeyPublished,
  ContractKeyPublished,
  ContractTopics,
  MasterKeyRotated,
  MasterPubkeyAnnouncement,
  Message,
  RegistryEvent,
  Topics,
  egressSigningPayload,
  type MessageValue,
  type PublicKeysValue,
  type RegistryEventValue,
  type SignedMessageValue,
} from "@phala-ts/runtime/phala";
import { verifyRotationSignature } from "../src/master-key.ts";
import type { PruntimeCore } from "../src/pruntime.ts";
import { ChainFixture } from "./chain-fixture.ts";

const REGISTRY = { tag: "Pallet" as const, value: utf8("PhalaRegistry") };

export function registryEvent(event: RegistryEventValue): MessageValue {
  return { sender: REGISTRY, destination: utf8(Topics.registryEvent), payload: RegistryEvent.codec.enc(event) };
}

export class ChainSim {
  readonly chain: ChainFixture;
  readonly nodes: PruntimeCore[] = [];
  readonly workers = new Set<string>();
  readonly gatekeepers = new Set<string>();
  masterPubkey: Uint8Array | undefined;
  masterRotation = 0;
  readonly nextSequence = new Map<string, bigint>();
  /** Every signed message the chain accepted, in order. */
  readonly accepted: SignedMessageValue[] = [];
  readonly refused: { reason: string; message: SignedMessageValue }[] = [];
  /** Public keys the chain holds for clusters and contracts (PhalaRegistry.ClusterKeys / ContractKeys), by hex id. */
  readonly clusterKeys = new Map<string, PublicKeysValue>();
  readonly contractKeys = new Map<string, PublicKeysValue>();

  /** `fillerKeys`: keys in the chain's state besides the ones it writes (the sync bench uses a million). */
  constructor(options: { fillerKeys?: number } = {}) {
    this.chain = new ChainFixture({ fillerKeys: options.fillerKeys ?? 32 });
  }

  add(node: PruntimeCore): PruntimeCore {
    node.init(this.chain.genesisHeader);
    // A node that joins late catches up on every block so far.
    if (this.chain.height > 0) node.sync(this.chain.batch(node.status().syncedHeight + 1, this.chain.height));
    this.nodes.push(node);
    return node;
  }

  private originKey(m: MessageValue): string {
    return toHex(Message.codec.enc({ ...m, destination: new Uint8Array(), payload: new Uint8Array() }));
  }

  private verify(s: SignedMessageValue): string | undefined {
    const m = s.message;
    let key: Uint8Array | undefined;
    if (m.sender.tag === "Worker") {
      if (!this.workers.has(toHex(m.sender.value))) return "unregistered worker";
      key = m.sender.value;
    } else if (m.sender.tag === "Gatekeeper") {
      key = this.masterPubkey;
      if (key === undefined) return "no master key";
    } else if (m.sender.tag === "Cluster") {
      key = this.clusterKeys.get(toHex(m.sender.value))?.pubkey;
      if (key === undefined) return "no cluster key";
    } else return "origin cannot sign";
    const expected = this.nextSequence.get(this.originKey(m)) ?? 0n;
    if (s.sequence !== expected) return s.sequence < expected ? "stale" : "future";
    if (!verifyEd25519(key, egressSigningPayload(this.chain.genesisHash, m, s.sequence), s.signature)) return "bad signature";
    return undefined;
  }

  /** Effects the registry and contracts pallets apply to an accepted message. */
  private apply(m: MessageValue): void {
    const topic = Buffer.from(m.destination).toString("utf8");
    if (topic === ContractTopics.clusterKey && m.sender.tag === "Gatekeeper") {
      const k = decodeExact(ClusterKeyPublished, m.payload);
      this.clusterKeys.set(toHex(k.cluster), k.keys);
    }
    if (topic === ContractTopics.contractKey && m.sender.tag === "Cluster") {
      const k = decodeExact(ContractKeyPublished, m.payload);
      this.contractKeys.set(toHex(k.contract), k.keys);
    }
    if (topic === Topics.masterPubkey && m.sender.tag === "Worker" && this.masterPubkey === undefined && this.gatekeepers.has(toHex(m.sender.value))) {
      this.masterPubkey = decodeExact(MasterPubkeyAnnouncement, m.payload).master_pubkey;
    }
    if (topic === Topics.masterRotation && m.sender.tag === "Gatekeeper" && this.masterPubkey !== undefined) {
      const r = decodeExact(MasterKeyRotated, m.payload);
      if (r.rotation_id > this.masterRotation && verifyRotationSignature(this.masterPubkey, r.rotation_id, r.new_pubkey, r.signature)) {
        this.masterPubkey = r.new_pubkey;
        this.masterRotation = r.rotation_id;
      }
    }
  }

  private trackEvent(e: RegistryEventValue): void {
    if (e.tag === "WorkerRegistered") this.workers.add(toHex(e.value.pubkey));
    if (e.tag === "GatekeeperRegistered") this.gatekeepers.add(toHex(e.value.pubkey));
    if (e.tag === "GatekeeperUnregistered") this.gatekeepers.delete(toHex(e.value.pubkey));
  }

  /** Builds one block from `events` plus the egress the chain accepts, and syncs every node. */
  block(events: RegistryEventValue[] = [], opts: { submitFrom?: PruntimeCore[]; syncNodes?: PruntimeCore[]; raw?: MessageValue[] } = {}): MessageValue[] {
    const included: MessageValue[] = [...(opts.raw ?? [])];
    for (const e of events) {
      this.trackEvent(e);
      included.push(registryEvent(e));
    }
    for (const node of opts.submitFrom ?? this.nodes) {
      for (const s of node.pendingEgress()) {
        const why = this.verify(s);
        if (why !== undefined) {
          if (why !== "stale") this.refused.push({ reason: why, message: s });
          continue;
        }
        const k = this.originKey(s.message);
        this.nextSequence.set(k, (this.nextSequence.get(k) ?? 0n) + 1n);
        this.accepted.push(s);
        this.apply(s.message);
        included.push(s.message);
      }
    }
    const b = this.chain.addBlock(included);
    for (const node of opts.syncNodes ?? this.nodes) {
      const from = node.status().syncedHeight + 1;
      node.sync(this.chain.batch(from, b.number));
    }
    return included;
  }

  /** Empty blocks until `n` blocks exist. */
  runTo(n: number, opts: { submitFrom?: PruntimeCore[]; syncNodes?: PruntimeCore[] } = {}): void {
    while (this.chain.height < n) this.block([], opts);
  }

  sameBytes(a: SignedMessageValue, b: SignedMessageValue): boolean {
    return bytesEqual(Message.codec.enc(a.message), Message.codec.enc(b.message)) && a.sequence === b.sequence && bytesEqual(a.signature, b.signature);
  }
}
