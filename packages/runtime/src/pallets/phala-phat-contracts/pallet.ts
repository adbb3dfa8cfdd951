import { blake2b256, bytesEqual, concatBytes, utf8 } from "@phala-ts/primitives";
import { T, decodeExact } from "../../types/index.ts";
import { AccountId32, H256 } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { call, definePallet, depositPalletEvent, moduleError } from "../../pallet/define-pallet.ts";
import type { DispatchContext, DispatchResult } from "../../pallet/context.ts";
import { transfer } from "../balances/logic.ts";
import { pushMessage } from "../phala-mq/pallet.ts";
import type { MessageValue } from "../phala-mq/types.ts";
import { PhalaRegistryStorage } from "../phala-registry/storage.ts";
import {
  ClusterEvent,
  ClusterInfo,
  ClusterKeyPublished,
  ContractCommand,
  ContractInfo,
  ContractKeyPublished,
  ContractTopics,
  clusterIdOf,
  contractIdOf,
  type ClusterEventValue,
} from "./types.ts";

export const PHALA_PHAT_CONTRACTS_INDEX = 88;
/** Largest contract bundle the chain accepts (bytes of JavaScript). */
export const CODE_SIZE_MAX = 256 * 1024;
export const SALT_BYTES_MAX = 128;
export const INIT_ARGS_BYTES_MAX = 16 * 1024;
export const COMMAND_BYTES_MAX = 16 * 1024;
export const CLUSTER_WORKERS_MAX = 64;
/**
 * Most gas one command may ask for: the chain's `PhalaPhatContracts::CommandGasMax`.
 * A command runs on every worker of its cluster, one at a time in block order, so it must end
 * within about a second on the reference machine (2 cores, shared) whatever the contract does.
 * Measured with packages/pruntime/bench/command-gas.ts (warm VM, best..worst of 5 runs):
 *  - load ~2.7, 1e9 gas: the infinite-loop example 2.1-2.4 G gas/s (its try/catch loop 6.5 G/s),
 *    the catastrophic regex 1.3-3 G/s, storage reads and writes 1.2-1.4 G/s, a loop allocating
 *    small objects 0.15-0.21 G/s;
 *  - load ~12 (five other engineers' test runs), 5e7 gas: infinite loop 68-140 ms, storage loop
 *    101-170 ms, allocation loop 522-903 ms, an async loop awaiting forever 652-1155 ms.
 * The allocation and await loops are the slowest metered work found (~45-200 M gas/s), so they
 * set the cap: 5e7 gas is ~0.3 s of them on a quiet machine and ~1 s under today's contention,
 * and ~25 ms of the plain infinite loop. It equals a query's budget and INIT_GAS_MAX, is 5× the
 * CLI's default command gas, and a token transfer uses under 1e6.
 * Builtins over big inputs: before the contract VM charged them per unit of work, a loop iteration
 * calling `s.indexOf` over 2 MiB was charged ~150 gas for ~20-30 ms, and such a loop at this cap
 * ran for hours. They are now charged per character or element (pruntime contract-vm/prelude.ts
 * BUILTIN_GAS); at 5e7, loops over 18 builtin classes on 2 MiB / 256 Ki-element inputs took at
 * most ~0.3 s under load ~15 (Object.keys, JSON.stringify, split) and ~55 ms under load ~11 (the
 * await loop 305 ms in the same run), so the await loop still sets the cap. Still one tick each:
 * object and array spread (`{...o}` over 65 Ki keys ~25 ms), so a loop of those can outrun it.
 * `push_contract_message` carries the gas limit in clear and is refused with GasLimitTooHigh above
 * this (the fee is paid, no deposit moves); the limit sealed in the command must equal it, and
 * pRuntime refuses a larger sealed one too (outcome kind "gas-limit-too-high", nothing charged),
 * whatever a chain let through. The SDK and CLI refuse it before submitting. An init is unpaid and pRuntime clamps its gas to INIT_GAS_MAX (≤ this).
 */
