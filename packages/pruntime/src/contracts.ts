/**
 * Clusters and confidential contracts (ARCHITECTURE §6, §7, issue 4), as one replicated
 * deterministic state machine fed by the chain's messages:
 *  - every pRuntime follows every cluster from `phala/cluster/event` (members, prices, code,
 *    contracts, each account's balance inside the cluster) and counts each cluster's
 *    Cluster-origin sequence (one `ContractKeyPublished` per instantiated contract);
 *  - gatekeepers publish each cluster's key and its members' shares (through the gatekeeper
 *    machine, in the Gatekeeper sequence);
 *  - a member worker opens its share, derives each contract's key, publishes it signed by
 *    the cluster key, runs `init`, then every command in block order, charging the sender.
 * Members run the same messages through the same code with the same inputs (block time
 * included), so they end with byte-identical storage, balances and encrypted results.
 *
 * Fees: a command needs `gas_limit × gas_price` in the sender's cluster balance up front and
 * pays `gas_used × gas_price` plus storage deposits for what it adds (bytes × deposit_per_byte
 * plus items × deposit_per_item, on the call's net growth). Deposits are not refunded when a
 * later call frees storage: they are a one-way charge, which keeps fees a function of one
 * call alone. A call that fails pays its gas and commits nothing. A command asking for more
 * than the chain's CommandGasMax is refused before it runs and pays nothing. Init is not
 * charged (the deployer may hold no balance yet); its gas is clamped to INIT_GAS_MAX.
 */
import assert from "node:assert/strict";
import {
  PrimitivesError,
  bytesEqual,
  encryptionKeyFromSecret,
  envelopeKey,
  openEnvelope,
  openWithKey,
  sealWithKey,
  signingKeyFromSecret,
  x25519SharedSecret,
  toHex,
  utf8,
  type KeyPair,
  type X25519KeyPair,
} from "@phala-ts/primitives";
import { ScaleDecodeError, T, decodeExact, type Infer, type Type } from "@phala-ts/runtime/types";
import { AccountId32, H256 } from "@phala-ts/runtime/types";
import {
  commandAssociatedData,
  initIdOf,
  CallOutcome,
  ClusterEvent,
  ClusterKeyPublished,
  CommandPlaintext,
  CommandResult,
  ContractCommand,
  ContractKeyPublished,
  ContractTopics,
  EncryptedPayload,
  InitPlaintext,
  PublicKeys,
  WireLabels,
  commandIdOf,
  COMMAND_GAS_MAX,
  type CallOutcomeValue,
  type ClusterEventValue,
  type EncryptedPayloadValue,
  type MessageOriginValue,
  type MessageValue,
  type PublicKeysValue,
} from "@phala-ts/runtime/phala";
import { CodeStore } from "./code-store.ts";
import { CommandResults, StoredResults } from "./command-results.ts";
import { LoadedContractState, resultChange, storageChange } from "./contract-store-entries.ts";
import type { StoreChange } from "./sealed-store.ts";
import { PruntimeError } from "./errors.ts";
import type { CallMode, CallOrigin, ContractCallResult, ContractRunner, StorageReader } from "./contract-runner.ts";
import { ContractStorage, StorageEntries, decodeUtf8, type StorageWrites } from "./contract-storage.ts";
import type { BlockInfo, Dispatcher } from "./dispatcher.ts";
import type { EgressQueue } from "./egress.ts";
import type { GatekeeperMachine } from "./gatekeeper.ts";
import type { WorkerKeys } from "./keys.ts";
import { callSeed, commandResultNonce, contractSecretOf, decryptClusterKeyShare, publicKeysOf } from "./key-shares.ts";
import {
  CLUSTER_ACCOUNTS_MAX,
  CLUSTERS_MAX,
  CODES_MAX,
  COMMAND_RESULTS_MAX,
  CONTRACT_STORAGE_BYTES_MAX,
  CONTRACTS_MAX,
  INIT_GAS_MAX,
} from "./limits.ts";
import type { Logger } from "./logger.ts";

const Key32 = T.fixedBytes(32);

const ClusterSnapshot = T.struct(["phala_pruntime", "ClusterSnapshot"], {
  id: H256,
  workers: T.vec(Key32),
  gas_price: T.u128,
  deposit_per_byte: T.u128,
  deposit_per_item: T.u128,
  /** Master-key rotation the cluster key derives from; none while the master key is not established. */
  rotation_id: T.option(T.u32),
  /** Public keys once the chain carried them. */
  keys: T.option(PublicKeys),
  /** Contracts instantiated so far = Cluster-origin messages emitted so far. */
  contracts_instantiated: T.u64,
  codes: T.vec(H256),
  balances: T.vec(T.struct(["phala_pruntime", "ClusterBalance"], { account: AccountId32, amount: T.u128 })),
  /** The cluster secret, held by members only. */
  secret: T.option(Key32),
});

const contractFields = {
  id: H256,
  cluster: H256,
  code_hash: H256,
  deployer: AccountId32,
  /** This worker executes the contract (it held the cluster key when it was instantiated). */
  running: T.bool,
  commands: T.u64,
};

export const ContractsSnapshot = T.struct(["phala_pruntime", "ContractsSnapshot"], {
  /** In creation order: clusters waiting for the master key get theirs published in this order. */
  clusters: T.vec(ClusterSnapshot),
  contracts: T.vec(T.struct(["phala_pruntime", "ContractSnapshot"], contractFields)),
});
export type ContractsSnapshotValue = Infer<typeof ContractsSnapshot>;

