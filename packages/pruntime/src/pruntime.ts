/**
 * pRuntime's core: one owner of all state, driven by four inputs (init, sync batches, queries
 * and reads), with no I/O but the sealer. Sync is all-or-nothing for the light client; after a
 * verified batch is committed, its messages go through the egress counters and the topic
 * dispatcher block by block (with the block's proven time), then the gatekeeper and contracts
 * machines close each block. Whenever secrets or egress changed, a checkpoint is sealed before
 * `sync` returns, so nothing leaves pRuntime that a crash could make it forget. Everything
 * else (contract state, results) is recomputed identically from the last checkpoint after a
 * crash, because processing is deterministic.
 *
 * Contract commands may run off this thread (ContractRunner.execute): `sync` then awaits
 * each one in message order, so the HTTP API keeps answering meanwhile. Reads during a sync
 * see the last whole block: the light client moves block by block, queries read contract
 * storage as it was at that block's end, and egress is served as it was last sealed. One
 * batch is applied at a time, and a batch whose execution ran past SYNC_EXECUTION_BUDGET_MS
 * stops after the block in progress (the answer says how far it got; pHost sends the rest).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { bytesEqual, concatBytes, EnvelopeKeyCache } from "@phala-ts/primitives";
import {
  ENDPOINT_DOMAIN,
  REGISTRATION_INFO_VERSION,
  WorkerEndpointPayload,
  type MessageOriginValue,
  type SignedMessageValue,
  type SyncBatchValue,
  type WorkerEndpointPayloadValue,
  type WorkerRegistrationInfoValue,
} from "@phala-ts/runtime/phala";
import { loadCheckpoint, saveCheckpoint, CHECKPOINT_FORMAT_VERSION, type CheckpointValue, type LoadedCheckpoint } from "./checkpoint.ts";
import { LoadedContractState } from "./contract-store-entries.ts";
import { SealedStore } from "./sealed-store.ts";
import { CodeStore } from "./code-store.ts";
import type { ContractRunner } from "./contract-runner.ts";
import { ContractsMachine, type ClusterStatus, type ContractInfo } from "./contracts.ts";
import { Dispatcher } from "./dispatcher.ts";
import { EgressQueue } from "./egress.ts";
import { PruntimeError, SyncError } from "./errors.ts";
import { GatekeeperMachine, type GatekeeperStatus } from "./gatekeeper.ts";
import { WorkerKeys } from "./keys.ts";
import { LightClient, genesisState, type LightClientState } from "./light-client.ts";
import type { Logger } from "./logger.ts";
import { NonceCache, VerifiedCertificates, answerBatchItem, answerQuery, decodeQueryBatch, signQueryBatch, type QueryContext } from "./queries.ts";
import type { Sealer } from "./sealer.ts";
import { PRUNTIME_RUNTIME_VERSION } from "./version.ts";
import { QUERY_BATCH_SLICE_MS, QUERY_ENVELOPE_KEYS_MAX, SYNC_EXECUTION_BUDGET_MS } from "./limits.ts";

export interface PruntimeCoreOptions {
  /** Seal a checkpoint at least every this many blocks. */
  checkpointIntervalBlocks: number;
  /** Blocks between random beacons; the same on every pRuntime of a network. */
  beaconIntervalBlocks: number;
  logger: Logger;
  /** Contract execution one sync waits for before it stops after the block in progress (default SYNC_EXECUTION_BUDGET_MS). */
  syncExecutionBudgetMs?: number;
}

export interface PruntimeCoreModules {
  sealer: Sealer;
  /** Randomness for keys; injected so simulations replay. */
  random?: (n: number) => Uint8Array;
  /** The contract VM. Without one, a worker made member of a cluster stops (it could not follow its cluster). */
  runner?: ContractRunner;
  /** Wall clock (unix ms), for query certificate expiry only: the state machines never read it. */
  clock?: () => number;
}

export interface SyncResult {
  height: number;
  hash: Uint8Array;
}

export interface CoreStatus extends GatekeeperStatus {
  initialized: boolean;
  genesisHash: Uint8Array | undefined;
  syncedHeight: number;
  syncedHash: Uint8Array | undefined;
  egressPending: number;
  egressConflicts: number;
}