export const COMMAND_GAS_MAX = 50_000_000n;
const SENDER = utf8("PhalaPhatContracts");

export const PHAT_CONTRACTS_ERRORS = [
  "ClusterNotFound",
  "WorkerNotFound",
  "WorkerAlreadyInCluster",
  "WorkerNotInCluster",
  "TooManyWorkers",
  "CodeTooLarge",
  "CodeNotFound",
  "ContractExists",
  "ContractNotFound",
  "ClusterKeyMissing",
  "PayloadTooLarge",
  "AmountTooSmall",
  "MalformedMessage",
  "WrongCluster",
  /** The command's gas limit is 0 or above CommandGasMax. */
  "GasLimitTooHigh",
] as const;
type PhatError = (typeof PHAT_CONTRACTS_ERRORS)[number];
const err = (e: PhatError) => moduleError(PHALA_PHAT_CONTRACTS_INDEX, PHAT_CONTRACTS_ERRORS, e);

const s = palletStorage("PhalaPhatContracts");
export const PhatContractsStorage = {
  ClusterCounter: s.value("ClusterCounter", T.u64, { default: 0n, docs: ["Clusters created so far."] }),
  Clusters: s.map("Clusters", "Blake2_128Concat", H256, ClusterInfo, { docs: ["Clusters: their workers and prices."] }),
  /** Code uploaded to a cluster, by hash; the bundle itself travels to the workers through the message queue. */
  ClusterCode: s.doubleMap("ClusterCode", "Blake2_128Concat", H256, "Identity", H256, AccountId32, T.tuple(H256, H256), {
    docs: ["Code uploaded to each cluster, with its uploader."],
  }),
  Contracts: s.map("Contracts", "Blake2_128Concat", H256, ContractInfo, { docs: ["Instantiated contracts."] }),
  /** PHA locked on chain for each cluster; its members credit the senders inside the cluster. */
  ClusterLocked: s.map("ClusterLocked", "Blake2_128Concat", H256, T.u128, { default: 0n, docs: ["PHA locked on chain for each cluster."] }),
};

export const PhatContractsEvent = T.enumeration(["phala_pallets", "phat_contracts", "pallet", "Event"], {
  ClusterCreated: { index: 0, fields: { cluster: H256 } },
  ClusterWorkerAdded: { index: 1, fields: { cluster: H256, worker: T.fixedBytes(32) } },
  ClusterWorkerRemoved: { index: 2, fields: { cluster: H256, worker: T.fixedBytes(32) } },
  CodeUploaded: { index: 3, fields: { cluster: H256, code_hash: H256 } },
  Instantiating: { index: 4, fields: { contract: H256, cluster: H256, deployer: AccountId32 } },
  ClusterPubkeyAvailable: { index: 5, fields: { cluster: H256, pubkey: T.fixedBytes(32) } },
  ContractPubkeyAvailable: { index: 6, fields: { contract: H256, cluster: H256, pubkey: T.fixedBytes(32) } },
  TransferToCluster: { index: 7, fields: { cluster: H256, from: AccountId32, to: AccountId32, amount: T.u128 } },
  CommandPushed: { index: 8, fields: { contract: H256, sender: AccountId32 } },
});
const emit = (ctx: DispatchContext, e: any) => depositPalletEvent(ctx, PHALA_PHAT_CONTRACTS_INDEX, PhatContractsEvent, e);

function pushClusterEvent(ctx: DispatchContext, event: ClusterEventValue): DispatchResult {
  return pushMessage(ctx, { sender: { tag: "Pallet", value: SENDER }, destination: utf8(ContractTopics.clusterEvent), payload: ClusterEvent.codec.enc(event) });
}

/** The account that holds a cluster's locked PHA: no one has its key. */
export function clusterPotAccount(cluster: Uint8Array): Uint8Array {
  return blake2b256(concatBytes(utf8("phala/cluster-pot"), cluster));
}