export function emptyContractsSnapshot(): ContractsSnapshotValue {
  return { clusters: [], contracts: [] };
}

/**
 * Checkpoint format 2 held every contract's storage and all results inline; format 3 keeps them
 * in the sealed store (sealed-store.ts). A format-2 checkpoint loads as format 3 plus its
 * inline state, which the next checkpoint writes to the store.
 */
export const ContractsSnapshotV2 = T.struct(["phala_pruntime", "ContractsSnapshotV2"], {
  clusters: T.vec(ClusterSnapshot),
  contracts: T.vec(T.struct(["phala_pruntime", "ContractSnapshotV2"], { ...contractFields, storage: StorageEntries })),
  results: StoredResults,
});
export type ContractsSnapshotV2Value = Infer<typeof ContractsSnapshotV2>;

/** A format-2 snapshot split into the format-3 snapshot and its inline state (all of it unsaved). */
export function fromContractsSnapshotV2(v2: ContractsSnapshotV2Value): { snapshot: ContractsSnapshotValue; state: LoadedContractState } {
  const state = new LoadedContractState();
  for (const c of v2.contracts) state.storage.set(hexKey(c.id), c.storage);
  v2.results.forEach((r, i) => state.results.push({ contract: r.contract, commandId: r.command_id, seq: BigInt(i), result: r.result }));
  return { snapshot: { clusters: v2.clusters, contracts: v2.contracts.map(({ storage: _storage, ...c }) => c) }, state };
}

interface Cluster {
  readonly id: Uint8Array;
  workers: Uint8Array[];
  readonly gasPrice: bigint;
  readonly depositPerByte: bigint;
  readonly depositPerItem: bigint;
  rotationId: number | undefined;
  keys: PublicKeysValue | undefined;
  contractsInstantiated: bigint;
  readonly codes: Set<string>;
  readonly balances: Map<string, bigint>;
  secret: Uint8Array | undefined;
  signer: KeyPair | undefined;
  ecdh: X25519KeyPair | undefined;
}

interface Contract {
  readonly id: Uint8Array;
  readonly cluster: Cluster;
  readonly codeHash: Uint8Array;
  readonly deployer: Uint8Array;
  running: boolean;
  commands: bigint;
  readonly storage: ContractStorage;
  secret: Uint8Array | undefined;
  ecdh: X25519KeyPair | undefined;
}

/** What the HTTP API shows about a contract. */
export interface ContractInfo {
  cluster: Uint8Array;
  codeHash: Uint8Array;
  deployer: Uint8Array;
  /** This worker executes it and holds its state. */
  running: boolean;
  stateHash: Uint8Array | undefined;
  commands: bigint;
  storageItems: number;
  storageBytes: number;
}

export interface ClusterStatus {
  id: Uint8Array;
  /** This worker is one of the cluster's workers. */
  member: boolean;
  holdsKey: boolean;
}

/** A contract this worker can answer queries for. */
export interface QueryTarget {
  readonly id: Uint8Array;
  readonly codeHash: Uint8Array;
  /** The state at the end of the last whole block synced, even while the next one is applied. */
  readonly storage: StorageReader;
  readonly secret: Uint8Array;
}

export type QueryTargetLookup = { found: "unknown" } | { found: "elsewhere" } | { found: "here"; target: QueryTarget };

export interface ContractsOptions {
  keys: WorkerKeys;
  logger: Logger;
}

export interface ContractsModules {
  egress: EgressQueue;
  gatekeeper: GatekeeperMachine;
  codes: CodeStore;
  /** The contract VM; undefined only where no contract can run here (a worker in no cluster). */
  runner: ContractRunner | undefined;
}

const CONTRACTS_PALLET = utf8("PhalaPhatContracts");
const CONTRACT_KEY_TOPIC = utf8(ContractTopics.contractKey);
/** Result-nonce position of a contract's init, apart from every command position. */
const INIT_POSITION = (1n << 64n) - 1n;

function hexKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Work a handler left running: a command or init executing off this thread. The caller (the
 * sync loop) awaits it before the next message, so messages still apply strictly in order.
 */
export type Pending = Promise<void> | undefined;

/** `next(value)` now if `value` is here, else once it resolves; `cleanup` runs after either way. */
function finish<X>(value: X | Promise<X>, next: (v: X) => void, cleanup: () => void = () => {}): Pending {
  if (!(value instanceof Promise)) {
    try {
      next(value);
    } finally {
      cleanup();
    }
    return undefined;
  }
  return value.then(next).finally(cleanup);
}

/** `next(value)` now if `value` is here, else a promise of it. */
function andThen<X, Y>(value: X | Promise<X>, next: (v: X) => Y): Y | Promise<Y> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** A call that did not succeed, as its sender reads it. */
export function failure(kind: string, message: string, gasUsed = 0n, fee = 0n): CallOutcomeValue {
  return { ok: false, output: "", gas_used: gasUsed, fee, events: [], error: { kind, message } };
}

