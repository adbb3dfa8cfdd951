/**
 * A fake chain with one cluster of two fake workers (plus a registered outsider), holding
 * the cluster and contract secrets, that acts as the PhalaPhatContracts pallet and the
 * cluster together: it decrypts init args and commands with the right keys, "executes"
 * them with a test-chosen function, publishes the contract key and serves encrypted results.
 */
import { blake2b256, ed25519Sign, keyPairFromUri, openEnvelope, utf8, x25519KeyPair, type KeyPair } from "@phala-ts/primitives";
import {
  ClusterKeyPublished,
  ContractKeyPublished,
  ContractTopics,
  EncryptedPayload,
  InitPlaintext,
  MasterPubkeyAnnouncement,
  PhalaRegistryStorage,
  PhatContractsStorage,
  Topics,
  WireLabels,
  clusterIdOf,
  commandIdOf,
  contractIdOf,
  egressSigningPayload,
  type KeyOwnerValue,
  type MessageValue,
} from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { FakeNode, type CallVerdict, type DecodedCall } from "./fake-node.ts";
import { FakeWorker } from "./fake-worker.ts";
import { commandResult, openCommand, openQuery, outcome, queryBatchResponse, queryResponse, workerInfo, workerKeys, type OpenedQuery, type WorkerKeys } from "./fake-worker-crypto.ts";

/** What an honest fake worker answers a query: who asked and what. */
function echoOf(q: OpenedQuery) {
  return outcome({ for: `0x${Buffer.from(q.account).toString("hex")}`, input: JSON.parse(q.input) });
}

type Outcome = ReturnType<typeof outcome>;

export class FakeCluster {
  readonly clusterId = clusterIdOf(0n);
  /** A second cluster whose key was never published. */
  readonly keylessCluster = clusterIdOf(1n);
  readonly clusterEcdh = x25519KeyPair(new Uint8Array(32).fill(9));
  readonly contractEcdh = x25519KeyPair(new Uint8Array(32).fill(7));
  readonly member1 = workerKeys(11);
  readonly member2 = workerKeys(21);
  readonly outsider = workerKeys(31);
  readonly owner = keyPairFromUri("//Alice");
  /** The gatekeepers' master key; member1 is the gatekeeper that announced it. */
  readonly master = keyPairFromUri("//FakeMaster", "ed25519");
  /** The cluster's signing key (its x25519 half is clusterEcdh). */
  readonly clusterSigner = keyPairFromUri("//FakeCluster", "ed25519");
  readonly contractSigner = keyPairFromUri("//FakeContract", "ed25519");

  /** What the cluster does with each command. */
  execute: (command: unknown, sender: Uint8Array) => Outcome = (command) => outcome({ echo: command });
  /** What each init produces. */
  initOutcome: Outcome = outcome(null, { gas_used: 77n, fee: 0n });
  /** Workers that serve results; the others answer 404. */
  serving: FakeWorker[];
  publishContractKeys = true;
  readonly initSeen: unknown[] = [];

  private constructor(
    readonly node: FakeNode,
    readonly w1: FakeWorker,
    readonly w2: FakeWorker,
    readonly w3: FakeWorker,
  ) {
    this.serving = [w1, w2];
  }

  static async start(): Promise<FakeCluster> {
    const node = await FakeNode.start();
    const [w1, w2, w3] = await Promise.all([FakeWorker.start(), FakeWorker.start(), FakeWorker.start()]);
    const c = new FakeCluster(node, w1, w2, w3);
    c.#registerWorker(c.member1, w1.url);
    c.#registerWorker(c.member2, w2.url);
    c.#registerWorker(c.outsider, w3.url);
    c.#announceMaster();
    c.#putCluster(c.clusterId, [c.member1.identity, c.member2.identity], true);
    c.#putCluster(c.keylessCluster, [c.member1.identity], false);
    c.reset();
    return c;
  }