function decodeOr<V>(type: any, bytes: Uint8Array): V | undefined {
  try {
    return decodeExact(type, bytes) as V;
  } catch {
    return undefined;
  }
}

/** Gatekeeper and cluster messages this pallet acts on once PhalaMq accepted their signatures. */
export function phatContractsOnOffchainMessage(ctx: DispatchContext, message: MessageValue): DispatchResult | "unhandled" {
  const t = new TextDecoder().decode(message.destination);
  if (t === ContractTopics.clusterKey) {
    if (message.sender.tag !== "Gatekeeper") return err("MalformedMessage");
    const m = decodeOr<any>(ClusterKeyPublished, message.payload);
    if (!m) return err("MalformedMessage");
    if (!PhatContractsStorage.Clusters.get(ctx.state, m.cluster)) return err("ClusterNotFound");
    PhalaRegistryStorage.ClusterKeys.set(ctx.state, m.cluster, m.keys);
    emit(ctx, { tag: "ClusterPubkeyAvailable", value: { cluster: m.cluster, pubkey: m.keys.pubkey } });
    return undefined;
  }
  if (t === ContractTopics.contractKey) {
    if (message.sender.tag !== "Cluster") return err("MalformedMessage");
    const m = decodeOr<any>(ContractKeyPublished, message.payload);
    if (!m) return err("MalformedMessage");
    const c = PhatContractsStorage.Contracts.get(ctx.state, m.contract);
    if (!c) return err("ContractNotFound");
    if (!bytesEqual(c.cluster, message.sender.value)) return err("WrongCluster");
    PhalaRegistryStorage.ContractKeys.set(ctx.state, m.contract, m.keys);
    emit(ctx, { tag: "ContractPubkeyAvailable", value: { contract: m.contract, cluster: c.cluster, pubkey: m.keys.pubkey } });
    return undefined;
  }
  return "unhandled";
}

