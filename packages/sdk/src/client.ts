/**
 * `PhalaClient`: one connection to a node, and from it clusters, workers, code, contracts.
 * Chain state is the only source of truth the SDK trusts: keys to encrypt to, workers to
 * believe and clusters they belong to are all read from it, never from a worker.
 */
import { blake2b256, bytesEqual, fromHex, toHex, HexError, type KeyPair } from "@phala-ts/primitives";
import { SystemStorage, signExtrinsic } from "@phala-ts/runtime";
import { COMMAND_GAS_MAX } from "@phala-ts/runtime/phala";
import { PhalaRegistryStorage, PhatContractsStorage, contractIdOf, type ClusterInfoValue, type ContractInfoValue, type PublicKeysValue, type WorkerInfoValue } from "@phala-ts/runtime/phala";
import { bigintArg, gasLimitArg } from "./args.ts";
import { callResult, type CallResult } from "./call-outcome.ts";
import type { AccountBalance, ClientSettings, ClusterDetails, ContractDetails, IncludedExtrinsic, WorkerDetails } from "./client-types.ts";
import { PhalaContract, type ContractHost } from "./contract.ts";
import { dispatchFailure, extrinsicOutcome, type ChainEvent } from "./dispatch-outcome.ts";
import { PhalaSdkError, errorMessage } from "./errors.ts";
import { hex, idBytes, type Hex, type IdLike } from "./ids.ts";
import { jsonBytes } from "./json.ts";
import {
  CLUSTERS_LIST_MAX,
  DEFAULT_CONTRACT_KEY_TIMEOUT_MS,
  DEFAULT_FINALIZATION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RESULT_TIMEOUT_MS,
  DEFAULT_SALT_BYTES,
  DEFAULT_QUERY_BATCH_MAX,
  DEFAULT_WORKER_TIMEOUT_MS,
  DEFAULT_MAX_STALENESS_MS,
  POLL_INTERVAL_MS,
  PROVENANCE_CACHE_MAX,
} from "./limits.ts";
import { QueryBatcher } from "./query-batcher.ts";
import { QueryCertificateCache } from "./query-certificate.ts";
import { randomBytes } from "./random.ts";
import { awaitCommandResult, type ReachableWorker } from "./result-poll.ts";
import { ChainReader, unverified, type CertifiedBlock } from "./chain-reader.ts";
import { verifyKeyProvenance, type KeyProvenance } from "./provenance.ts";
import { RpcClient } from "./rpc-client.ts";
import type { TrustAnchor, TrustMode } from "./trust-anchor.ts";
import { encodeCall, phalaRuntime } from "./runtime.ts";
import { defaultWebSocketFactory, type WebSocketFactory } from "./websocket.ts";
import { sealInitArgs } from "./wire-crypto.ts";
import type { FetchLike } from "./worker-client.ts";
import { platformFetch } from "#worker-http";

export interface PhalaClientOptions {
  /**
   * What to trust about the chain (required): its chain spec, its genesis hash, or, for a dev
   * chain only, `{ trustOnFirstUse: true }`. Everything the SDK reads is then proven from it.
   */
  trust?: TrustAnchor;
  /** How old the newest finalized block may be by the local clock before the node is taken to replay an old state (default 5 min). */
  maxStalenessMs?: number;
  /** Time the node has to answer one request (default 30 s). */
  requestTimeoutMs?: number;
  /** Time from submitting an extrinsic to its finalization (default 60 s). */
  finalizationTimeoutMs?: number;
  /** Time for a new contract's key to appear on chain after its instantiation (default 60 s). */
  contractKeyTimeoutMs?: number;
  /** Time for a worker to serve a command's result after it is final (default 60 s). */
  resultTimeoutMs?: number;
  /** Time a worker has for one HTTP request (default 10 s). */
  workerTimeoutMs?: number;
  /** How often to look again while waiting for chain state or a worker (default 250 ms). */
  pollIntervalMs?: number;
  /** The WebSocket to use; the platform's own or the `ws` package by default. */
  webSocket?: WebSocketFactory;
  /** The fetch to reach workers with; the page's fetch in browsers, an undici Pool per worker on Node by default. */
  fetch?: FetchLike;
  /** Unix ms clock for query certificate lifetimes; `Date.now` by default. */
  now?: () => number;
  /**
   * Queries to one worker in flight together are sent as one batch of at most this many,
   * answered under one signature (default 8; 1 sends every query on its own).
   */
  queryBatchMax?: number;
}