export class ContractsMachine {
  readonly #keys: WorkerKeys;
  readonly #me: Uint8Array;
  readonly #log: Logger;
  readonly #egress: EgressQueue;
  readonly #gatekeeper: GatekeeperMachine;
  readonly #codes: CodeStore;
  readonly #runner: ContractRunner | undefined;
  readonly #clusters = new Map<string, Cluster>();
  readonly #contracts = new Map<string, Contract>();
  readonly #results: CommandResults;
  /** Clusters created before the master key was established, in creation order. */
  #keyPending = 0;
  /** Storages changed in the block being applied; settled (shown to queries) at its end. */
  readonly #touched = new Set<ContractStorage>();
  /** Contracts instantiated in the block being applied: queries know them from its end. */
  readonly #instantiatedInBlock = new Set<string>();
  #needsCheckpoint = false;

  /**
   * `stored`: storage and results read back from the sealed store; `unsaved` when they came
   * from a format-2 checkpoint instead, so the next checkpoint writes them all to the store.
   */
  constructor(
    options: ContractsOptions,
    modules: ContractsModules,
    saved: ContractsSnapshotValue = emptyContractsSnapshot(),
    stored: LoadedContractState = new LoadedContractState(),
    unsaved = false,
  ) {
    this.#keys = options.keys;
    this.#me = options.keys.identityPublicKey;
    this.#log = options.logger;
    this.#egress = modules.egress;
    this.#gatekeeper = modules.gatekeeper;
    this.#codes = modules.codes;
    this.#runner = modules.runner;
    for (const c of saved.clusters) {
      const cluster: Cluster = {
        id: c.id,
        workers: [...c.workers],
        gasPrice: c.gas_price,
        depositPerByte: c.deposit_per_byte,
        depositPerItem: c.deposit_per_item,
        rotationId: c.rotation_id,
        keys: c.keys,
        contractsInstantiated: c.contracts_instantiated,
        codes: new Set(c.codes.map(hexKey)),
        balances: new Map(c.balances.map((b) => [hexKey(b.account), b.amount])),
        secret: undefined,
        signer: undefined,
        ecdh: undefined,
      };
      if (c.secret !== undefined) this.holdClusterSecret(cluster, c.secret.slice());
      if (cluster.rotationId === undefined) this.#keyPending++;
      this.#clusters.set(hexKey(c.id), cluster);
    }
    for (const c of saved.contracts) {
      const cluster = this.#clusters.get(hexKey(c.cluster));
      assert.ok(cluster !== undefined, "a saved contract belongs to a saved cluster");
      const contract: Contract = {
        id: c.id,
        cluster,
        codeHash: c.code_hash,
        deployer: c.deployer,
        running: c.running,
        commands: c.commands,
        storage: new ContractStorage(stored.storage.get(hexKey(c.id)) ?? [], unsaved),
        secret: undefined,
        ecdh: undefined,
      };
      if (contract.running) {
        assert.ok(cluster.secret !== undefined, "a running contract's cluster key is held");
        this.deriveContractKeys(contract);
      }
      this.#contracts.set(hexKey(c.id), contract);
    }
    for (const id of stored.storage.keys()) {
      if (!this.#contracts.has(id)) throw new PruntimeError("STORE_CORRUPTED", "the sealed contract store holds storage of a contract the checkpoint does not know; it belongs to another checkpoint. Restore the matching data directory");
    }
    this.#results = new CommandResults(COMMAND_RESULTS_MAX, stored.results, unsaved);
  }

  register(dispatcher: Dispatcher): void {
    dispatcher.on(ContractTopics.clusterEvent, (m, b) => this.onClusterEvent(m, b));
    dispatcher.on(ContractTopics.clusterKey, (m, b) => this.onClusterKey(m, b));
    dispatcher.on(ContractTopics.contractCommand, (m, b) => this.onContractCommand(m, b));
  }

  /** Called after the last message of every block, after the gatekeeper machine's endBlock. */
  endBlock(_block: BlockInfo): void {
    for (const storage of this.#touched) storage.settle();
    this.#touched.clear();
    this.#instantiatedInBlock.clear();
    if (this.#keyPending === 0 || !this.#gatekeeper.masterEstablished) return;
    const rotationId = this.#gatekeeper.currentRotationId();
    assert.ok(rotationId !== undefined);
    for (const cluster of this.#clusters.values()) {
      if (cluster.rotationId !== undefined) continue;
      cluster.rotationId = rotationId;
      this.#gatekeeper.publishClusterKey(cluster.id, rotationId, cluster.workers);
    }
    this.#keyPending = 0;
  }

  /** True once after secrets or egress changed: the caller must checkpoint before serving egress. */
  takeCheckpointRequest(): boolean {
    const r = this.#needsCheckpoint;
    this.#needsCheckpoint = false;
    return r;
  }

  // ------------------------------------------------------------------------------- reads

  clusters(): ClusterStatus[] {
    const out: ClusterStatus[] = [];
    for (const c of this.#clusters.values()) {
      const member = this.isMember(c);
      if (member || c.secret !== undefined) out.push({ id: c.id, member, holdsKey: c.secret !== undefined });
    }
    return out;
  }

  contractInfo(id: Uint8Array): ContractInfo | undefined {
    const c = this.#contracts.get(hexKey(id));
    if (c === undefined) return undefined;
    return {
      cluster: c.cluster.id,
      codeHash: c.codeHash,
      deployer: c.deployer,
      running: c.running,
      stateHash: c.running ? c.storage.stateHash() : undefined,
      commands: c.commands,
      storageItems: c.storage.size,
      storageBytes: c.storage.bytes,
    };
  }

  /** The sender's balance inside a cluster (0 if none). */
  balance(cluster: Uint8Array, account: Uint8Array): bigint {
    return this.#clusters.get(hexKey(cluster))?.balances.get(hexKey(account)) ?? 0n;
  }

  /** SCALE CommandResult of an executed command, if still kept. */
  commandResult(contract: Uint8Array, commandId: Uint8Array): Uint8Array | undefined {
    return this.#results.get(contract, commandId);
  }

  queryTarget(id: Uint8Array): QueryTargetLookup {
    const key = hexKey(id);
    const c = this.#contracts.get(key);
    if (c === undefined || this.#instantiatedInBlock.has(key)) return { found: "unknown" };
    if (!c.running || c.secret === undefined) return { found: "elsewhere" };
    return { found: "here", target: { id: c.id, codeHash: c.codeHash, storage: c.storage.settled(), secret: c.secret } };
  }

  code(codeHash: Uint8Array): Uint8Array | undefined {
    return this.#codes.get(codeHash);
  }

  get runner(): ContractRunner | undefined {
    return this.#runner;
  }

  snapshot(): ContractsSnapshotValue {
    return {
      clusters: [...this.#clusters.values()].map((c) => ({
        id: c.id,
        workers: [...c.workers],
        gas_price: c.gasPrice,
        deposit_per_byte: c.depositPerByte,
        deposit_per_item: c.depositPerItem,
        rotation_id: c.rotationId,
        keys: c.keys,
        contracts_instantiated: c.contractsInstantiated,
        codes: [...c.codes].map((h) => Uint8Array.from(Buffer.from(h, "hex"))),
        balances: [...c.balances].map(([a, amount]) => ({ account: Uint8Array.from(Buffer.from(a, "hex")), amount })),
        secret: c.secret?.slice(),
      })),
      contracts: [...this.#contracts.values()].map((c) => ({
        id: c.id,
        cluster: c.cluster.id,
        code_hash: c.codeHash,
        deployer: c.deployer,
        running: c.running,
        commands: c.commands,
      })),
    };
  }

