/**
 * A handle on one contract: `send` (an encrypted command through the chain, its result
 * read back from a worker) and `query` (an encrypted, certified request straight to a
 * worker, its signed answer checked against chain state).
 */
import { bytesEqual, type KeyPair } from "@phala-ts/primitives";
import { QueryResponse, type CallOutcomeValue, type ClusterInfoValue, type ContractInfoValue, type PublicKeysValue, type WorkerInfoValue } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { callResult, type CallResult } from "./call-outcome.ts";
import { gasLimitArg } from "./args.ts";
import type { ClientSettings, ContractDetails, IncludedExtrinsic, WorkerDetails } from "./client-types.ts";
import { PhalaSdkError } from "./errors.ts";
import { hex, idBytes, type Hex, type IdLike } from "./ids.ts";
import { jsonBytes, type Json } from "./json.ts";
import { DEFAULT_QUERY_CERT_TTL_MS } from "./limits.ts";
import type { KeyProvenance } from "./provenance.ts";
import type { QueryBatcher, WorkerAnswer } from "./query-batcher.ts";
import type { QueryCertificateCache } from "./query-certificate.ts";
import { awaitCommandResult, rotated, type ReachableWorker } from "./result-poll.ts";
import { openQueryBatchAnswer, openQueryResponse, sealCommand, sealQuery, type QueryResponseValue } from "./wire-crypto.ts";
import { joinUrl, refusedError } from "./worker-client.ts";

export interface SendOptions {
  gasLimit: bigint | number;
  /** PHA (plancks) moved into the sender's balance inside the cluster first, to pay for gas. */
  deposit?: bigint;
  /** Time for a worker to serve the result after the command is final (default: the client's). */
  resultTimeoutMs?: number;
}

export interface SendResult extends CallResult {
  commandId: Hex;
  blockNumber: number;
  blockHash: Hex;
  /** The worker whose result was read. */
  worker: Hex;
}

export interface QueryOptions {
  /** Lifetime of the query certificate (default 60 s); one is cached per signer until close to expiry. */
  ttlMs?: number;
  /** The worker to ask (its identity key); one of the cluster's workers by default. */
  worker?: IdLike;
  /** Reach the worker at this URL instead of its endpoint on chain (the answer is verified all the same). */
  endpoint?: string;
}

export interface QueryResult extends CallResult {
  worker: Hex;
}

/** Query routes kept per contract handle (one per worker/endpoint choice). */
const QUERY_ROUTES_MAX = 64;

interface QueryRoute {
  candidates: ReachableWorker[];
  /** The contract's cluster's members. */
  clusterWorkers: readonly Uint8Array[];
  /** `PhalaRegistry.Workers` of each candidate, by public key. */
  registered: Map<string, WorkerInfoValue>;
}

/**
 * A worker that is down, busy or not synced up to the contract yet is skipped for the next
 * candidate; an answer that fails verification is never retried away.
 */
function isRetryable(e: unknown): e is PhalaSdkError {
  if (!(e instanceof PhalaSdkError)) return false;
  const status = e.details?.status;
  return e.code === "WORKER_UNREACHABLE" || (e.code === "WORKER_HTTP_ERROR" && (status === 404 || status === 503));
}

function signedByAnother(signer: Uint8Array, expected: Uint8Array): PhalaSdkError {
  return new PhalaSdkError("RESPONSE_UNVERIFIED", "worker", `the answer is signed by worker ${hex(signer)}, not by ${hex(expected)} that the query was encrypted to; it is refused`);
}

/**
 * What a contract handle needs from the client: verified chain reads, submission and the
 * query machinery. `PhalaClient` is one; the handle never reaches into it further.
 */
export interface ContractHost {
  readonly settings: ClientSettings;
  readonly certificates: QueryCertificateCache;
  readonly queryBatcher: QueryBatcher;
  /** Changes with every finalized block while reads are cached; undefined when they are not. */
  readonly headEpoch: number | undefined;
  worker(pubkey: IdLike): Promise<WorkerInfoValue | undefined>;
  workerDetails(pubkey: Uint8Array): Promise<WorkerDetails>;
  clusterInfo(id: IdLike): Promise<ClusterInfoValue | undefined>;
  contractInfo(id: IdLike): Promise<ContractInfoValue | undefined>;
  contractKeys(id: IdLike): Promise<PublicKeysValue | undefined>;
  contractDetails(id: IdLike): Promise<ContractDetails>;
  reachableWorkers(cluster: IdLike): Promise<ReachableWorker[]>;
  checkKeyProvenance(target: { contract: Uint8Array } | { cluster: Uint8Array }, keys: PublicKeysValue): Promise<KeyProvenance>;
  submit(signer: KeyPair, pallet: string, call: string, args: Record<string, unknown>): Promise<IncludedExtrinsic>;
}