export interface InstantiateParams {
  codeHash: IdLike;
  cluster: IdLike;
  /** Bytes, or a string taken as UTF-8; random when absent. A deployer needs a new salt to deploy the same code again. */
  salt?: Uint8Array | string;
  /** Arguments of the contract's `init`, as JSON. */
  initArgs?: unknown;
  gasLimit: bigint | number;
  /** Wait for a worker to serve the init's outcome and throw if init failed (default true). */
  waitForInit?: boolean;
}

export interface InstantiateResult {
  contractId: Hex;
  salt: Uint8Array;
  blockNumber: number;
  blockHash: Hex;
  /** The init's outcome; undefined when `waitForInit` was false. */
  init: CallResult | undefined;
}

export interface TransferToClusterParams {
  cluster: IdLike;
  /** Plancks (1 PHA = 10^12). */
  amount: bigint;
  /** Account credited inside the cluster; the signer by default. */
  dest?: IdLike;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function keysOf(k: PublicKeysValue | undefined): { pubkey: Hex; ecdhPubkey: Hex } | undefined {
  return k && { pubkey: hex(k.pubkey), ecdhPubkey: hex(k.ecdh_pubkey) };
}

function saltBytes(salt: Uint8Array | string | undefined): Uint8Array {
  if (salt === undefined) return randomBytes(DEFAULT_SALT_BYTES);
  return typeof salt === "string" ? new TextEncoder().encode(salt) : salt;
}

function hexField(method: string, v: unknown, length?: number): Uint8Array {
  try {
    if (typeof v !== "string") throw new HexError("not a string");
    const b = fromHex(v);
    if (length !== undefined && b.length !== length) throw new HexError(`${b.length} bytes`);
    return b;
  } catch (e) {
    throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${method} answered something that is not the expected hex (${errorMessage(e)})`, { cause: e });
  }
}

/** Pool refusals the user can act on. */
function poolRefusal(what: string, e: PhalaSdkError): PhalaSdkError {
  const rpcCode = e.details?.rpcCode;
  const data = String(e.details?.rpcData ?? "");
  const message = String(e.details?.rpcMessage ?? e.message);
  if (typeof rpcCode !== "number" || rpcCode < 1000 || rpcCode > 1099) return e;
  if (/pay some fees|balance too low/i.test(data)) {
    return new PhalaSdkError("INSUFFICIENT_BALANCE", "gas", `${what}: the account cannot pay the transaction fee (${data}); send it PHA first`, { cause: e, details: { rpcCode } });
  }
  return new PhalaSdkError("TX_INVALID", "chain", `${what}: the node refused the transaction: ${message}${data ? ` (${data})` : ""}`, { cause: e, details: { rpcCode, rpcData: data } });
}

/** Blocks whose proven body and events are kept: the few a burst of submissions lands in. */
const PROVEN_BLOCKS_MAX = 8;
/** Head reads kept between finalized blocks; enough for every record a busy client touches. */
const HEAD_READS_MAX = 4096;

export class PhalaClient implements ContractHost {
  readonly rpc: RpcClient;
  /** Verifies what the node says: certificates, set changes, read proofs. */
  readonly chain: ChainReader;
  readonly genesisHash: Uint8Array;
  readonly specVersion: number;
  readonly transactionVersion: number;
  readonly settings: ClientSettings;
  readonly certificates: QueryCertificateCache;
  readonly queryBatcher: QueryBatcher;
  /** Per-account chains of submissions, so two sends from one account never take the same nonce. */
  readonly #accountLocks = new Map<string, Promise<unknown>>();
  /**
   * Reads at the head, kept until the next finalized block: a query checks the same worker,
   * cluster and contract records each time, and they can only change with a new block.
   * Absent (no caching) when the node offers no finalized-head subscription.
   */
  #headReads: Map<string, Promise<Uint8Array | undefined>> | undefined;
  #headEpoch = 0;
  /** The certified finalized block head reads are proven against, until the next finalized block. */
  #head: Promise<CertifiedBlock> | undefined;
  /** Head reads asked for in this turn, proven together under one read proof. */
  #pending: Array<{ key: Uint8Array; settle: (v: Promise<Uint8Array | undefined>) => void }> = [];
  /** Verified provenances by target and key, so a key is checked once and not again per command. */
  readonly #provenance = new Map<string, Promise<KeyProvenance>>();
  /** Proven bodies and events of the last blocks extrinsics were included in. */
  readonly #provenBlocks = new Map<string, Promise<{ certified: CertifiedBlock; extrinsics: string[]; events: Uint8Array | undefined }>>();

  private constructor(rpc: RpcClient, chain: ChainReader, version: { specVersion: number; transactionVersion: number }, settings: ClientSettings, queryBatcher: QueryBatcher) {
    this.rpc = rpc;
    this.chain = chain;
    this.queryBatcher = queryBatcher;
    this.genesisHash = chain.genesisHash;
    this.specVersion = version.specVersion;
    this.transactionVersion = version.transactionVersion;
    this.settings = settings;
    this.certificates = new QueryCertificateCache(settings.now);
  }

  /** Connects to a node over WebSocket (`ws://127.0.0.1:9944` for `phala dev`). */
  static async connect(nodeUrl: string, opts: PhalaClientOptions = {}): Promise<PhalaClient> {
    if (!/^wss?:\/\//.test(nodeUrl)) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `the node address must start with ws:// or wss://, got ${nodeUrl}`);
    const fetchImpl = opts.fetch ?? platformFetch();
    if (!fetchImpl) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "this platform has no fetch; pass one in the options");
    const settings: ClientSettings = {
      finalizationTimeoutMs: opts.finalizationTimeoutMs ?? DEFAULT_FINALIZATION_TIMEOUT_MS,
      contractKeyTimeoutMs: opts.contractKeyTimeoutMs ?? DEFAULT_CONTRACT_KEY_TIMEOUT_MS,
      resultTimeoutMs: opts.resultTimeoutMs ?? DEFAULT_RESULT_TIMEOUT_MS,
      workerTimeoutMs: opts.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS,
      pollIntervalMs: opts.pollIntervalMs ?? POLL_INTERVAL_MS,
      fetch: fetchImpl,
      now: opts.now ?? Date.now,
    };
    const queryBatcher = new QueryBatcher(opts.queryBatchMax ?? DEFAULT_QUERY_BATCH_MAX, { fetch: settings.fetch, timeoutMs: settings.workerTimeoutMs });
    const rpc = await RpcClient.connect({ url: nodeUrl, requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, webSocket: opts.webSocket ?? (await defaultWebSocketFactory()) });
    try {
      const maxStalenessMs = opts.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS;
      const [chain, version] = await Promise.all([ChainReader.open(rpc, opts.trust, { now: settings.now, maxStalenessMs }), rpc.request("state_getRuntimeVersion")]);
      // The versions only go into what the client signs: a node that lies about them gets its transactions refused, nothing more.
      const v = version as { specVersion?: unknown; transactionVersion?: unknown } | null;
      if (typeof v?.specVersion !== "number" || typeof v.transactionVersion !== "number") {
        throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", "state_getRuntimeVersion answered without specVersion and transactionVersion; is this a Phala node?");
      }
      const client = new PhalaClient(rpc, chain, { specVersion: v.specVersion, transactionVersion: v.transactionVersion }, settings, queryBatcher);
      await client.#followFinalized();
      return client;
    } catch (e) {
      rpc.close();
      throw e;
    }
  }

  close(): void {
    this.certificates.clear();
    this.rpc.close();
  }

  /**
   * How the chain's identity was established: from a genesis hash or chain spec the caller
   * gave, or taken on first use from the node (dev chains only: the node was believed).
   */
  get trust(): TrustMode {
    return this.chain.trust;
  }

  // ------------------------------------------------------------------ chain state

  async #followFinalized(): Promise<void> {
    try {
      await this.rpc.subscribe("chain_subscribeFinalizedHeads", [], "chain_unsubscribeFinalizedHeads", {
        onItem: () => {
          this.#headEpoch++;
          this.#headReads?.clear();
          this.#head = undefined;
        },
        onClose: () => {
          this.#headReads = undefined;
          this.#head = undefined;
        },
      });
      this.#headReads = new Map();
    } catch {
      this.#headReads = undefined;
    }
  }

  /**
   * Changes with every finalized block while head reads are cached; undefined when they are
   * not. What was read from chain under one value still holds under the same value.
   */
  get headEpoch(): number | undefined {
    return this.#headReads === undefined ? undefined : this.#headEpoch;
  }

  /**
   * The certified finalized block that reads are proven against: one per finalized block
   * while the node's finalized heads are followed, else certified again for every read.
   */
  finalizedBlock(): Promise<CertifiedBlock> {
    if (this.#headReads === undefined) return this.chain.finalized();
    if (!this.#head) {
      const head = this.chain.finalized();
      this.#head = head;
      head.catch(() => {
        if (this.#head === head) this.#head = undefined;
      });
    }
    return this.#head;
  }

  /**
   * Storage at the newest finalized block (or at block `at`, certified first), proven against
   * its certified state root: CHAIN_UNVERIFIED when the node's answer does not verify.
   */
  async storage(key: Uint8Array, at?: Uint8Array): Promise<Uint8Array | undefined> {
    if (at !== undefined) {
      const block = await this.chain.certify(at);
      return (await this.chain.read(block, [key]))[0];
    }
    if (this.#headReads) {
      const id = toHex(key);
      const hit = this.#headReads.get(id);
      if (hit) return hit.then((v) => v?.slice());
      if (this.#headReads.size >= HEAD_READS_MAX) this.#headReads.clear();
      const read = this.#provenAtHead(key);
      this.#headReads.set(id, read);
      read.catch(() => this.#headReads?.delete(id));
      return read.then((v) => v?.slice());
    }
    return this.#provenAtHead(key);
  }

  /** Queues a head read; reads asked for in the same turn go to the node as one read proof. */
  #provenAtHead(key: Uint8Array): Promise<Uint8Array | undefined> {
    return new Promise<Promise<Uint8Array | undefined>>((settle) => {
      this.#pending.push({ key, settle });
      if (this.#pending.length === 1) queueMicrotask(() => void this.#flushReads());
    }).then((v) => v);
  }

  async #flushReads(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    const values = this.finalizedBlock().then((block) => this.chain.read(block, batch.map((p) => p.key)));
    batch.forEach((p, i) => p.settle(values.then((v) => v[i])));
  }

  async #read<V>(item: { type: { codec: { dec(b: Uint8Array): V } } }, key: Uint8Array): Promise<V | undefined> {
    const raw = await this.storage(key);
    if (raw === undefined) return undefined;
    try {
      return item.type.codec.dec(raw);
    } catch (e) {
      throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `storage at ${toHex(key).slice(0, 66)}… does not decode with this SDK's runtime types; is the SDK as new as the chain?`, { cause: e });
    }
  }

  async account(accountId: IdLike): Promise<AccountBalance> {
    const id = idBytes(accountId, "account id");
    const info = await this.#read(SystemStorage.Account, SystemStorage.Account.key(id));
    if (!info) return { nonce: 0, free: 0n, reserved: 0n, frozen: 0n };
    return { nonce: info.nonce, free: info.data.free, reserved: info.data.reserved, frozen: info.data.frozen };
  }

  /** `PhalaRegistry.Workers(pubkey)`; undefined when not registered. */
  worker(pubkey: IdLike): Promise<WorkerInfoValue | undefined> {
    return this.#read(PhalaRegistryStorage.Workers, PhalaRegistryStorage.Workers.key(idBytes(pubkey, "worker public key")));
  }

  async workerDetails(pubkey: Uint8Array): Promise<WorkerDetails> {
    const [info, endpoint] = await Promise.all([this.worker(pubkey), this.#read(PhalaRegistryStorage.Endpoints, PhalaRegistryStorage.Endpoints.key(pubkey))]);
    return { pubkey: hex(pubkey), info, endpoint: endpoint && { url: endpoint.endpoint, signedAt: endpoint.signed_at } };
  }

  /** `PhalaPhatContracts.Clusters(id)`; undefined when there is no such cluster. */
  clusterInfo(id: IdLike): Promise<ClusterInfoValue | undefined> {
    return this.#read(PhatContractsStorage.Clusters, PhatContractsStorage.Clusters.key(idBytes(id, "cluster id")));
  }

  /** Whether `codeHash` was uploaded to the cluster (`PhalaPhatContracts.ClusterCode`). */
  async codeUploaded(cluster: IdLike, codeHash: IdLike): Promise<boolean> {
    const key = PhatContractsStorage.ClusterCode.key(idBytes(cluster, "cluster id"), idBytes(codeHash, "code hash"));
    return (await this.storage(key)) !== undefined;
  }

  clusterKeys(id: IdLike): Promise<PublicKeysValue | undefined> {
    return this.#read(PhalaRegistryStorage.ClusterKeys, PhalaRegistryStorage.ClusterKeys.key(idBytes(id, "cluster id")));
  }

  contractInfo(id: IdLike): Promise<ContractInfoValue | undefined> {
    return this.#read(PhatContractsStorage.Contracts, PhatContractsStorage.Contracts.key(idBytes(id, "contract id")));
  }

  contractKeys(id: IdLike): Promise<PublicKeysValue | undefined> {
    return this.#read(PhalaRegistryStorage.ContractKeys, PhalaRegistryStorage.ContractKeys.key(idBytes(id, "contract id")));
  }

  /** Ids of every cluster on chain (at most CLUSTERS_LIST_MAX). */
  async clusterIds(): Promise<Hex[]> {
    const prefix = PhatContractsStorage.Clusters.prefix;
    const raw = await this.rpc.request("state_getKeysPaged", [toHex(prefix), CLUSTERS_LIST_MAX]);
    if (!Array.isArray(raw)) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", "state_getKeysPaged answered something that is not a list");
    return raw.map((k) => hex(PhatContractsStorage.Clusters.decodeKey(hexField("state_getKeysPaged", k))));
  }

  /** Every cluster with its workers, their registrations and endpoints. */
  async clusters(): Promise<ClusterDetails[]> {
    const ids = await this.clusterIds();
    const out: ClusterDetails[] = [];
    for (const id of ids) out.push(await this.cluster(id));
    return out;
  }

  /** One cluster with its workers; CLUSTER_NOT_FOUND when it does not exist. */
  async cluster(id: IdLike): Promise<ClusterDetails> {
    const cid = idBytes(id, "cluster id");
    const [info, keys] = await Promise.all([this.clusterInfo(cid), this.clusterKeys(cid)]);
    if (!info) throw new PhalaSdkError("CLUSTER_NOT_FOUND", "chain", `there is no cluster ${hex(cid)} on this chain; list them with clusters() or 'phala contract clusters'`, { details: { cluster: hex(cid) } });
    return {
      id: hex(cid),
      owner: hex(info.owner),
      gasPrice: info.gas_price,
      depositPerByte: info.deposit_per_byte,
      depositPerItem: info.deposit_per_item,
      publicKeys: keysOf(keys),
      workers: await Promise.all(info.workers.map((w) => this.workerDetails(w))),
    };
  }

  /** The cluster's registered workers that have an endpoint; NO_WORKER_ENDPOINT when there is none. */
  async reachableWorkers(cluster: IdLike): Promise<ReachableWorker[]> {
    const c = await this.cluster(cluster);
    const out: ReachableWorker[] = [];
    for (const w of c.workers) if (w.info && w.endpoint) out.push({ pubkey: w.info.pubkey, ecdhPubkey: w.info.ecdh_pubkey, url: w.endpoint.url });
    if (out.length === 0) {
      throw new PhalaSdkError("NO_WORKER_ENDPOINT", "worker", `no worker of cluster ${c.id} has a registered endpoint on chain; start the workers' pHosts (phala dev does) and wait for them to publish their endpoints`, {
        details: { cluster: c.id },
      });
    }
    return out;
  }

  /** One contract; CONTRACT_NOT_FOUND when it does not exist. */
  async contractDetails(id: IdLike): Promise<ContractDetails> {
    const cid = idBytes(id, "contract id");
    const [info, keys] = await Promise.all([this.contractInfo(cid), this.contractKeys(cid)]);
    if (!info) throw new PhalaSdkError("CONTRACT_NOT_FOUND", "chain", `there is no contract ${hex(cid)} on this chain; check the id that deploy printed`, { details: { contract: hex(cid) } });
    return { id: hex(cid), deployer: hex(info.deployer), codeHash: hex(info.code_hash), cluster: hex(info.cluster), salt: info.salt, publicKeys: keysOf(keys) };
  }

  /**
   * The provenance of a contract's or a cluster's key, every link checked in the certified
   * finalized state: contract key ← cluster key ← master key ← attested gatekeeper worker.
   * CHAIN_UNVERIFIED (`details.link` "provenance") when a link is missing or does not verify.
   */
  async keyProvenance(target: { contract: IdLike } | { cluster: IdLike }): Promise<KeyProvenance> {
    const t = "contract" in target ? { contract: idBytes(target.contract, "contract id") } : { cluster: idBytes(target.cluster, "cluster id") };
    return verifyKeyProvenance(this.chain, await this.finalizedBlock(), t);
  }

  /**
   * Checks, once per key, that `keys` are the target's keys with a verified provenance;
   * nothing may be encrypted to them before.
   */
  async checkKeyProvenance(target: { contract: Uint8Array } | { cluster: Uint8Array }, keys: PublicKeysValue): Promise<KeyProvenance> {
    const id = "contract" in target ? `contract:${toHex(target.contract)}` : `cluster:${toHex(target.cluster)}`;
    const cacheKey = `${id}:${toHex(keys.pubkey)}:${toHex(keys.ecdh_pubkey)}`;
    let p = this.#provenance.get(cacheKey);
    if (!p) {
      if (this.#provenance.size >= PROVENANCE_CACHE_MAX) this.#provenance.delete(this.#provenance.keys().next().value!);
      p = this.keyProvenance(target).then((prov) => {
        const proven = "contract" in target ? prov.contract : prov.cluster;
        if (!proven || proven.pubkey !== hex(keys.pubkey) || proven.ecdhPubkey !== hex(keys.ecdh_pubkey)) {
          throw unverified("provenance", `the ${id.split(":")[0]} key about to be used is not the one whose provenance verified`, { target: id });
        }
        return prov;
      });
      this.#provenance.set(cacheKey, p);
      p.catch(() => this.#provenance.delete(cacheKey));
    }
    return p;
  }

  // ------------------------------------------------------------------ extrinsics

  /**
   * Signs `Pallet.call { args }` with `signer` at its next nonce, submits it, waits until it
   * is finalized and returns its events; a failed dispatch throws (DISPATCH_FAILED, or
   * INSUFFICIENT_BALANCE when the account could not pay).
   */
  async submit(signer: KeyPair, pallet: string, call: string, args: Record<string, unknown>): Promise<IncludedExtrinsic> {
    const what = `${pallet}.${call}`;
    const callBytes = encodeCall(pallet, call, args);
    const accepted = await this.#serialized(signer.accountId, () => this.#submitAndWatch(signer, callBytes, what));
    const { blockHash, hash, xtHex } = await accepted.finalized;
    const { certified, extrinsics, events: eventsRaw } = await this.#provenBlock(blockHash);
    const index = extrinsics.findIndex((x) => x === xtHex);
    if (index < 0) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${what}: the node said block ${toHex(blockHash)} includes the extrinsic, but its body does not`);
    if (eventsRaw === undefined) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${what}: the node has no events for block ${toHex(blockHash)} (state pruned?)`);
    let outcome;
    try {
      outcome = extrinsicOutcome(phalaRuntime(), eventsRaw, index);
    } catch (e) {
      throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${what}: the block's events do not decode with this SDK's runtime; is the SDK as new as the chain?`, { cause: e });
    }
    if (!outcome) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `${what}: block ${toHex(blockHash)} has no dispatch event for extrinsic ${index}`);
    const included: IncludedExtrinsic = { hash: toHex(hash), blockHash: toHex(blockHash), blockNumber: certified.number, index, events: outcome.events };
    if (!outcome.success) throw dispatchFailure(what, outcome.errorName, { blockHash: included.blockHash, blockNumber: included.blockNumber, extrinsic: included.hash });
    return included;
  }

  /**
   * A finalized block's body and events, proven: the block by its certificate, the body by its
   * extrinsics root, the events by a read proof against its state root. Kept for the last few
   * blocks, since every extrinsic a busy client sends in one block asks for the same.
   */
  #provenBlock(blockHash: Uint8Array): Promise<{ certified: CertifiedBlock; extrinsics: string[]; events: Uint8Array | undefined }> {
    const key = toHex(blockHash);
    let p = this.#provenBlocks.get(key);
    if (!p) {
      p = (async () => {
        const [certified, block] = await Promise.all([this.chain.certify(blockHash), this.rpc.request("chain_getBlock", [key])]);
        const extrinsics = (block as { block?: { extrinsics?: unknown } } | null)?.block?.extrinsics;
        if (!Array.isArray(extrinsics) || !extrinsics.every((x) => typeof x === "string")) {
          throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `chain_getBlock has no body for finalized block ${key}`);
        }
        this.chain.checkBody(
          certified,
          extrinsics.map((x) => hexField("chain_getBlock", x)),
        );
        const events = (await this.chain.read(certified, [phalaRuntime().systemEvents.key()]))[0];
        return { certified, extrinsics: extrinsics as string[], events };
      })();
      if (this.#provenBlocks.size >= PROVEN_BLOCKS_MAX) this.#provenBlocks.delete(this.#provenBlocks.keys().next().value!);
      this.#provenBlocks.set(key, p);
      p.catch(() => this.#provenBlocks.delete(key));
    }
    return p;
  }

  /**
   * Runs `f` after every earlier `f` of the same account has settled; `f` returns once the
   * pool holds the extrinsic, so the next nonce read sees it.
   */
  async #serialized<T>(accountId: Uint8Array, f: () => Promise<T>): Promise<T> {
    const key = toHex(accountId);
    const before = this.#accountLocks.get(key) ?? Promise.resolve();
    const run = before.then(f, f);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#accountLocks.set(key, settled);
    void settled.then(() => {
      if (this.#accountLocks.get(key) === settled) this.#accountLocks.delete(key);
    });
    return run;
  }

  /** Submits and resolves once the pool accepted it, with a promise of its finalization (wrapped, so awaiting does not wait for it). */
  async #submitAndWatch(signer: KeyPair, callBytes: Uint8Array, what: string): Promise<{ finalized: Promise<{ blockHash: Uint8Array; hash: Uint8Array; xtHex: string }> }> {
    const nonceRaw = await this.rpc.request("system_accountNextIndex", [toHex(signer.accountId)]);
    if (typeof nonceRaw !== "number" || !Number.isSafeInteger(nonceRaw) || nonceRaw < 0) throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", "system_accountNextIndex answered something that is not a nonce");
    const xt = signExtrinsic({ signer, callBytes, nonce: nonceRaw, specVersion: this.specVersion, transactionVersion: this.transactionVersion, genesisHash: this.genesisHash });
    const xtHex = toHex(xt);
    const hash = blake2b256(xt);
    let settle!: { resolve(v: { blockHash: Uint8Array; hash: Uint8Array; xtHex: string }): void; reject(e: PhalaSdkError): void };
    const done = new Promise<{ blockHash: Uint8Array; hash: Uint8Array; xtHex: string }>((resolve, reject) => (settle = { resolve, reject }));
    // Callers attach their handler only after the pool accepted the extrinsic.
    done.catch(() => {});
    let finished = false;
    let sub: { unsubscribe(): void } | undefined;
    const finish = (f: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sub?.unsubscribe();
      f();
    };
    const timer = setTimeout(
      () => finish(() => settle.reject(new PhalaSdkError("TX_TIMEOUT", "chain", `${what} was not finalized within ${this.settings.finalizationTimeoutMs} ms; is the node producing blocks?`, { details: { extrinsic: toHex(hash) } }))),
      this.settings.finalizationTimeoutMs,
    );
    const onItem = (status: unknown) => {
      if (typeof status === "string") {
        if (status === "dropped" || status === "invalid") {
          finish(() => settle.reject(new PhalaSdkError("TX_DROPPED", "chain", `${what} was ${status} by the node before inclusion; submit it again`, { details: { extrinsic: toHex(hash) } })));
        }
        return;
      }
      if (typeof status !== "object" || status === null) return;
      const s = status as Record<string, unknown>;
      if (typeof s.finalized === "string") {
        const blockHash = s.finalized;
        finish(() => {
          try {
            settle.resolve({ blockHash: hexField("author_extrinsicUpdate", blockHash, 32), hash, xtHex });
          } catch (e) {
            settle.reject(e as PhalaSdkError);
          }
        });
      } else if (typeof s.usurped === "string") {
        finish(() => settle.reject(new PhalaSdkError("TX_DROPPED", "chain", `${what} was replaced by another extrinsic with the same nonce; submit it again`, { details: { extrinsic: toHex(hash) } })));
      }
    };
    try {
      sub = await this.rpc.subscribe("author_submitAndWatchExtrinsic", [xtHex], "author_unwatchExtrinsic", {
        onItem,
        onClose: (e) => finish(() => settle.reject(e)),
      });
      if (finished) sub.unsubscribe();
    } catch (e) {
      clearTimeout(timer);
      finished = true;
      throw e instanceof PhalaSdkError && e.code === "NODE_RPC_ERROR" ? poolRefusal(what, e) : e;
    }
    return { finalized: done };
  }

  // ------------------------------------------------------------------ contracts

  /** Uploads a contract bundle to a cluster; returns its code hash (blake2b-256 of the bytes). */
  async uploadCode(signer: KeyPair, cluster: IdLike, code: Uint8Array): Promise<Hex> {
    const clusterId = idBytes(cluster, "cluster id");
    if (!(code instanceof Uint8Array) || code.length === 0) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "the code must be the non-empty bytes of a contract bundle (phala contract build)");
    await this.submit(signer, "PhalaPhatContracts", "upload_code", { cluster: clusterId, code });
    return hex(blake2b256(code));
  }

  /** Instantiates uploaded code and returns the contract id (see `instantiateDetailed`). */
  async instantiate(signer: KeyPair, p: InstantiateParams): Promise<Hex> {
    return (await this.instantiateDetailed(signer, p)).contractId;
  }

  /**
   * Instantiates uploaded code: the init arguments are encrypted to the cluster's on-chain
   * key (refused if there is none). Returns once the cluster has published the new
   * contract's key on chain, so commands can be encrypted to it, and (unless `waitForInit`
   * is false) once a worker served the init's outcome; a failed init throws with where
   * "contract" or "gas" and the contract id in `details.contract`.
   */
  async instantiateDetailed(signer: KeyPair, p: InstantiateParams): Promise<InstantiateResult> {
    const clusterId = idBytes(p.cluster, "cluster id");
    const codeHash = idBytes(p.codeHash, "code hash");
    const gasLimit = gasLimitArg(p.gasLimit);
    const salt = saltBytes(p.salt);
    const input = jsonBytes(p.initArgs ?? null, "init arguments");
    const keys = await this.clusterKeys(clusterId);
    if (!keys) {
      if (!(await this.clusterInfo(clusterId))) await this.cluster(clusterId);
      throw new PhalaSdkError(
        "CLUSTER_KEY_MISSING",
        "chain",
        `cluster ${hex(clusterId)} has no public key on chain yet, and init arguments are never sent in plaintext; wait for the gatekeeper to publish it (a few blocks after the cluster is created) and try again`,
        { details: { cluster: hex(clusterId) } },
      );
    }
    await this.checkKeyProvenance({ cluster: clusterId }, keys);
    const contractId = contractIdOf(signer.accountId, codeHash, clusterId, salt);
    const sealed = sealInitArgs({ clusterEcdhPubkey: keys.ecdh_pubkey, contractId, gasLimit, input });
    try {
      const included = await this.submit(signer, "PhalaPhatContracts", "instantiate_contract", { code_hash: codeHash, cluster: clusterId, salt, init_args: sealed.payload });
      const announced = included.events.find((e) => e.pallet === "PhalaPhatContracts" && e.name === "Instantiating");
      const announcedId = (announced?.value as { contract?: unknown } | undefined)?.contract;
      if (announcedId instanceof Uint8Array && !bytesEqual(announcedId, contractId)) {
        throw new PhalaSdkError("NODE_BAD_RESPONSE", "chain", `the chain instantiated contract ${hex(announcedId)}, not ${hex(contractId)} as derived here; the SDK and the chain disagree on contractIdOf`);
      }
      const contractKeys = await this.waitForContractKey(contractId, included.blockNumber);
      const base = { contractId: hex(contractId), salt, blockNumber: included.blockNumber, blockHash: included.blockHash };
      if (p.waitForInit === false) return { ...base, init: undefined };
      const { outcome } = await awaitCommandResult({
        ...this.settings,
        workers: await this.reachableWorkers(clusterId),
        contractId,
        commandId: sealed.commandId,
        contractEcdhPubkey: contractKeys.ecdh_pubkey,
        senderPrivateKey: sealed.senderPrivateKey,
        timeoutMs: this.settings.resultTimeoutMs,
        what: "init",
      });
      try {
        return { ...base, init: callResult(outcome, "init") };
      } catch (e) {
        if (!(e instanceof PhalaSdkError)) throw e;
        throw new PhalaSdkError(e.code, e.where, `contract ${hex(contractId)} exists on chain, but ${e.message}; deploy again with another salt`, { details: { ...e.details, contract: hex(contractId) }, cause: e });
      }
    } finally {
      sealed.senderPrivateKey.fill(0);
    }
  }

  /** Polls `PhalaRegistry.ContractKeys(id)` until the cluster has published it; CONTRACT_KEY_TIMEOUT after the timeout. */
  async waitForContractKey(id: IdLike, instantiatedAt?: number): Promise<PublicKeysValue> {
    const cid = idBytes(id, "contract id");
    const deadline = this.settings.now() + this.settings.contractKeyTimeoutMs;
    for (;;) {
      const keys = await this.contractKeys(cid);
      if (keys) return keys;
      if (this.settings.now() >= deadline) {
        throw new PhalaSdkError(
          "CONTRACT_KEY_TIMEOUT",
          "worker",
          `contract ${hex(cid)} was instantiated${instantiatedAt === undefined ? "" : ` in block ${instantiatedAt}`}, but its public key did not appear on chain within ${this.settings.contractKeyTimeoutMs} ms: the cluster's workers have not executed the instantiation yet. Check that they and their pHosts are running and synced (phala dev shows them), then wait for the key with waitForContractKey()`,
          { details: { contract: hex(cid) } },
        );
      }
      await sleep(this.settings.pollIntervalMs);
    }
  }

  /** Locks `amount` PHA on chain and credits `dest` (the signer by default) inside the cluster, to pay for gas. */
  async transferToCluster(signer: KeyPair, p: TransferToClusterParams): Promise<IncludedExtrinsic> {
    const amount = bigintArg(p.amount, "amount");
    if (amount === 0n) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "the amount must be above 0");
    const dest = p.dest === undefined ? signer.accountId : idBytes(p.dest, "destination account");
    return this.submit(signer, "PhalaPhatContracts", "transfer_to_cluster", { amount, cluster: idBytes(p.cluster, "cluster id"), dest_account: dest });
  }

  /** A handle to send commands to and query a contract. */
  contract(id: IdLike): PhalaContract {
    return new PhalaContract(this, idBytes(id, "contract id"));
  }
}
