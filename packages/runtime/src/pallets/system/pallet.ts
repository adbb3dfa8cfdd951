import { T, type Type, type Infer } from "../../types/index.ts";
import { AccountId32, AccountInfo, DispatchError, DispatchInfo, H256, RuntimeVersion, eventRecord } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { call, definePallet } from "../../pallet/define-pallet.ts";
import { blake2b256 } from "@phala-ts/primitives";
import { SS58_PREFIX, BLOCK_HASH_COUNT, SYSTEM_PALLET_INDEX } from "./constants.ts";

export const SystemEvent = T.enumeration(["frame_system", "pallet", "Event"], {
  ExtrinsicSuccess: { index: 0, fields: { dispatch_info: DispatchInfo } },
  ExtrinsicFailed: { index: 1, fields: { dispatch_error: DispatchError, dispatch_info: DispatchInfo } },
  CodeUpdated: { index: 2 },
  NewAccount: { index: 3, fields: { account: AccountId32 } },
  KilledAccount: { index: 4, fields: { account: AccountId32 } },
  Remarked: { index: 5, fields: { sender: AccountId32, hash: H256 } },
});
export type SystemEventValue = Infer<typeof SystemEvent>;

const ZERO_HASH = new Uint8Array(32);
const s = palletStorage("System");

export const SystemStorage = {
  Account: s.map("Account", "Blake2_128Concat", AccountId32, AccountInfo, {
    default: { nonce: 0, consumers: 0, providers: 0, sufficients: 0, data: { free: 0n, reserved: 0n, frozen: 0n, flags: 0n } },
    docs: ["The full account information for a particular account ID."],
  }),
  ExtrinsicCount: s.value("ExtrinsicCount", T.u32, { docs: ["Total extrinsics count for the current block."] }),
  BlockHash: s.map("BlockHash", "Twox64Concat", T.u32, H256, { default: ZERO_HASH, docs: ["Map of block numbers to block hashes."] }),
  Number: s.value("Number", T.u32, { default: 0, docs: ["The current block number being processed."] }),
  ParentHash: s.value("ParentHash", H256, { default: ZERO_HASH, docs: ["Hash of the previous block."] }),
  EventCount: s.value("EventCount", T.u32, { default: 0, docs: ["The number of events in the `Events<T>` list."] }),
};

export interface SystemOptions {
  /** The runtime's outer event enum; System.Events stores records of it. */
  runtimeEvent: Type<any>;
  version: Infer<typeof RuntimeVersion>;
}

/** frame_system: accounts and nonces, block number and hashes, events. */
export function createSystemPallet(opts: SystemOptions) {
  const Events = s.value("Events", T.vec(eventRecord(opts.runtimeEvent)), {
    default: [],
    docs: ["Events deposited for the current block."],
  });
  const pallet = definePallet({
    name: "System",
    index: SYSTEM_PALLET_INDEX,
    crate: "frame_system",
    storage: [
      SystemStorage.Account,
      SystemStorage.ExtrinsicCount,
      SystemStorage.BlockHash,
      SystemStorage.Number,
      SystemStorage.ParentHash,
      Events,
      SystemStorage.EventCount,
    ],
    events: SystemEvent,
    errors: [
      "InvalidSpecName",
      "SpecVersionNeedsToIncrease",
      "FailedToExtractRuntimeVersion",
      "NonDefaultComposite",
      "NonZeroRefCount",
      "CallFiltered",
    ] as const,
    constants: {
      BlockHashCount: { type: T.u32, value: BLOCK_HASH_COUNT, docs: ["Maximum number of block number to block hash mappings to keep."] },
      Version: { type: RuntimeVersion, value: opts.version, docs: ["Get the chain's in-code version."] },
      SS58Prefix: { type: T.u16, value: SS58_PREFIX, docs: ["The designated SS58 prefix of this chain."] },
    },
    calls: {
      remark: call({
        index: 0,
        origin: "signed",
        args: { remark: T.bytes },
        weight: (a) => 1_000_000n + BigInt(a.remark.length) * 1_000n,
        docs: ["Make some on-chain remark."],
        handler: () => undefined,
      }),
      set_storage: call({
        index: 4,
        origin: "root",
        args: { items: T.vec(T.tuple(T.bytes, T.bytes)) },
        weight: (a) => 1_000_000n + BigInt(a.items.length) * 10_000_000n,
        docs: ["Set some items of storage."],
        handler: (ctx, _who, a) => {
          for (const [k, v] of a.items) ctx.state.set(k, v);
          return undefined;
        },
      }),
      kill_storage: call({
        index: 5,
        origin: "root",
        args: { keys: T.vec(T.bytes) },
        weight: (a) => 1_000_000n + BigInt(a.keys.length) * 10_000_000n,
        docs: ["Kill some items from storage."],
        handler: (ctx, _who, a) => {
          for (const k of a.keys) ctx.state.delete(k);
          return undefined;
        },
      }),
      remark_with_event: call({
        index: 7,
        origin: "signed",
        args: { remark: T.bytes },
        weight: (a) => 2_000_000n + BigInt(a.remark.length) * 1_000n,
        docs: ["Make some on-chain remark and emit event."],
        handler: (ctx, who, a) => {
          pallet.emit(ctx, { tag: "Remarked", value: { sender: who, hash: blake2b256(a.remark) } });
          return undefined;
        },
      }),
    },
  });
  return { pallet, Events };
}

export type SystemPallet = ReturnType<typeof createSystemPallet>["pallet"];
export { BLOCK_HASH_COUNT };