export class PhalaContract {
  readonly id: Hex;
  readonly #client: ContractHost;
  readonly #id: Uint8Array;
  readonly #routes = new Map<string, { epoch: number; route: Promise<QueryRoute> }>();
  /**
   * The worker that served this handle's last command result: it has executed that command, so
   * asking it first lets a query see the handle's own writes (another member may lag a block).
   */
  #lastWriter: Hex | undefined;

  constructor(client: ContractHost, id: Uint8Array) {
    this.#client = client;
    this.#id = id;
    this.id = hex(id);
  }

  get #settings(): ClientSettings {
    return this.#client.settings;
  }

  /** The contract's on-chain record; CONTRACT_NOT_FOUND when absent. */
  details(): Promise<ContractDetails> {
    return this.#client.contractDetails(this.#id);
  }

  /**
   * Sends a command: encrypted with a fresh ephemeral x25519 key to the contract's on-chain
   * key, submitted with `push_contract_message`, and once final its result is read from a
   * worker of the cluster and decrypted with that ephemeral key.
   */
  async send(signer: KeyPair, command: unknown, opts: SendOptions): Promise<SendResult> {
    const gasLimit = gasLimitArg(opts.gasLimit);
    const deposit = opts.deposit ?? 0n;
    if (typeof deposit !== "bigint" || deposit < 0n) throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", "deposit must be a non-negative bigint of plancks");
    const input = jsonBytes(command, "command");
    const info = await this.#client.contractInfo(this.#id);
    if (!info) await this.details();
    const keys = await this.#client.contractKeys(this.#id);
    if (!keys) {
      throw new PhalaSdkError(
        "CONTRACT_KEY_MISSING",
        "chain",
        `contract ${this.id} has no public key on chain yet, and commands are never sent in plaintext; wait until its cluster publishes the key (waitForContractKey) and send again`,
        { details: { contract: this.id } },
      );
    }
    await this.#client.checkKeyProvenance({ contract: this.#id }, keys);
    const sealed = sealCommand({ contractEcdhPubkey: keys.ecdh_pubkey, contractId: this.#id, sender: signer.accountId, gasLimit, input });
    try {
      const included = await this.#client.submit(signer, "PhalaPhatContracts", "push_contract_message", { contract: this.#id, payload: sealed.payload, deposit, gas_limit: gasLimit });
      const { outcome, worker } = await awaitCommandResult({
        ...this.#settings,
        workers: await this.#client.reachableWorkers(info!.cluster),
        contractId: this.#id,
        commandId: sealed.commandId,
        contractEcdhPubkey: keys.ecdh_pubkey,
        senderPrivateKey: sealed.senderPrivateKey,
        timeoutMs: opts.resultTimeoutMs ?? this.#settings.resultTimeoutMs,
        what: "command",
      });
      this.#lastWriter = hex(worker);
      return { ...callResult(outcome, "command"), commandId: hex(sealed.commandId), blockNumber: included.blockNumber, blockHash: included.blockHash, worker: hex(worker) };
    } finally {
      sealed.senderPrivateKey.fill(0);
    }
  }

  /** Queries the contract and returns its output (see `queryDetailed`). */
  async query(signer: KeyPair, request: unknown, opts: QueryOptions = {}): Promise<Json> {
    return (await this.queryDetailed(signer, request, opts)).output;
  }

  /**
   * Where a query goes and what its answer is checked against, read from chain once per
   * finalized block (PhalaClient.headEpoch): the records cannot change in between.
   */
  #queryRoute(opts: QueryOptions): Promise<QueryRoute> {
    const epoch = this.#client.headEpoch;
    const key = `${opts.worker === undefined ? "" : hex(idBytes(opts.worker, "worker public key"))}|${opts.endpoint ?? ""}`;
    const hit = this.#routes.get(key);
    if (epoch !== undefined && hit?.epoch === epoch) return hit.route;
    const route = this.#resolveQueryRoute(opts);
    if (epoch !== undefined) {
      if (this.#routes.size >= QUERY_ROUTES_MAX) this.#routes.clear();
      const entry = { epoch, route };
      this.#routes.set(key, entry);
      route.catch(() => {
        if (this.#routes.get(key) === entry) this.#routes.delete(key);
      });
    }
    return route;
  }

  async #resolveQueryRoute(opts: QueryOptions): Promise<QueryRoute> {
    const contract = await this.details();
    if (!contract.publicKeys) {
      throw new PhalaSdkError("CONTRACT_KEY_MISSING", "chain", `contract ${this.id} has no public key on chain yet: its cluster has not instantiated it; wait and query again`, { details: { contract: this.id } });
    }
    const clusterId = idBytes(contract.cluster, "cluster id");
    const clusterWorkers = (await this.#client.clusterInfo(clusterId))?.workers ?? [];
    let candidates: ReachableWorker[];
    if (opts.worker !== undefined) {
      const pubkey = idBytes(opts.worker, "worker public key");
      const w = await this.#client.workerDetails(pubkey);
      if (!w.info) throw new PhalaSdkError("WORKER_NOT_FOUND", "chain", `worker ${w.pubkey} is not registered on chain; pick one of the cluster's workers`, { details: { worker: w.pubkey } });
      if (!clusterWorkers.some((m) => bytesEqual(m, pubkey))) {
        throw new PhalaSdkError("INVALID_ARGUMENT", "sdk", `worker ${w.pubkey} is not a member of the contract's cluster ${contract.cluster}; queries go only to its members`, {
          details: { worker: w.pubkey, cluster: contract.cluster },
        });
      }
      const url = opts.endpoint ?? w.endpoint?.url;
      if (!url) throw new PhalaSdkError("NO_WORKER_ENDPOINT", "worker", `worker ${w.pubkey} has no endpoint on chain; pass its URL as endpoint`, { details: { worker: w.pubkey } });
      candidates = [{ pubkey, ecdhPubkey: w.info.ecdh_pubkey, url }];
    } else {
      candidates = await this.#client.reachableWorkers(clusterId);
    }
    const registered = new Map<string, WorkerInfoValue>();
    for (const c of candidates) {
      const info = await this.#client.worker(c.pubkey);
      if (info) registered.set(hex(c.pubkey), info);
    }
    return { candidates, clusterWorkers, registered };
  }

  /**
   * Queries the contract: the request is encrypted from a certified ephemeral key to a
   * worker's registered key and carries a random nonce; the answer is accepted only when
   * its signer is registered on chain and in the contract's cluster, the signature, query
   * id and nonce echo all check, and it decrypts.
   */
  async queryDetailed(signer: KeyPair, request: unknown, opts: QueryOptions = {}): Promise<QueryResult> {
    const input = jsonBytes(request, "query");
    const ttlMs = opts.ttlMs ?? DEFAULT_QUERY_CERT_TTL_MS;
    const route = await this.#queryRoute(opts);
    let candidates = route.candidates;
    if (opts.worker === undefined) {
      candidates = rotated(candidates);
      const writer = candidates.findIndex((c) => hex(c.pubkey) === this.#lastWriter);
      if (writer > 0) candidates = [candidates[writer], ...candidates.slice(0, writer), ...candidates.slice(writer + 1)];
      if (opts.endpoint !== undefined) candidates = [{ ...candidates[0], url: opts.endpoint }];
    }
    const cert = this.#client.certificates.get(signer, ttlMs);
    let lastError: PhalaSdkError | undefined;
    for (const w of candidates) {
      const envelopeKeys = this.#client.certificates.envelopeKeys;
      const sealed = sealQuery({ contractId: this.#id, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: w.ecdhPubkey, input, envelopeKeys });
      let answer: WorkerAnswer;
      try {
        answer = await this.#client.queryBatcher.post(w.url, sealed.request);
      } catch (e) {
        if (isRetryable(e)) {
          lastError = e;
          continue;
        }
        throw e;
      }
      const opening = { queryId: sealed.queryId, nonce: sealed.nonce, ephemeralPrivateKey: cert.ephemeralPrivateKey, clusterWorkers: route.clusterWorkers, envelopeKeys };
      // Membership and registration from chain state (as of the route's block), never from the worker.
      const registered = async (worker: Uint8Array) => route.registered.get(hex(worker)) ?? (await this.#client.worker(worker));
      let signer: Uint8Array;
      let outcome: CallOutcomeValue;
      if (answer.kind === "single") {
        let response: QueryResponseValue;
        try {
          response = decodeExact(QueryResponse, answer.bytes);
        } catch (e) {
          throw new PhalaSdkError("WORKER_BAD_RESPONSE", "worker", `the worker at ${w.url} answered bytes that are not a QueryResponse; its pRuntime is incompatible with this SDK`, { cause: e });
        }
        signer = response.worker;
        outcome = openQueryResponse({ ...opening, response, registeredWorker: await registered(signer) });
      } else {
        signer = answer.receipt.worker;
        const opened = openQueryBatchAnswer({ ...opening, receipt: answer.receipt, index: answer.index, registeredWorker: await registered(signer) });
        if (!opened.ok) {
          // A refusal counts as this worker's only once it is signed by the worker the query was sent to.
          if (!bytesEqual(signer, w.pubkey)) throw signedByAnother(signer, w.pubkey);
          const { status, code, message } = opened.refusal;
          const refused = refusedError(joinUrl(w.url, "/queries"), status, code, message, hex(signer));
          if (isRetryable(refused)) {
            lastError = refused;
            continue;
          }
          throw refused;
        }
        outcome = opened.outcome;
      }
      if (!bytesEqual(signer, w.pubkey)) throw signedByAnother(signer, w.pubkey);
      return { ...callResult(outcome, "query"), worker: hex(signer) };
    }
    throw lastError ?? new PhalaSdkError("NO_WORKER_ENDPOINT", "worker", "no worker to query");
  }
}
