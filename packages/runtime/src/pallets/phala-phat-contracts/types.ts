import { concatBytes, blake2b256, u64le, utf8 } from "@phala-ts/primitives";
import { T, type Infer } from "../../types/index.ts";
import { AccountId32, H256 } from "../../types/std.ts";

export const ClusterId = H256;
export const ContractId = H256;
const Pubkey = T.fixedBytes(32);

/** An ed25519 key that signs and an x25519 key that is encrypted to: how clusters and contracts are published. */
export const PublicKeys = T.struct(["phala_pallets", "PublicKeys"], { pubkey: Pubkey, ecdh_pubkey: Pubkey });
export type PublicKeysValue = Infer<typeof PublicKeys>;

export const ClusterInfo = T.struct(["phala_pallets", "phat_contracts", "ClusterInfo"], {
  owner: AccountId32,
  workers: T.vec(Pubkey),
  /** Plancks per unit of gas, paid from the sender's balance inside the cluster. */
  gas_price: T.u128,
  deposit_per_byte: T.u128,
  deposit_per_item: T.u128,
});
export type ClusterInfoValue = Infer<typeof ClusterInfo>;

export const ContractInfo = T.struct(["phala_pallets", "phat_contracts", "ContractInfo"], {
  deployer: AccountId32,
  code_hash: H256,
  cluster: ClusterId,
  salt: T.bytes,
});
export type ContractInfoValue = Infer<typeof ContractInfo>;

/** PhalaPhatContracts → pRuntimes on topic `phala/cluster/event`. */
export const ClusterEvent = T.enumeration(["phala_pallets", "phat_contracts", "ClusterEvent"], {
  ClusterCreated: { index: 0, fields: { cluster: ClusterId, workers: T.vec(Pubkey), gas_price: T.u128, deposit_per_byte: T.u128, deposit_per_item: T.u128 } },
  WorkerAdded: { index: 1, fields: { cluster: ClusterId, worker: Pubkey } },
  WorkerRemoved: { index: 2, fields: { cluster: ClusterId, worker: Pubkey } },
  CodeUploaded: { index: 3, fields: { cluster: ClusterId, code_hash: H256, uploader: AccountId32, code: T.bytes } },
  /** `init_args` is an envelope encrypted to the cluster's x25519 key; the chain never sees it in clear. */
  ContractInstantiated: { index: 4, fields: { cluster: ClusterId, contract: ContractId, code_hash: H256, deployer: AccountId32, init_args: T.bytes } },
  /** PHA locked on chain and credited to `account` inside the cluster. */
  Deposit: { index: 5, fields: { cluster: ClusterId, account: AccountId32, amount: T.u128 } },
});
export type ClusterEventValue = Infer<typeof ClusterEvent>;

/**
 * A user's command for a contract, on topic `phala/contract/command`; `payload` is an envelope
 * to the contract key. `gas_limit` is the limit the chain checked against CommandGasMax, in
 * clear; the one sealed in the payload must equal it.
 */
export const ContractCommand = T.struct(["phala_pallets", "phat_contracts", "ContractCommand"], {
  contract: ContractId,
  payload: T.bytes,
  gas_limit: T.u64,
});

/** One member's copy of a cluster secret, encrypted to that worker's x25519 key. */
export const KeyShare = T.struct(["phala_pallets", "phat_contracts", "KeyShare"], {
  worker: Pubkey,
  sender_ecdh_pubkey: Pubkey,
  nonce: T.fixedBytes(12),
  ciphertext: T.bytes,
});

/** Gatekeeper → chain and members, topic `phala/cluster/key`: the cluster's public keys and the shares of its secret. */
export const ClusterKeyPublished = T.struct(["phala_pallets", "phat_contracts", "ClusterKeyPublished"], {
  cluster: ClusterId,
  keys: PublicKeys,
  shares: T.vec(KeyShare),
});

/** Cluster → chain, topic `phala/contract/key`, signed with the cluster key: a contract's public keys. */
export const ContractKeyPublished = T.struct(["phala_pallets", "phat_contracts", "ContractKeyPublished"], {
  contract: ContractId,
  keys: PublicKeys,
});

export const ContractTopics = {
  clusterEvent: "phala/cluster/event",
  contractCommand: "phala/contract/command",
  clusterKey: "phala/cluster/key",
  contractKey: "phala/contract/key",
} as const;

/** `blake2b-256("phala/cluster" ++ u64 le counter)`: clusters are numbered in creation order. */
export function clusterIdOf(counter: bigint): Uint8Array {
  return blake2b256(concatBytes(utf8("phala/cluster"), u64le(counter)));
}

/** The contract id, from deployer, code hash, cluster and salt (issue 4): a deployer picks a fresh salt to deploy again. */
export function contractIdOf(deployer: Uint8Array, codeHash: Uint8Array, cluster: Uint8Array, salt: Uint8Array): Uint8Array {
  return blake2b256(concatBytes(utf8("phala/contract"), deployer, codeHash, cluster, salt));
}
