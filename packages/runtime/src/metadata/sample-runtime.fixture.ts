/** A small runtime description for metadata tests: System, Balances, Sudo (recursive call). Test-only. */
import { T, encode, type Type } from "../types/index.ts";
import {
  AccountId32, AccountInfo, DispatchError, DispatchInfo, H256, MultiAddress, MultiSignature, RuntimeDispatchInfo,
  RuntimeVersion, SIGNED_EXTENSIONS, eventRecord,
} from "../types/std.ts";
import type { RuntimeMetadataInput } from "./build.ts";

export const Runtime = T.struct(["phala_runtime", "Runtime"], {});

export const SystemCall = T.enumeration(["frame_system", "pallet", "Call"], {
  remark: { index: 0, fields: { remark: T.bytes }, docs: ["Make some on-chain remark."] },
  set_heap_pages: { index: 1, fields: { pages: T.u64 } },
});
export const SystemEvent = T.enumeration(["frame_system", "pallet", "Event"], {
  ExtrinsicSuccess: { index: 0, fields: { dispatch_info: DispatchInfo } },
  ExtrinsicFailed: { index: 1, fields: { dispatch_error: DispatchError, dispatch_info: DispatchInfo } },
  NewAccount: { index: 3, fields: { account: AccountId32 } },
});
export const SystemError = T.enumeration(["frame_system", "pallet", "Error"], {
  InvalidSpecName: { index: 0, docs: ["The name of specification does not match."] },
  CallFiltered: { index: 5 },
});

export const BalancesCall = T.enumeration(["pallet_balances", "pallet", "Call"], {
  transfer_allow_death: { index: 0, fields: { dest: MultiAddress, value: T.compact(T.u128) } },
  transfer_keep_alive: { index: 3, fields: { dest: MultiAddress, value: T.compact(T.u128) } },
});
export const BalancesEvent = T.enumeration(["pallet_balances", "pallet", "Event"], {
  Transfer: { index: 2, fields: { from: AccountId32, to: AccountId32, amount: T.u128 } },
});
export const BalancesError = T.enumeration(["pallet_balances", "pallet", "Error"], {
  VestingBalance: { index: 0 },
  InsufficientBalance: { index: 2 },
});

// Sudo's call refers back to RuntimeCall: the annotation on the thunk breaks TypeScript's inference cycle.
export const SudoCall = T.enumeration(["pallet_sudo", "pallet", "Call"], {
  sudo: { index: 0, fields: { call: T.lazy((): Type<any> => RuntimeCall) } },
  set_key: { index: 2, fields: { new: MultiAddress } },
});
export const SudoEvent = T.enumeration(["pallet_sudo", "pallet", "Event"], {
  Sudid: { index: 0, fields: { sudo_result: T.result(T.unit, DispatchError) } },
});

export const RuntimeCall = T.enumeration(["phala_runtime", "RuntimeCall"], {
  System: { index: 0, fields: [SystemCall] },
  Balances: { index: 10, fields: [BalancesCall] },
  Sudo: { index: 20, fields: [SudoCall] },
});
export const RuntimeEvent = T.enumeration(["phala_runtime", "RuntimeEvent"], {
  System: { index: 0, fields: [SystemEvent] },
  Balances: { index: 10, fields: [BalancesEvent] },
  Sudo: { index: 20, fields: [SudoEvent] },
});
export const RuntimeError = T.enumeration(["phala_runtime", "RuntimeError"], {
  System: { index: 0, fields: [SystemError] },
  Balances: { index: 10, fields: [BalancesError] },
});

export const EventRecord = eventRecord(RuntimeEvent);

export const VERSION = {
  spec_name: "phala", impl_name: "phala-ts", authoring_version: 1, spec_version: 1, impl_version: 0,
  apis: [], transaction_version: 1, system_version: 1,
};

const emptyAccount = encode(AccountInfo, {
  nonce: 0, consumers: 0, providers: 0, sufficients: 0, data: { free: 0n, reserved: 0n, frozen: 0n, flags: 0n },
});

export const sampleRuntime: RuntimeMetadataInput = {
  pallets: [
    {
      name: "System",
      index: 0,
      docs: ["The System pallet."],
      storage: {
        prefix: "System",
        entries: [
          {
            name: "Account",
            modifier: "Default",
            kind: { tag: "map", hashers: ["Blake2_128Concat"], key: AccountId32, value: AccountInfo },
            fallback: emptyAccount,
            docs: ["The full account information for a particular account ID."],
          },
          { name: "Number", modifier: "Default", kind: { tag: "plain", value: T.u32 }, fallback: new Uint8Array(4) },
          { name: "Events", modifier: "Default", kind: { tag: "plain", value: T.vec(EventRecord) }, fallback: Uint8Array.of(0) },
          {
            name: "Pair",
            modifier: "Optional",
            kind: { tag: "map", hashers: ["Twox64Concat", "Blake2_128Concat"], key: T.tuple(T.u32, AccountId32), value: H256 },
            fallback: Uint8Array.of(0),
          },
        ],
      },
      calls: SystemCall,
      events: SystemEvent,
      errors: SystemError,
      constants: [
        { name: "Version", type: RuntimeVersion, value: encode(RuntimeVersion, VERSION) },
        { name: "SS58Prefix", type: T.u16, value: encode(T.u16, 30) },
      ],
    },
    {
      name: "Balances",
      index: 10,
      calls: BalancesCall,
      events: BalancesEvent,
      errors: BalancesError,
      constants: [{ name: "ExistentialDeposit", type: T.u128, value: encode(T.u128, 10_000_000_000n) }],
    },
    { name: "Sudo", index: 20, calls: SudoCall, events: SudoEvent, constants: [] },
  ],
  extrinsic: {
    version: 4,
    address: MultiAddress,
    call: RuntimeCall,
    signature: MultiSignature,
    signedExtensions: SIGNED_EXTENSIONS.map((e) => ({ ...e })),
  },
  runtime: Runtime,
  apis: [
    {
      name: "Core",
      methods: [{ name: "version", inputs: [], output: RuntimeVersion }],
    },
    {
      name: "TransactionPaymentApi",
      methods: [{ name: "query_info", inputs: [{ name: "uxt", type: T.bytes }, { name: "len", type: T.u32 }], output: RuntimeDispatchInfo }],
    },
  ],
  outerEnums: { call: RuntimeCall, event: RuntimeEvent, error: RuntimeError },
};
