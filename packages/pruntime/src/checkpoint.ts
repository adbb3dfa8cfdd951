/**
 * Checkpoints (ARCHITECTURE §5): one sealed snapshot of everything pRuntime must not lose:
 * its keys, the light client's position, the egress queues, the gatekeeper state machine and
 * the clusters and contracts (cluster secrets held, contract storage, balances, results).
 * Contract code lives in sealed files of its own, named by hash (code-store.ts); contract
 * storage and command results live in the sealed store (sealed-store.ts), which this
 * checkpoint names by a commitment, so a checkpoint seals only what changed.
 * A restart loads it and continues from its height; the chain re-feeds the blocks after it,
 * and because processing is deterministic the same egress comes out again.
 */
import { T, decodeExact, type Infer } from "@phala-ts/runtime/types";
import { ValidatorSet } from "@phala-ts/runtime/consensus";
import { MessageOrigin, SignedMessage } from "@phala-ts/runtime/phala";
import { PruntimeError } from "./errors.ts";
import { ContractsSnapshot, ContractsSnapshotV2, emptyContractsSnapshot, fromContractsSnapshotV2 } from "./contracts.ts";
import { LoadedContractState } from "./contract-store-entries.ts";
import { StoreCommitment, type StoreCommitmentValue } from "./sealed-store.ts";
import { GatekeeperSnapshot } from "./gatekeeper.ts";
import type { Sealer } from "./sealer.ts";

/** Bumped whenever the layout below changes; an older pRuntime refuses a newer checkpoint. */
export const CHECKPOINT_FORMAT_VERSION = 3;
export const CHECKPOINT_SEALED_NAME = "checkpoint";

const Key32 = T.fixedBytes(32);

const EgressCheckpoint = T.struct(["phala_pruntime", "EgressCheckpoint"], {
  origin: MessageOrigin,
  chain_count: T.u64,
  next_sequence: T.u64,
  dropped: T.u64,
  pending: T.vec(SignedMessage),
});

/** What every checkpoint format starts with: the worker's own keys. */
const keyFields = { version: T.u32, identity_seed: Key32, ecdh_private_key: Key32 };

/** The chain position and replicated state every format has; the formats differ in contract state. */
const chainFields = {
  genesis_hash: Key32,
  height: T.u32,
  hash: Key32,
  /** Timestamp.Now of the block at `height`. */
  timestamp_ms: T.u64,
  validator_set: ValidatorSet,
  egress: T.vec(EgressCheckpoint),
  gatekeeper: GatekeeperSnapshot,
};

export const Checkpoint = T.struct(["phala_pruntime", "Checkpoint"], {
  ...keyFields,
  /** Absent until /init gave the genesis header. */
  chain: T.option(
    T.struct(["phala_pruntime", "ChainCheckpoint"], {
      ...chainFields,
      contracts: ContractsSnapshot,
      /** The sealed store holding contract storage and results as of this checkpoint. */
      store: StoreCommitment,
    }),
  ),
});
export type CheckpointValue = Infer<typeof Checkpoint>;

/** Format 2: contract storage and results inline (the checkpoint grew with all contract state). */
export const CheckpointV2 = T.struct(["phala_pruntime", "CheckpointV2"], {
  ...keyFields,
  chain: T.option(T.struct(["phala_pruntime", "ChainCheckpointV2"], { ...chainFields, contracts: ContractsSnapshotV2 })),
});

/**
 * A loaded checkpoint. `inline` is contract state an older format held inline: it is not in
 * the sealed store yet (the chain's `store` is then absent) and the next checkpoint writes it.
 */
export interface LoadedCheckpoint {
  version: number;
  identity_seed: Uint8Array;
  ecdh_private_key: Uint8Array;
  chain: (Omit<NonNullable<CheckpointValue["chain"]>, "store"> & { store: StoreCommitmentValue | undefined }) | undefined;
  inline: LoadedContractState | undefined;
}

/**
 * Format 1 (issue 3): no block time and no contracts. Such a pRuntime never saw a cluster
 * (there were none), so it loads with an empty contracts state and block time 0 until the
 * next synced block.
 */
export const CheckpointV1 = T.struct(["phala_pruntime", "CheckpointV1"], {
  version: T.u32,
  identity_seed: Key32,
  ecdh_private_key: Key32,
  chain: T.option(
    T.struct(["phala_pruntime", "ChainCheckpointV1"], {
      genesis_hash: Key32,
      height: T.u32,
      hash: Key32,
      validator_set: ValidatorSet,
      egress: T.vec(EgressCheckpoint),
      gatekeeper: GatekeeperSnapshot,
    }),
  ),
});

function fromV1(v1: Infer<typeof CheckpointV1>): LoadedCheckpoint {
  const c = v1.chain;
  return {
    ...v1,
    version: CHECKPOINT_FORMAT_VERSION,
    chain: c === undefined ? undefined : { ...c, timestamp_ms: 0n, contracts: emptyContractsSnapshot(), store: undefined },
    inline: undefined,
  };
}

function fromV2(v2: Infer<typeof CheckpointV2>): LoadedCheckpoint {
  const c = v2.chain;
  if (c === undefined) return { ...v2, version: CHECKPOINT_FORMAT_VERSION, chain: undefined, inline: undefined };
  const { snapshot, state } = fromContractsSnapshotV2(c.contracts);
  return { ...v2, version: CHECKPOINT_FORMAT_VERSION, chain: { ...c, contracts: snapshot, store: undefined }, inline: state };
}

export function saveCheckpoint(sealer: Sealer, checkpoint: CheckpointValue): void {
  const bytes = Checkpoint.codec.enc(checkpoint);
  try {
    sealer.seal(CHECKPOINT_SEALED_NAME, bytes);
  } finally {
    bytes.fill(0);
  }
}

/** The sealed checkpoint, or undefined on a fresh data directory. */
export function loadCheckpoint(sealer: Sealer): LoadedCheckpoint | undefined {
  const bytes = sealer.unseal(CHECKPOINT_SEALED_NAME);
  if (bytes === undefined) return undefined;
  try {
    if (bytes.length < 4) throw new RangeError("shorter than its version");
    const version = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
    if (version === 1) return fromV1(decodeExact(CheckpointV1, bytes));
    if (version === 2) return fromV2(decodeExact(CheckpointV2, bytes));
    if (version !== CHECKPOINT_FORMAT_VERSION) {
      throw new PruntimeError("CHECKPOINT_INVALID", `the checkpoint has format ${version}; this pRuntime reads ${CHECKPOINT_FORMAT_VERSION}. Run the pRuntime version that wrote it`);
    }
    return { ...decodeExact(Checkpoint, bytes), inline: undefined };
  } catch (e) {
    if (e instanceof PruntimeError) throw e;
    throw new PruntimeError("CHECKPOINT_INVALID", "the checkpoint authenticates but does not decode; it was written by an incompatible pRuntime", { cause: e });
  } finally {
    bytes.fill(0);
  }
}