  /** Storage and results changed since the last call, for the sealed store; sorted, so the bytes written are reproducible. */
  takeStoreChanges(): StoreChange[] {
    const out: StoreChange[] = [];
    for (const id of [...this.#contracts.keys()].sort()) {
      const c = this.#contracts.get(id)!;
      if (c.storage.changed === 0) continue;
      for (const [k, v] of c.storage.takeChanges()) out.push(storageChange(c.id, k, v));
    }
    for (const r of this.#results.takeChanges()) out.push(resultChange(r.contract, r.commandId, r.saved));
    return out;
  }

  /** Every storage entry and result held: what a compacted store is written from. */
  *liveStoreEntries(): Iterable<StoreChange> {
    for (const id of [...this.#contracts.keys()].sort()) {
      const c = this.#contracts.get(id)!;
      for (const e of c.storage.entries()) yield storageChange(c.id, e.key, e.value);
    }
    for (const r of this.#results.all()) yield resultChange(r.contract, r.commandId, r);
  }

  // ------------------------------------------------------------------------------- helpers

  private isMember(cluster: Cluster): boolean {
    return cluster.workers.some((w) => bytesEqual(w, this.#me));
  }

  private decode<X>(type: Type<X>, bytes: Uint8Array, what: string): X | undefined {
    try {
      return decodeExact(type, bytes);
    } catch (e) {
      if (!(e instanceof ScaleDecodeError)) throw e;
      this.#log.warn("ignoring a message whose payload does not decode", { what, reason: (e as Error).message });
      return undefined;
    }
  }

  private holdClusterSecret(cluster: Cluster, secret: Uint8Array): void {
    cluster.secret = secret;
    cluster.signer = signingKeyFromSecret(secret);
    cluster.ecdh = encryptionKeyFromSecret(secret);
  }

  private deriveContractKeys(contract: Contract): void {
    const clusterSecret = contract.cluster.secret;
    assert.ok(clusterSecret !== undefined);
    contract.secret = contractSecretOf(clusterSecret, contract.id);
    contract.ecdh = encryptionKeyFromSecret(contract.secret);
  }

  private forgetCluster(cluster: Cluster): void {
    cluster.secret?.fill(0);
    cluster.secret = undefined;
    cluster.signer = undefined;
    cluster.ecdh = undefined;
    for (const c of this.#contracts.values()) {
      if (c.cluster !== cluster || !c.running) continue;
      c.running = false;
      c.secret?.fill(0);
      c.secret = undefined;
      c.ecdh = undefined;
      c.storage.clear();
      this.#results.dropContract(c.id);
    }
    this.#needsCheckpoint = true;
  }

  private clusterOrigin(cluster: Cluster): MessageOriginValue {
    return { tag: "Cluster", value: cluster.id };
  }

  // ------------------------------------------------------------------------------- handlers

  private onClusterEvent(message: MessageValue, block: BlockInfo): Pending {
    if (message.sender.tag !== "Pallet" || !bytesEqual(message.sender.value, CONTRACTS_PALLET)) {
      this.#log.warn("ignoring a cluster event not sent by PhalaPhatContracts", { sender: message.sender.tag, block: block.number });
      return;
    }
    const event = this.decode(ClusterEvent, message.payload, "ClusterEvent");
    if (event !== undefined) return this.applyClusterEvent(event, block);
  }

  private applyClusterEvent(event: ClusterEventValue, block: BlockInfo): Pending {
    switch (event.tag) {
      case "ClusterCreated": {
        const e = event.value;
        const key = hexKey(e.cluster);
        if (this.#clusters.has(key)) {
          this.#log.warn("ignoring a second ClusterCreated for a cluster", { cluster: e.cluster });
          return;
        }
        if (this.#clusters.size >= CLUSTERS_MAX) {
          this.#log.error("too many clusters to follow; cluster ignored", { max: CLUSTERS_MAX });
          return;
        }
        const rotationId = this.#gatekeeper.currentRotationId();
        const cluster: Cluster = {
          id: e.cluster,
          workers: [...e.workers],
          gasPrice: e.gas_price,
          depositPerByte: e.deposit_per_byte,
          depositPerItem: e.deposit_per_item,
          rotationId,
          keys: undefined,
          contractsInstantiated: 0n,
          codes: new Set(),
          balances: new Map(),
          secret: undefined,
          signer: undefined,
          ecdh: undefined,
        };
        this.#clusters.set(key, cluster);
        this.#egress.track(this.clusterOrigin(cluster));
        if (this.isMember(cluster)) this.#log.info("this worker is a member of a new cluster", { cluster: e.cluster, block: block.number });
        if (rotationId !== undefined) this.#gatekeeper.publishClusterKey(cluster.id, rotationId, cluster.workers);
        else {
          this.#keyPending++;
          this.#log.warn("a cluster was created before the master key is established; its key is published once it is", { cluster: e.cluster });
        }
        return;
      }
      case "WorkerAdded": {
        const cluster = this.#clusters.get(hexKey(event.value.cluster));
        if (cluster === undefined || cluster.workers.some((w) => bytesEqual(w, event.value.worker))) return;
        cluster.workers.push(event.value.worker);
        if (bytesEqual(event.value.worker, this.#me)) this.#log.info("this worker joined a cluster", { cluster: cluster.id, block: block.number });
        // Before the master key exists, the pending publication will include this worker.
        if (cluster.rotationId !== undefined) this.#gatekeeper.publishClusterKey(cluster.id, cluster.rotationId, [event.value.worker]);
        return;
      }
      case "WorkerRemoved": {
        const cluster = this.#clusters.get(hexKey(event.value.cluster));
        if (cluster === undefined) return;
        cluster.workers = cluster.workers.filter((w) => !bytesEqual(w, event.value.worker));
        if (bytesEqual(event.value.worker, this.#me)) {
          // Least privilege: a worker out of the cluster keeps neither its keys nor its contracts' state.
          this.forgetCluster(cluster);
          this.#log.info("this worker left a cluster; its keys and contract state are discarded", { cluster: cluster.id, block: block.number });
        }
        return;
      }
      case "CodeUploaded": {
        const e = event.value;
        const cluster = this.#clusters.get(hexKey(e.cluster));
        if (cluster === undefined) return;
        const key = hexKey(e.code_hash);
        if (cluster.codes.has(key)) return;
        if (cluster.codes.size >= CODES_MAX) {
          this.#log.error("too many codes in one cluster; upload ignored", { max: CODES_MAX });
          return;
        }
        // The chain hashes what it stores; a mismatch means a broken chain, not bad user input.
        cluster.codes.add(key);
        try {
          this.#codes.put(e.code_hash, e.code);
        } catch (err) {
          if (err instanceof assert.AssertionError) {
            cluster.codes.delete(key);
            this.#log.error("uploaded code does not hash to its code hash; ignored", { codeHash: e.code_hash });
            return;
          }
          throw err;
        }
        return;
      }
      case "ContractInstantiated":
        return this.instantiate(event.value, block);
      case "Deposit": {
        const e = event.value;
        const cluster = this.#clusters.get(hexKey(e.cluster));
        if (cluster === undefined) return;
        const account = hexKey(e.account);
        const before = cluster.balances.get(account);
        if (before === undefined && cluster.balances.size >= CLUSTER_ACCOUNTS_MAX) {
          this.#log.error("too many accounts in one cluster; deposit not credited", { max: CLUSTER_ACCOUNTS_MAX });
          return;
        }
        cluster.balances.set(account, (before ?? 0n) + e.amount);
        return;
      }
    }
  }

  private onClusterKey(message: MessageValue, block: BlockInfo): void {
    if (message.sender.tag !== "Gatekeeper") return;
    const published = this.decode(ClusterKeyPublished, message.payload, "ClusterKeyPublished");
    if (published === undefined) return;
    const cluster = this.#clusters.get(hexKey(published.cluster));
    if (cluster === undefined) return;
    cluster.keys = published.keys;
    if (cluster.secret !== undefined) {
      const mine = publicKeysOf(cluster.secret);
      if (!bytesEqual(mine.pubkey, published.keys.pubkey) || !bytesEqual(mine.ecdh_pubkey, published.keys.ecdh_pubkey)) {
        this.#log.error("the chain carries cluster keys other than the ones this worker holds; gatekeeper state has diverged", { cluster: cluster.id });
      }
      return;
    }
    if (!this.isMember(cluster)) return;
    const share = published.shares.find((s) => bytesEqual(s.worker, this.#me));
    if (share === undefined) return;
    let secret: Uint8Array;
    const ecdhPrivate = this.#keys.ecdhPrivateKey();
    try {
      secret = decryptClusterKeyShare(ecdhPrivate, cluster.id, share);
    } catch (e) {
      if (!(e instanceof PrimitivesError) && !(e instanceof RangeError)) throw e;
      this.#log.error("a cluster key share addressed to this worker does not decrypt; waiting for another", { cluster: cluster.id, reason: e.message });
      return;
    } finally {
      ecdhPrivate.fill(0);
    }
    const derived = publicKeysOf(secret);
    if (!bytesEqual(derived.pubkey, published.keys.pubkey) || !bytesEqual(derived.ecdh_pubkey, published.keys.ecdh_pubkey)) {
      secret.fill(0);
      this.#log.error("refused a cluster key share: its secret does not derive the published keys", { cluster: cluster.id });
      return;
    }
    this.holdClusterSecret(cluster, secret);
    this.#needsCheckpoint = true;
    this.#log.info("received the cluster key", { cluster: cluster.id, block: block.number });
  }

  private instantiate(e: Extract<ClusterEventValue, { tag: "ContractInstantiated" }>["value"], block: BlockInfo): Pending {
    const cluster = this.#clusters.get(hexKey(e.cluster));
    const key = hexKey(e.contract);
    if (cluster === undefined || this.#contracts.has(key)) {
      this.#log.warn("ignoring a ContractInstantiated for an unknown cluster or an existing contract", { contract: e.contract });
      return;
    }
    if (this.#contracts.size >= CONTRACTS_MAX) {
      this.#log.error("too many contracts to follow; instantiation ignored", { max: CONTRACTS_MAX });
      return;
    }
    // Every pRuntime counts the cluster's message; members holding the key also send it.
    const sequence = cluster.contractsInstantiated;
    cluster.contractsInstantiated++;
    const running = cluster.secret !== undefined && this.isMember(cluster);
    const contract: Contract = {
      id: e.contract,
      cluster,
      codeHash: e.code_hash,
      deployer: e.deployer,
      running,
      commands: 0n,
      storage: new ContractStorage(),
      secret: undefined,
      ecdh: undefined,
    };
    this.#contracts.set(key, contract);
    this.#instantiatedInBlock.add(key);
    if (cluster.secret === undefined) return;
    this.deriveContractKeys(contract);
    assert.ok(contract.secret !== undefined && cluster.signer !== undefined);
    const signer = cluster.signer;
    const payload = ContractKeyPublished.codec.enc({ contract: contract.id, keys: publicKeysOf(contract.secret) });
    this.#egress.push({ sender: this.clusterOrigin(cluster), destination: CONTRACT_KEY_TOPIC, payload }, sequence, (p) => signer.sign(p));
    this.#needsCheckpoint = true;
    if (running) return this.runInit(contract, e.init_args, block);
  }

  private runInit(contract: Contract, initArgs: Uint8Array, block: BlockInfo): Pending {
    const initId = initIdOf(initArgs);
    const envelope = this.decode(EncryptedPayload, initArgs, "init args");
    const outcome = envelope === undefined ? undefined : this.initOutcome(contract, envelope, initId, block);
    return finish(outcome, (outcome) => {
      if (envelope !== undefined && outcome !== undefined) {
        // The init args were sealed to the cluster key; the result goes from the contract's key.
        const keys = this.senderKeys(contract, envelope.sender_pubkey, "an init's sender key cannot be encrypted to; its result is not kept");
        if (keys !== undefined) {
          keys.command.fill(0);
          try {
            this.storeResult(contract, initId, INIT_POSITION, keys.result, outcome, block);
          } finally {
            keys.result.fill(0);
          }
        }
      }
      this.#log.debug("contract instantiated", { contract: contract.id, ok: outcome?.ok ?? false, block: block.number });
    });
  }

  private initOutcome(contract: Contract, envelope: EncryptedPayloadValue, initId: Uint8Array, block: BlockInfo): CallOutcomeValue | Promise<CallOutcomeValue> {
    const cluster = contract.cluster;
    assert.ok(cluster.ecdh !== undefined && contract.secret !== undefined);
    const plain = this.open(cluster.ecdh, WireLabels.init, contract.id, envelope);
    if (plain === undefined) return failure("decrypt", "the init args do not decrypt with the cluster key");
    const init = this.decodePlain(InitPlaintext, plain);
    if (init === undefined) return failure("invalid-input", "the init args do not decode as InitPlaintext");
    const input = decodeUtf8(init.input);
    if (input === undefined) return failure("invalid-input", "the init input is not UTF-8 JSON text");
    const gasLimit = init.gas_limit < INIT_GAS_MAX ? init.gas_limit : INIT_GAS_MAX;
    const origin: CallOrigin = { kind: "account", id: toHex(contract.deployer) };
    return andThen(this.call(contract, "init", input, origin, block, callSeed(contract.secret, initId), gasLimit), (result): CallOutcomeValue => {
      if (!result.ok) return failure(result.error.kind, result.error.message, result.gasUsed);
      const delta = contract.storage.deltaOf(result.writes);
      if (contract.storage.bytes + delta.bytes > CONTRACT_STORAGE_BYTES_MAX) {
        return failure("storage-full", `the contract would hold more than ${CONTRACT_STORAGE_BYTES_MAX} bytes of storage`, result.gasUsed);
      }
      this.applyWrites(contract, result.writes);
      return { ok: true, output: result.output, gas_used: result.gasUsed, fee: 0n, events: result.events, error: undefined };
    });
  }

  private applyWrites(contract: Contract, writes: StorageWrites): void {
    contract.storage.apply(writes);
    this.#touched.add(contract.storage);
  }

  private onContractCommand(message: MessageValue, block: BlockInfo): Pending {
    if (message.sender.tag !== "AccountId") return;
    // Decoding the outer command is cheap; only members running the contract go further.
    const command = this.decode(ContractCommand, message.payload, "ContractCommand");
    if (command === undefined) return;
    const contract = this.#contracts.get(hexKey(command.contract));
    if (contract === undefined || !contract.running) return;
    const commandId = commandIdOf(message.sender.value, command.payload);
    if (this.#results.has(contract.id, commandId)) {
      // The same ciphertext again (anyone can copy it from the chain): run each command once.
      this.#log.warn("ignoring a command already executed", { contract: contract.id, block: block.number });
      return;
    }
    const position = contract.commands;
    contract.commands++;
    const envelope = this.decode(EncryptedPayload, command.payload, "command envelope");
    // Without an envelope there is no key to answer to: nothing runs, nothing is stored.
    if (envelope === undefined) return;
    const keys = this.senderKeys(contract, envelope.sender_pubkey, "a command's sender key cannot be encrypted to; it is not run and no result is kept");
    if (keys === undefined) return;
    let outcome: CallOutcomeValue | Promise<CallOutcomeValue>;
    try {
      outcome = this.commandOutcome(contract, message.sender.value, envelope, keys.command, commandId, block, command.gas_limit);
    } catch (e) {
      keys.result.fill(0);
      throw e;
    } finally {
      // Only the decryption, before the call starts, needs the command key.
      keys.command.fill(0);
    }
    return finish(
      outcome,
      (outcome) => this.storeResult(contract, commandId, position, keys.result, outcome, block),
      () => keys.result.fill(0),
    );
  }

  /**
   * The keys between the contract and a sender's key: of the envelope the sender sealed to the
   * contract, and of the result sealed back. One agreement serves both. A sender key no secret
   * can be agreed with gives none (logged), the same on every worker.
   */
  private senderKeys(contract: Contract, senderPubkey: Uint8Array, refusal: string): { command: Uint8Array; result: Uint8Array } | undefined {
    assert.ok(contract.ecdh !== undefined);
    let shared: Uint8Array;
    try {
      shared = x25519SharedSecret(contract.ecdh.privateKey, senderPubkey);
    } catch (e) {
      if (!(e instanceof PrimitivesError)) throw e;
      this.#log.warn(refusal, { contract: contract.id });
      return undefined;
    }
    try {
      return {
        command: envelopeKey(shared, WireLabels.command, senderPubkey, contract.ecdh.publicKey),
        result: envelopeKey(shared, WireLabels.commandResult, contract.ecdh.publicKey, senderPubkey),
      };
    } finally {
      shared.fill(0);
    }
  }

  private commandOutcome(
    contract: Contract,
    who: Uint8Array,
    envelope: EncryptedPayloadValue,
    commandKey: Uint8Array,
    commandId: Uint8Array,
    block: BlockInfo,
    chainGasLimit: bigint,
  ): CallOutcomeValue | Promise<CallOutcomeValue> {
    assert.ok(contract.secret !== undefined);
    let plain: Uint8Array;
    try {
      plain = openWithKey(commandKey, commandAssociatedData(contract.id, who), { senderPublicKey: envelope.sender_pubkey, nonce: envelope.iv, ciphertext: envelope.ciphertext });
    } catch (e) {
      // Tampered, misaddressed or malformed: the sender's problem, reported in its outcome.
      if (!(e instanceof PrimitivesError)) throw e;
      return failure("decrypt", "the command does not decrypt with the contract key");
    }
    const cmd = this.decodePlain(CommandPlaintext, plain);
    if (cmd === undefined) return failure("invalid-input", "the command does not decode as CommandPlaintext");
    // The chain checked the clear gas limit against CommandGasMax; the sealed one is what the
    // sender signed up to pay for, so the two must agree or nothing runs and nothing is charged.
    if (cmd.gas_limit !== chainGasLimit) {
      return failure("invalid-input", `the command's sealed gas limit ${cmd.gas_limit} differs from the ${chainGasLimit} it was submitted with; submit it again with the same limit in both`);
    }
    // Also enforced here, so a chain that let a larger one through still cannot stall a worker.
    // Refused rather than clamped: running it with less gas than asked would charge for a call the sender did not ask for.
    if (cmd.gas_limit > COMMAND_GAS_MAX) {
      return failure("gas-limit-too-high", `the command asks for ${cmd.gas_limit} gas; the chain's CommandGasMax is ${COMMAND_GAS_MAX}; send it again with at most that`);
    }
    const input = decodeUtf8(cmd.input);
    if (input === undefined) return failure("invalid-input", "the command input is not UTF-8 JSON text");
    const cluster = contract.cluster;
    const account = hexKey(who);
    const balance = cluster.balances.get(account) ?? 0n;
    const reserve = cmd.gas_limit * cluster.gasPrice;
    if (reserve > balance) {
      return failure("insufficient-balance", `gas limit ${cmd.gas_limit} at gas price ${cluster.gasPrice} needs ${reserve}; the sender's balance in the cluster is ${balance}`);
    }
    const caller = toHex(who);
    const call = this.call(contract, "handle", input, { kind: "account", id: caller }, block, callSeed(contract.secret, commandId), cmd.gas_limit);
    return andThen(call, (result) => this.charge(contract, account, balance, result));
  }

  /** Charges the sender for a finished command and commits its writes if it paid for them. */
  private charge(contract: Contract, account: string, balance: bigint, result: ContractCallResult): CallOutcomeValue {
    const cluster = contract.cluster;
    const gasFee = result.gasUsed * cluster.gasPrice;
    let outcome: CallOutcomeValue;
    if (!result.ok) {
      outcome = failure(result.error.kind, result.error.message, result.gasUsed, gasFee);
    } else {
      const delta = contract.storage.deltaOf(result.writes);
      const deposit = BigInt(Math.max(0, delta.bytes)) * cluster.depositPerByte + BigInt(Math.max(0, delta.items)) * cluster.depositPerItem;
      if (gasFee + deposit > balance) {
        outcome = failure("insufficient-balance", `the storage deposit of ${deposit} plus gas ${gasFee} exceeds the sender's balance ${balance}; nothing was stored`, result.gasUsed, gasFee);
      } else if (contract.storage.bytes + delta.bytes > CONTRACT_STORAGE_BYTES_MAX) {
        outcome = failure("storage-full", `the contract would hold more than ${CONTRACT_STORAGE_BYTES_MAX} bytes of storage; nothing was stored`, result.gasUsed, gasFee);
      } else {
        this.applyWrites(contract, result.writes);
        outcome = { ok: true, output: result.output, gas_used: result.gasUsed, fee: gasFee + deposit, events: result.events, error: undefined };
      }
    }
    const left = balance - outcome.fee;
    assert.ok(left >= 0n, "a command never charges more than the sender's balance");
    if (left === 0n) cluster.balances.delete(account);
    else cluster.balances.set(account, left);
    return outcome;
  }

  /** Off this thread when the runner can (`execute`): then the result comes as a promise. */
  private call(contract: Contract, mode: CallMode, input: string, origin: CallOrigin, block: BlockInfo, seed: Uint8Array, gasLimit: bigint): ContractCallResult | Promise<ContractCallResult> {
    const code = this.#codes.get(contract.codeHash);
    if (code === undefined) return { ok: false, error: { kind: "invalid-code", message: "the contract's code was never uploaded to this cluster" }, gasUsed: 0n };
    const runner = this.#runner;
    // A member without a VM would diverge from the others: a broken deployment, stop loudly.
    assert.ok(runner !== undefined, "pRuntime runs contracts only with a contract VM");
    const request = {
      code,
      codeHash: contract.codeHash,
      mode,
      input,
      origin,
      env: { blockNumber: block.number, timestamp: Number(block.timestampMs), contractId: toHex(contract.id), caller: origin.id },
      seed,
      gasLimit,
      storage: contract.storage,
    };
    // Never charge past the reserve the sender was checked for, whatever the VM counted.
    const capped = (result: ContractCallResult): ContractCallResult => (result.gasUsed > gasLimit ? { ...result, gasUsed: gasLimit } : result);
    return runner.execute === undefined ? capped(runner.call(request)) : runner.execute(request).then(capped);
  }

  private open(recipient: X25519KeyPair, label: Uint8Array, associatedData: Uint8Array, envelope: EncryptedPayloadValue): Uint8Array | undefined {
    try {
      return openEnvelope({
        recipientPrivateKey: recipient.privateKey,
        label,
        associatedData,
        envelope: { senderPublicKey: envelope.sender_pubkey, nonce: envelope.iv, ciphertext: envelope.ciphertext },
      });
    } catch (e) {
      // Tampered, misaddressed or malformed: the sender's problem, reported in its outcome.
      if (e instanceof PrimitivesError) return undefined;
      throw e;
    }
  }

  private decodePlain<X>(type: Type<X>, plain: Uint8Array): X | undefined {
    try {
      return decodeExact(type, plain);
    } catch (e) {
      if (e instanceof ScaleDecodeError) return undefined;
      throw e;
    } finally {
      plain.fill(0);
    }
  }

  private storeResult(contract: Contract, commandId: Uint8Array, position: bigint, resultKey: Uint8Array, outcome: CallOutcomeValue, block: BlockInfo): void {
    assert.ok(contract.ecdh !== undefined && contract.secret !== undefined);
    const plaintext = CallOutcome.codec.enc(outcome);
    let sealed;
    try {
      sealed = sealWithKey(resultKey, contract.ecdh.publicKey, commandId, plaintext, commandResultNonce(contract.secret, commandId, position));
    } finally {
      plaintext.fill(0);
    }
    const result = CommandResult.codec.enc({
      contract: contract.id,
      command_id: commandId,
      block_number: block.number,
      outcome: { sender_pubkey: sealed.senderPublicKey, iv: sealed.nonce, ciphertext: sealed.ciphertext },
    });
    this.#results.put(contract.id, commandId, result);
  }
}