  /** Back to the defaults: echo commands, members answer queries honestly, keys published. */
  reset(): void {
    this.node.onCall = (call) => this.#dispatch(call);
    this.execute = (command) => outcome({ echo: command });
    this.initOutcome = outcome(null, { gas_used: 77n, fee: 0n });
    this.serving = [this.w1, this.w2];
    this.publishContractKeys = true;
    this.initSeen.length = 0;
    this.w1.onQuery = this.answering(this.member1);
    this.w2.onQuery = this.answering(this.member2);
    this.w3.onQuery = this.answering(this.outsider);
    this.w1.onQueryBatch = this.answeringBatch(this.member1);
    this.w2.onQueryBatch = this.answeringBatch(this.member2);
    this.w3.onQueryBatch = this.answeringBatch(this.outsider);
    for (const w of [this.w1, this.w2, this.w3]) w.batches.length = 0;
  }

  /** A worker's /query handler: open the query, then answer `tweak(q)` or an echo of the request and the caller. */
  answering(worker: WorkerKeys, tweak: (q: OpenedQuery) => Uint8Array | undefined = () => undefined) {
    return (body: Uint8Array) => {
      const q = openQuery(body, worker);
      if (!q.certificateValid) return { status: 400, code: "BAD_SIGNATURE", message: "the query certificate's signature does not verify" };
      return tweak(q) ?? queryResponse(q, echoOf(q), worker);
    };
  }