export function createPhatContractsPallet() {
  const S = PhatContractsStorage;
  const cluster = (ctx: DispatchContext, id: Uint8Array) => S.Clusters.get(ctx.state, id);
  const setWorkers = (ctx: DispatchContext, id: Uint8Array, info: any, workers: Uint8Array[]) => S.Clusters.set(ctx.state, id, { ...info, workers });
  return definePallet({
    name: "PhalaPhatContracts",
    index: PHALA_PHAT_CONTRACTS_INDEX,
    crate: "phala_pallets",
    docs: ["Clusters of workers that run confidential contracts; code, instances and encrypted commands."],
    storage: Object.values(S),
    events: PhatContractsEvent,
    errors: PHAT_CONTRACTS_ERRORS,
    constants: {
      CodeSizeMax: { type: T.u32, value: CODE_SIZE_MAX, docs: ["Largest contract bundle accepted, in bytes."] },
      CommandGasMax: {
        type: T.u64,
        value: COMMAND_GAS_MAX,
        docs: [
          "Most gas one command may ask for (about a second of the slowest metered work on the reference machine).",
          "The gas limit is encrypted in the command; workers refuse a larger one without charging the sender.",
        ],
      },
    },
    calls: {
      add_cluster: call({
        index: 0,
        origin: "root",
        args: { owner: AccountId32, workers: T.vec(T.fixedBytes(32)), gas_price: T.u128, deposit_per_byte: T.u128, deposit_per_item: T.u128 },
        weight: (a) => 100_000_000n + BigInt(a.workers.length) * 10_000_000n,
        docs: ["Creates a cluster of registered workers. A gatekeeper then derives its key and shares it with them."],
        handler: (ctx, _none, a) => {
          if (a.workers.length > CLUSTER_WORKERS_MAX) return err("TooManyWorkers");
          for (const w of a.workers) if (!PhalaRegistryStorage.Workers.get(ctx.state, w)) return err("WorkerNotFound");
          const n = S.ClusterCounter.get(ctx.state);
          const id = clusterIdOf(n);
          S.ClusterCounter.set(ctx.state, n + 1n);
          S.Clusters.set(ctx.state, id, { owner: a.owner, workers: a.workers, gas_price: a.gas_price, deposit_per_byte: a.deposit_per_byte, deposit_per_item: a.deposit_per_item });
          emit(ctx, { tag: "ClusterCreated", value: { cluster: id } });
          return pushClusterEvent(ctx, { tag: "ClusterCreated", value: { cluster: id, workers: a.workers, gas_price: a.gas_price, deposit_per_byte: a.deposit_per_byte, deposit_per_item: a.deposit_per_item } });
        },
      }),
      add_worker_to_cluster: call({
        index: 1,
        origin: "root",
        args: { cluster: H256, worker: T.fixedBytes(32) },
        weight: () => 100_000_000n,
        handler: (ctx, _none, a) => {
          const info = cluster(ctx, a.cluster);
          if (!info) return err("ClusterNotFound");
          if (!PhalaRegistryStorage.Workers.get(ctx.state, a.worker)) return err("WorkerNotFound");
          if (info.workers.some((w) => bytesEqual(w, a.worker))) return err("WorkerAlreadyInCluster");
          if (info.workers.length >= CLUSTER_WORKERS_MAX) return err("TooManyWorkers");
          setWorkers(ctx, a.cluster, info, [...info.workers, a.worker]);
          emit(ctx, { tag: "ClusterWorkerAdded", value: { cluster: a.cluster, worker: a.worker } });
          return pushClusterEvent(ctx, { tag: "WorkerAdded", value: { cluster: a.cluster, worker: a.worker } });
        },
      }),
      remove_worker_from_cluster: call({
        index: 2,
        origin: "root",
        args: { cluster: H256, worker: T.fixedBytes(32) },
        weight: () => 100_000_000n,
        handler: (ctx, _none, a) => {
          const info = cluster(ctx, a.cluster);
          if (!info) return err("ClusterNotFound");
          if (!info.workers.some((w) => bytesEqual(w, a.worker))) return err("WorkerNotInCluster");
          setWorkers(ctx, a.cluster, info, info.workers.filter((w) => !bytesEqual(w, a.worker)));
          emit(ctx, { tag: "ClusterWorkerRemoved", value: { cluster: a.cluster, worker: a.worker } });
          return pushClusterEvent(ctx, { tag: "WorkerRemoved", value: { cluster: a.cluster, worker: a.worker } });
        },
      }),
      upload_code: call({
        index: 3,
        origin: "signed",
        args: { cluster: H256, code: T.bytes },
        weight: (a) => 100_000_000n + BigInt(a.code.length) * 2_000n,
        docs: ["Uploads a contract bundle to a cluster; its code hash is the blake2b-256 of the bytes."],
        handler: (ctx, who, a) => {
          if (!cluster(ctx, a.cluster)) return err("ClusterNotFound");
          if (a.code.length > CODE_SIZE_MAX) return err("CodeTooLarge");
          const hash = blake2b256(a.code);
          if (!S.ClusterCode.get(ctx.state, a.cluster, hash)) {
            S.ClusterCode.set(ctx.state, a.cluster, hash, who);
            const pushed = pushClusterEvent(ctx, { tag: "CodeUploaded", value: { cluster: a.cluster, code_hash: hash, uploader: who, code: a.code } });
            if (pushed) return pushed;
          }
          emit(ctx, { tag: "CodeUploaded", value: { cluster: a.cluster, code_hash: hash } });
          return undefined;
        },
      }),
      instantiate_contract: call({
        index: 4,
        origin: "signed",
        args: { code_hash: H256, cluster: H256, salt: T.bytes, init_args: T.bytes },
        weight: (a) => 200_000_000n + BigInt(a.init_args.length) * 1_000n,
        docs: ["Instantiates uploaded code in a cluster; `init_args` is encrypted to the cluster key."],
        handler: (ctx, who, a) => {
          if (!cluster(ctx, a.cluster)) return err("ClusterNotFound");
          if (!PhalaRegistryStorage.ClusterKeys.get(ctx.state, a.cluster)) return err("ClusterKeyMissing");
          if (!S.ClusterCode.get(ctx.state, a.cluster, a.code_hash)) return err("CodeNotFound");
          if (a.salt.length > SALT_BYTES_MAX || a.init_args.length > INIT_ARGS_BYTES_MAX) return err("PayloadTooLarge");
          const id = contractIdOf(who, a.code_hash, a.cluster, a.salt);
          if (S.Contracts.get(ctx.state, id)) return err("ContractExists");
          S.Contracts.set(ctx.state, id, { deployer: who, code_hash: a.code_hash, cluster: a.cluster, salt: a.salt });
          emit(ctx, { tag: "Instantiating", value: { contract: id, cluster: a.cluster, deployer: who } });
          return pushClusterEvent(ctx, { tag: "ContractInstantiated", value: { cluster: a.cluster, contract: id, code_hash: a.code_hash, deployer: who, init_args: a.init_args } });
        },
      }),
      push_contract_message: call({
        index: 5,
        origin: "signed",
        args: { contract: H256, payload: T.bytes, deposit: T.u128, gas_limit: T.u64 },
        weight: (a) => 50_000_000n + BigInt(a.payload.length) * 1_000n,
        docs: [
          "Sends a command, encrypted to the contract's key, to every worker of its cluster.",
          "`deposit` PHA is moved into the sender's balance inside the cluster first (to pay for gas).",
          "`gas_limit` (at most CommandGasMax) must equal the one sealed in the payload; workers refuse the command otherwise.",
        ],
        handler: (ctx, who, a) => {
          const c = S.Contracts.get(ctx.state, a.contract);
          if (!c) return err("ContractNotFound");
          if (a.payload.length > COMMAND_BYTES_MAX) return err("PayloadTooLarge");
          // Refused before anything moves, so a command no worker would run costs only its fee.
          if (a.gas_limit === 0n || a.gas_limit > COMMAND_GAS_MAX) return err("GasLimitTooHigh");
          if (a.deposit > 0n) {
            const r = lockForCluster(ctx, c.cluster, who, who, a.deposit);
            if (r) return r;
          }
          emit(ctx, { tag: "CommandPushed", value: { contract: a.contract, sender: who } });
          return pushMessage(ctx, { sender: { tag: "AccountId", value: who }, destination: utf8(ContractTopics.contractCommand), payload: ContractCommand.codec.enc({ contract: a.contract, payload: a.payload, gas_limit: a.gas_limit }) });
        },
      }),
      transfer_to_cluster: call({
        index: 6,
        origin: "signed",
        args: { amount: T.u128, cluster: H256, dest_account: AccountId32 },
        weight: () => 100_000_000n,
        docs: ["Locks PHA on chain and credits `dest_account` with it inside the cluster."],
        handler: (ctx, who, a) => {
          if (!cluster(ctx, a.cluster)) return err("ClusterNotFound");
          return lockForCluster(ctx, a.cluster, who, a.dest_account, a.amount);
        },
      }),
    },
  });
}

function lockForCluster(ctx: DispatchContext, clusterId: Uint8Array, from: Uint8Array, to: Uint8Array, amount: bigint): DispatchResult {
  if (amount === 0n) return err("AmountTooSmall");
  const moved = transfer(ctx, from, clusterPotAccount(clusterId), amount, true);
  if (moved) return moved;
  PhatContractsStorage.ClusterLocked.set(ctx.state, clusterId, PhatContractsStorage.ClusterLocked.get(ctx.state, clusterId) + amount);
  emit(ctx, { tag: "TransferToCluster", value: { cluster: clusterId, from, to, amount } });
  return pushClusterEvent(ctx, { tag: "Deposit", value: { cluster: clusterId, account: to, amount } });
}