interface Chain {
  lightClient: LightClient;
  egress: EgressQueue;
  dispatcher: Dispatcher;
  gatekeeper: GatekeeperMachine;
  contracts: ContractsMachine;
}

const GATEKEEPER_ORIGIN: MessageOriginValue = { tag: "Gatekeeper" };

function defaultRandom(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

export class PruntimeCore {
  readonly keys: WorkerKeys;
  readonly #options: PruntimeCoreOptions;
  readonly #sealer: Sealer;
  readonly #random: (n: number) => Uint8Array;
  readonly #runner: ContractRunner | undefined;
  readonly #clock: () => number;
  readonly #codes: CodeStore;
  readonly #queries = { nonces: new NonceCache(), certificates: new VerifiedCertificates(), envelopeKeys: new EnvelopeKeyCache(QUERY_ENVELOPE_KEYS_MAX) };
  readonly #log: Logger;
  #chain: Chain | undefined;
  /** Contract storage and results at rest; present whenever #chain is. */
  #store: SealedStore | undefined;
  #lastCheckpointHeight = 0;
  /** Set when state ran ahead of the sealed checkpoint and cannot be trusted to continue. */
  #failure: PruntimeError | undefined;
  /** Settles when the batch being applied is done; undefined when none is. */
  #syncing: Promise<void> | undefined;
  /** Egress as of the last checkpoint: what is served while a batch is applied. */
  #sealedEgress: SignedMessageValue[] = [];

  private constructor(options: PruntimeCoreOptions, modules: PruntimeCoreModules, keys: WorkerKeys) {
    assert.ok(Number.isSafeInteger(options.checkpointIntervalBlocks) && options.checkpointIntervalBlocks > 0, "checkpointIntervalBlocks is a positive integer");
    this.#options = options;
    this.#sealer = modules.sealer;
    this.#random = modules.random ?? defaultRandom;
    this.#runner = modules.runner;
    this.#clock = modules.clock ?? Date.now;
    this.#codes = new CodeStore(modules.sealer);
    this.#log = options.logger;
    this.keys = keys;
  }

  /** Loads the sealed checkpoint, or makes new keys and seals them at once on a fresh data directory. */
  static open(options: PruntimeCoreOptions, modules: PruntimeCoreModules): PruntimeCore {
    const saved = loadCheckpoint(modules.sealer);
    if (saved === undefined) {
      const core = new PruntimeCore(options, modules, WorkerKeys.generate(modules.random ?? defaultRandom));
      core.checkpoint();
      options.logger.info("generated new worker keys", { identityKey: core.keys.identityPublicKey, ecdhKey: core.keys.ecdhPublicKey });
      return core;
    }
    const core = new PruntimeCore(options, modules, new WorkerKeys(saved.identity_seed, saved.ecdh_private_key));
    saved.identity_seed.fill(0);
    saved.ecdh_private_key.fill(0);
    if (saved.chain !== undefined) {
      const c = saved.chain;
      let stored: LoadedContractState;
      if (c.store !== undefined) {
        stored = new LoadedContractState();
        core.#store = SealedStore.open(modules.sealer, c.store, stored.add);
      } else {
        // An older format: its inline contract state goes to a new store at the next checkpoint.
        stored = saved.inline ?? new LoadedContractState();
        core.#store = SealedStore.create(modules.sealer);
      }
      core.#chain = core.buildChain(
        { genesisHash: c.genesis_hash, height: c.height, hash: c.hash, validatorSet: c.validator_set, timestampMs: c.timestamp_ms },
        c,
        stored,
        c.store === undefined,
      );
      core.#lastCheckpointHeight = c.height;
    }
    options.logger.info("resumed from checkpoint", { identityKey: core.keys.identityPublicKey, syncedHeight: core.#lastCheckpointHeight });
    return core;
  }

  private buildChain(state: LightClientState, saved?: NonNullable<LoadedCheckpoint["chain"]>, stored?: LoadedContractState, unsaved = false): Chain {
    const me: MessageOriginValue = { tag: "Worker", value: this.keys.identityPublicKey };
    const egress = new EgressQueue(
      state.genesisHash,
      [me, GATEKEEPER_ORIGIN],
      this.#log.child("egress"),
      (saved?.egress ?? []).map((e) => ({ origin: e.origin, chainCount: e.chain_count, nextSequence: e.next_sequence, dropped: e.dropped, pending: e.pending })),
    );
    const dispatcher = new Dispatcher();
    const gatekeeper = new GatekeeperMachine(
      { keys: this.keys, beaconIntervalBlocks: this.#options.beaconIntervalBlocks, logger: this.#log.child("gatekeeper") },
      { egress, random: this.#random },
      saved?.gatekeeper,
    );
    gatekeeper.register(dispatcher);
    const contracts = new ContractsMachine(
      { keys: this.keys, logger: this.#log.child("contracts") },
      { egress, gatekeeper, codes: this.#codes, runner: this.#runner },
      saved?.contracts,
      stored,
      unsaved,
    );
    contracts.register(dispatcher);
    return { lightClient: new LightClient(state), egress, dispatcher, gatekeeper, contracts };
  }

  private usable(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  get initialized(): boolean {
    return this.#chain !== undefined;
  }

  get genesisHash(): Uint8Array | undefined {
    return this.#chain?.lightClient.state.genesisHash;
  }

  /** Starts following the chain whose block 0 is `genesisHeader`; idempotent for the same chain. */
  init(genesisHeader: Uint8Array): void {
    this.usable();
    const state = genesisState(genesisHeader);
    if (this.#chain !== undefined) {
      if (bytesEqual(this.#chain.lightClient.state.genesisHash, state.genesisHash)) return;
      throw new PruntimeError("GENESIS_MISMATCH", "this pRuntime already follows another chain; start it with a fresh data directory to follow this one", {
        details: { genesisHash: this.#chain.lightClient.state.genesisHash, offered: state.genesisHash },
      });
    }
    this.#store = SealedStore.create(this.#sealer);
    this.#chain = this.buildChain(state);
    this.#lastCheckpointHeight = 0;
    this.checkpoint();
    this.#log.info("initialized", { genesisHash: state.genesisHash, validators: state.validatorSet.validators.length });
  }

  private chain(): Chain {
    if (this.#chain === undefined) throw new SyncError("NOT_INITIALIZED", "pRuntime is not initialized; POST /init with the chain's genesis header first");
    return this.#chain;
  }

  /**
   * Verifies `batch`, then applies it block by block. Resolves with the height reached: the
   * batch's end, or an earlier block when contract execution took longer than
   * SYNC_EXECUTION_BUDGET_MS. With a runner that executes in this thread, everything happens
   * before this returns (the promise is already settled).
   */
  async sync(batch: SyncBatchValue): Promise<SyncResult> {
    this.usable();
    const chain = this.chain();
    if (this.#syncing !== undefined) {
      throw new SyncError("SYNC_BUSY", "pRuntime is still applying the previous batch; send this one after that request is answered");
    }
    const verified = chain.lightClient.verify(batch);
    let done!: () => void;
    this.#syncing = new Promise((resolve) => (done = resolve));
    this.#sealedEgress = chain.egress.pending();
    try {
      let executionMs = 0;
      for (let i = 0; i < verified.blocks.length; i++) {
        const block = verified.blocks[i];
        for (const message of block.messages) {
          chain.egress.observe(message);
          const routed = chain.dispatcher.dispatch(message, block);
          if (routed instanceof Promise) {
            // Wall time decides only where a batch stops, never what a block computes.
            const started = performance.now();
            await routed;
            executionMs += performance.now() - started;
          }
        }
        chain.gatekeeper.endBlock(block.number);
        chain.contracts.endBlock(block);
        chain.lightClient.commitThrough(verified, i);
        if (executionMs >= (this.#options.syncExecutionBudgetMs ?? SYNC_EXECUTION_BUDGET_MS) && i < verified.blocks.length - 1) {
          this.#log.debug("sync stops early: contract execution used its budget", { height: block.number, executionMs: Math.round(executionMs) });
          break;
        }
      }
      const height = chain.lightClient.state.height;
      // Both requests are taken (and so reset) on every batch.
      const gatekeeperRequest = chain.gatekeeper.takeCheckpointRequest();
      const contractsRequest = chain.contracts.takeCheckpointRequest();
      if (gatekeeperRequest || contractsRequest || height - this.#lastCheckpointHeight >= this.#options.checkpointIntervalBlocks) {
        this.#syncing = undefined;
        this.checkpoint();
      }
    } catch (e) {
      // Part of the batch is applied and not sealed: only a restart from the checkpoint is safe.
      this.#failure ??= new PruntimeError("CHECKPOINT_FAILED", "pRuntime stopped after an internal failure while applying a batch; restart it to resume from its last checkpoint", { cause: e });
      this.#log.error("applying a verified batch failed; refusing further work until restart", { reason: (e as Error).message });
      throw this.#failure;
    } finally {
      this.#syncing = undefined;
      done();
    }
    return { height: chain.lightClient.state.height, hash: chain.lightClient.state.hash };
  }

  /** Resolves once no batch is being applied (then a checkpoint seals whole blocks only). */
  async idle(): Promise<void> {
    while (this.#syncing !== undefined) await this.#syncing;
  }

  /** Seals everything now. A failure leaves pRuntime refusing work: memory is ahead of disk. */
  checkpoint(): void {
    this.usable();
    // Mid-batch, contract state is ahead of the light client: a restart would run commands twice.
    assert.ok(this.#syncing === undefined, "a checkpoint is sealed only between batches (await idle() first)");
    const chain = this.#chain;
    const store = this.#store;
    const secrets = this.keys.exportSecrets();
    let value: CheckpointValue | undefined;
    try {
      value = {
        version: CHECKPOINT_FORMAT_VERSION,
        identity_seed: secrets.identitySeed,
        ecdh_private_key: secrets.ecdhPrivateKey,
        chain:
          chain === undefined || store === undefined
            ? undefined
            : {
                genesis_hash: chain.lightClient.state.genesisHash,
                height: chain.lightClient.state.height,
                hash: chain.lightClient.state.hash,
                timestamp_ms: chain.lightClient.state.timestampMs,
                validator_set: chain.lightClient.state.validatorSet,
                egress: chain.egress.snapshot().map((e) => ({ origin: e.origin, chain_count: e.chainCount, next_sequence: e.nextSequence, dropped: e.dropped, pending: e.pending })),
                gatekeeper: chain.gatekeeper.snapshot(),
                contracts: chain.contracts.snapshot(),
                // First the changed entries, durably; the checkpoint naming them is sealed after.
                store: store.prepare(chain.contracts.takeStoreChanges(), () => chain.contracts.liveStoreEntries()),
              },
      };
      saveCheckpoint(this.#sealer, value);
      store?.committed();
    } catch (e) {
      this.#failure = new PruntimeError("CHECKPOINT_FAILED", "sealing a checkpoint failed; fix the data directory and restart pRuntime", { cause: e });
      this.#log.error("checkpoint failed", { reason: (e as Error).message });
      throw this.#failure;
    } finally {
      secrets.identitySeed.fill(0);
      secrets.ecdhPrivateKey.fill(0);
      for (const r of value?.chain?.gatekeeper.held ?? []) r.secret.fill(0);
      value?.chain?.gatekeeper.candidate?.fill(0);
      for (const c of value?.chain?.contracts.clusters ?? []) c.secret?.fill(0);
    }
    this.#lastCheckpointHeight = chain?.lightClient.state.height ?? 0;
    this.#sealedEgress = chain?.egress.pending() ?? [];
    this.#log.debug("checkpoint sealed", { height: this.#lastCheckpointHeight });
  }

  /** Signed messages the chain has not accepted yet, in sequence order per origin. */
  pendingEgress(): SignedMessageValue[] {
    this.usable();
    // Mid-batch, new egress may not be sealed yet, and a crash could make pRuntime sign other
    // bytes under the same sequence (gatekeeper keys are random): serve only the sealed ones.
    if (this.#syncing !== undefined) return this.#sealedEgress;
    return this.#chain?.egress.pending() ?? [];
  }

  status(): CoreStatus {
    const chain = this.#chain;
    const gk: GatekeeperStatus = chain?.gatekeeper.status() ?? {
      role: "worker",
      registered: false,
      masterPubkey: undefined,
      holdsMasterKey: false,
      rotationId: 0,
      beaconMismatches: 0,
      gatekeeperSequence: 0n,
    };
    return {
      ...gk,
      initialized: chain !== undefined,
      genesisHash: chain?.lightClient.state.genesisHash,
      syncedHeight: chain?.lightClient.state.height ?? 0,
      syncedHash: chain?.lightClient.state.hash,
      egressPending: chain?.egress.pendingCount() ?? 0,
      egressConflicts: chain?.egress.conflicts ?? 0,
    };
  }

  /**
   * Answers a SCALE QueryRequest (issue 4 §6) against the state of the last synced block;
   * throws PruntimeError with a query code (CERT_EXPIRED, NONCE_REPLAYED, ...) when refused.
   */
  query(requestBytes: Uint8Array): Uint8Array {
    const chain = this.queryable();
    return answerQuery(requestBytes, this.queryContext(chain), this.keys, chain.contracts, this.#queries);
  }

  /**
   * Answers a SCALE QueryBatchRequest with a SCALE QueryBatchResponse: each query as `query`
   * would, a refusal in place of an answer, all under one signature. Between queries it lets
   * other requests in every QUERY_BATCH_SLICE_MS, so each query reads the state synced by then.
   */
  async queryBatch(body: Uint8Array): Promise<Uint8Array> {
    this.queryable();
    const items = decodeQueryBatch(body);
    const answers = [];
    let sliceStart = performance.now();
    for (const item of items) {
      if (performance.now() - sliceStart >= QUERY_BATCH_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      const chain = this.queryable();
      answers.push(answerBatchItem(item, this.queryContext(chain), this.keys, chain.contracts, this.#queries));
    }
    return signQueryBatch(answers, this.keys);
  }

  private queryable(): Chain {
    this.usable();
    if (this.#chain === undefined) throw new PruntimeError("NOT_INITIALIZED", "pRuntime is not initialized; it answers queries once it follows a chain");
    return this.#chain;
  }

  private queryContext(chain: Chain): QueryContext {
    const state = chain.lightClient.state;
    return { blockNumber: state.height, timestampMs: state.timestampMs, nowMs: this.#clock() };
  }

  /** SCALE CommandResult of an executed command, if this worker ran it and still keeps it. */
  commandResult(contract: Uint8Array, commandId: Uint8Array): Uint8Array | undefined {
    this.usable();
    return this.#chain?.contracts.commandResult(contract, commandId);
  }

  contractInfo(contract: Uint8Array): ContractInfo | undefined {
    this.usable();
    return this.#chain?.contracts.contractInfo(contract);
  }

  /** Clusters this worker is a member of. */
  clusters(): ClusterStatus[] {
    return this.#chain?.contracts.clusters() ?? [];
  }

  /** An account's balance inside a cluster, as this pRuntime follows it. */
  clusterBalance(cluster: Uint8Array, account: Uint8Array): bigint {
    return this.#chain?.contracts.balance(cluster, account) ?? 0n;
  }

  /** What this worker registers with; its hash goes into the attestation's report data. */
  registrationInfo(operator: Uint8Array | undefined): WorkerRegistrationInfoValue {
    this.usable();
    const chain = this.chain();
    return {
      version: REGISTRATION_INFO_VERSION,
      genesis_hash: chain.lightClient.state.genesisHash,
      pubkey: this.keys.identityPublicKey,
      ecdh_pubkey: this.keys.ecdhPublicKey,
      runtime_version: PRUNTIME_RUNTIME_VERSION,
      operator,
    };
  }

  /** The worker's endpoint, signed by its identity key at the synced height (the chain checks freshness). */
  signEndpoint(endpoint: string): { payload: WorkerEndpointPayloadValue; encoded: Uint8Array; signature: Uint8Array } {
    this.usable();
    const chain = this.chain();
    const payload: WorkerEndpointPayloadValue = { pubkey: this.keys.identityPublicKey, endpoint, signed_at: chain.lightClient.state.height };
    const encoded = WorkerEndpointPayload.codec.enc(payload);
    return { payload, encoded, signature: this.keys.sign(concatBytes(ENDPOINT_DOMAIN, encoded)) };
  }
}