  /** A worker's /queries handler: open each query, then answer `tweak(queries)` or each an echo of its request and caller. */
  answeringBatch(worker: WorkerKeys, tweak: (qs: OpenedQuery[]) => Uint8Array | undefined = () => undefined) {
    return (requests: Uint8Array[]) => {
      const qs = requests.map((r) => openQuery(r, worker));
      const refused = { status: 401, code: "BAD_SIGNATURE", message: "the query certificate's signature does not verify" };
      return tweak(qs) ?? queryBatchResponse(qs.map((q) => (q.certificateValid ? { q, outcome: echoOf(q) } : { queryId: q.queryId, refusal: refused })), worker);
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.node.close(), this.w1.close(), this.w2.close(), this.w3.close()]);
  }

  #registerWorker(k: WorkerKeys, url: string): void {
    this.node.put(PhalaRegistryStorage.Workers.key(k.identity), PhalaRegistryStorage.Workers.type.codec.enc(workerInfo(k)));
    this.node.put(PhalaRegistryStorage.Endpoints.key(k.identity), PhalaRegistryStorage.Endpoints.type.codec.enc({ pubkey: k.identity, endpoint: url, signed_at: 1 }));
  }

  /** Stores `message` as published and signed by `sign`, as PhalaMq and the registry do. */
  publish(owner: KeyOwnerValue, message: MessageValue, sign: (payload: Uint8Array) => Uint8Array, sequence = 0n): void {
    const signature = sign(egressSigningPayload(this.node.genesisHash, message, sequence));
    this.node.put(PhalaRegistryStorage.KeyPublications.key(owner), PhalaRegistryStorage.KeyPublications.type.codec.enc({ message, sequence, signature }));
  }

  #announceMaster(): void {
    const gk = this.member1;
    this.node.put(PhalaRegistryStorage.Gatekeepers.key(), PhalaRegistryStorage.Gatekeepers.type.codec.enc([gk.identity]));
    this.node.put(PhalaRegistryStorage.GatekeeperMasterPubkey.key(), PhalaRegistryStorage.GatekeeperMasterPubkey.type.codec.enc(this.master.publicKey));
    this.node.put(PhalaRegistryStorage.MasterPubkeyHistory.key(0), PhalaRegistryStorage.MasterPubkeyHistory.type.codec.enc(this.master.publicKey));
    const message = { sender: { tag: "Worker" as const, value: gk.identity }, destination: utf8(Topics.masterPubkey), payload: MasterPubkeyAnnouncement.codec.enc({ master_pubkey: this.master.publicKey }) };
    this.publish({ tag: "Master", value: 0 }, message, (m) => ed25519Sign(gk.identitySeed, m));
  }

  /** Publishes a cluster's keys signed by `by` (the master key unless a test forges it). */
  publishClusterKeys(id: Uint8Array, keys: { pubkey: Uint8Array; ecdh_pubkey: Uint8Array }, by: KeyPair = this.master): void {
    this.node.put(PhalaRegistryStorage.ClusterKeys.key(id), PhalaRegistryStorage.ClusterKeys.type.codec.enc(keys));
    const message = { sender: { tag: "Gatekeeper" as const }, destination: utf8(ContractTopics.clusterKey), payload: ClusterKeyPublished.codec.enc({ cluster: id, keys, shares: [] }) };
    this.publish({ tag: "Cluster", value: id }, message, (m) => by.sign(m));
  }

  /** Publishes a contract's keys signed by `by` (the cluster key unless a test forges it). */
  publishContractKey(id: Uint8Array, cluster: Uint8Array, keys: { pubkey: Uint8Array; ecdh_pubkey: Uint8Array }, by: KeyPair = this.clusterSigner): void {
    this.node.put(PhalaRegistryStorage.ContractKeys.key(id), PhalaRegistryStorage.ContractKeys.type.codec.enc(keys));
    const message = { sender: { tag: "Cluster" as const, value: cluster }, destination: utf8(ContractTopics.contractKey), payload: ContractKeyPublished.codec.enc({ contract: id, keys }) };
    this.publish({ tag: "Contract", value: id }, message, (m) => by.sign(m));
  }

  #putCluster(id: Uint8Array, workers: Uint8Array[], withKey: boolean): void {
    this.node.put(PhatContractsStorage.Clusters.key(id), PhatContractsStorage.Clusters.type.codec.enc({ owner: this.owner.accountId, workers, gas_price: 5n, deposit_per_byte: 1n, deposit_per_item: 10n }));
    if (withKey) this.publishClusterKeys(id, { pubkey: this.clusterSigner.publicKey, ecdh_pubkey: this.clusterEcdh.publicKey });
  }

  #dispatch(c: DecodedCall): CallVerdict {
    const pallet = "PhalaPhatContracts";
    if (c.pallet !== pallet) return { ok: true };
    switch (c.name) {
      case "upload_code": {
        const hash = blake2b256(c.args.code);
        this.node.put(PhatContractsStorage.ClusterCode.key(c.args.cluster, hash), PhatContractsStorage.ClusterCode.type.codec.enc(c.signer));
        return { ok: true, events: [{ pallet, name: "CodeUploaded", value: { cluster: c.args.cluster, code_hash: hash } }] };
      }
      case "instantiate_contract": {
        const id = contractIdOf(c.signer, c.args.code_hash, c.args.cluster, c.args.salt);
        // The cluster opens the init args with its key: proof of the format.
        const p = decodeExact(EncryptedPayload, c.args.init_args);
        const plain = openEnvelope({ recipientPrivateKey: this.clusterEcdh.privateKey, label: WireLabels.init, associatedData: id, envelope: { senderPublicKey: p.sender_pubkey, nonce: p.iv, ciphertext: p.ciphertext } });
        this.initSeen.push(JSON.parse(new TextDecoder().decode(decodeExact(InitPlaintext, plain).input)));
        this.node.put(PhatContractsStorage.Contracts.key(id), PhatContractsStorage.Contracts.type.codec.enc({ deployer: c.signer, code_hash: c.args.code_hash, cluster: c.args.cluster, salt: c.args.salt }));
        if (this.publishContractKeys) {
          const initId = blake2b256(c.args.init_args);
          const served = commandResult(this.initOutcome, { contractId: id, commandId: initId, senderPubkey: p.sender_pubkey, contractEcdh: this.contractEcdh });
          const serving = this.serving;
          setTimeout(() => {
            this.publishContractKey(id, c.args.cluster, { pubkey: this.contractSigner.publicKey, ecdh_pubkey: this.contractEcdh.publicKey });
            for (const w of serving) w.serve(id, initId, served);
          }, 100);
        }
        return { ok: true, events: [{ pallet, name: "Instantiating", value: { contract: id, cluster: c.args.cluster, deployer: c.signer } }] };
      }
      case "push_contract_message": {
        const { senderPubkey, plaintext } = openCommand(c.args.payload, this.contractEcdh, c.args.contract, c.signer);
        const o = this.execute(JSON.parse(new TextDecoder().decode(plaintext.input)), c.signer);
        const commandId = commandIdOf(c.signer, c.args.payload);
        const served = commandResult(o, { contractId: c.args.contract, commandId, senderPubkey, contractEcdh: this.contractEcdh });
        const serving = this.serving;
        setTimeout(() => {
          for (const w of serving) w.serve(c.args.contract, commandId, served);
        }, 50);
        return { ok: true, events: [{ pallet, name: "CommandPushed", value: { contract: c.args.contract, sender: c.signer } }] };
      }
      default:
        return { ok: true };
    }
  }
}
