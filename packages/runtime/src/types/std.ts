/**
 * Standard Substrate types with their exact scale-info paths, field names and
 * encodings, so polkadot-js and polkadot-api recognise them in our metadata.
 */
import { Era } from "./era.ts";
import { T } from "./dsl.ts";
import type { Infer, Type } from "./type.ts";

export { Era };

// ---------------------------------------------------------------- accounts and hashes

export const AccountId32 = T.newtype(["sp_core", "crypto", "AccountId32"], T.fixedBytes(32), { typeName: "[u8; 32]" });
export const H256 = T.newtype(["primitive_types", "H256"], T.fixedBytes(32), { typeName: "[u8; 32]" });

/** `MultiAddress<AccountId32, ()>` as Polkadot and Phala use it. */
export const MultiAddress = T.enumeration(
  ["sp_runtime", "multiaddress", "MultiAddress"],
  {
    Id: { index: 0, fields: [AccountId32], typeNames: ["AccountId"] },
    Index: { index: 1, fields: [T.compact(T.unit)], typeNames: ["AccountIndex"] },
    Raw: { index: 2, fields: [T.bytes], typeNames: ["Vec<u8>"] },
    Address32: { index: 3, fields: [T.fixedBytes(32)], typeNames: ["[u8; 32]"] },
    Address20: { index: 4, fields: [T.fixedBytes(20)], typeNames: ["[u8; 20]"] },
  },
  { params: [{ name: "AccountId", type: AccountId32 }, { name: "AccountIndex", type: T.unit }] },
);

export const Ed25519Signature = T.newtype(["sp_core", "ed25519", "Signature"], T.fixedBytes(64), { typeName: "[u8; 64]" });
export const Sr25519Signature = T.newtype(["sp_core", "sr25519", "Signature"], T.fixedBytes(64), { typeName: "[u8; 64]" });
export const EcdsaSignature = T.newtype(["sp_core", "ecdsa", "Signature"], T.fixedBytes(65), { typeName: "[u8; 65]" });

export const MultiSignature = T.enumeration(["sp_runtime", "MultiSignature"], {
  Ed25519: { index: 0, fields: [Ed25519Signature], typeNames: ["ed25519::Signature"] },
  Sr25519: { index: 1, fields: [Sr25519Signature], typeNames: ["sr25519::Signature"] },
  Ecdsa: { index: 2, fields: [EcdsaSignature], typeNames: ["ecdsa::Signature"] },
});

// ---------------------------------------------------------------- weights and dispatch

export const Weight = T.struct(
  ["sp_weights", "weight_v2", "Weight"],
  { ref_time: T.compact(T.u64), proof_size: T.compact(T.u64) },
  { typeNames: { ref_time: "u64", proof_size: "u64" } },
);

export const DispatchClass = T.enumeration(["frame_support", "dispatch", "DispatchClass"], {
  Normal: { index: 0 },
  Operational: { index: 1 },
  Mandatory: { index: 2 },
});

export const Pays = T.enumeration(["frame_support", "dispatch", "Pays"], {
  Yes: { index: 0 },
  No: { index: 1 },
});

export const DispatchInfo = T.struct(
  ["frame_support", "dispatch", "DispatchInfo"],
  { weight: Weight, class: DispatchClass, pays_fee: Pays },
  { typeNames: { weight: "Weight", class: "DispatchClass", pays_fee: "Pays" } },
);

export const ModuleError = T.struct(
  ["sp_runtime", "ModuleError"],
  { index: T.u8, error: T.fixedBytes(4) },
  { typeNames: { index: "u8", error: "[u8; MAX_MODULE_ERROR_ENCODED_SIZE]" } },
);

export const TokenError = T.enumeration(["sp_runtime", "TokenError"], {
  FundsUnavailable: { index: 0 },
  OnlyProvider: { index: 1 },
  BelowMinimum: { index: 2 },
  CannotCreate: { index: 3 },
  UnknownAsset: { index: 4 },
  Frozen: { index: 5 },
  Unsupported: { index: 6 },
  CannotCreateHold: { index: 7 },
  NotExpendable: { index: 8 },
  Blocked: { index: 9 },
});

export const ArithmeticError = T.enumeration(["sp_arithmetic", "ArithmeticError"], {
  Underflow: { index: 0 },
  Overflow: { index: 1 },
  DivisionByZero: { index: 2 },
});

export const TransactionalError = T.enumeration(["sp_runtime", "TransactionalError"], {
  LimitReached: { index: 0 },
  NoLayer: { index: 1 },
});

export const TrieError = T.enumeration(["sp_runtime", "proving_trie", "TrieError"], {
  InvalidStateRoot: { index: 0 },
  IncompleteDatabase: { index: 1 },
  ValueAtIncompleteKey: { index: 2 },
  DecoderError: { index: 3 },
  InvalidHash: { index: 4 },
  DuplicateKey: { index: 5 },
  ExtraneousNode: { index: 6 },
  ExtraneousValue: { index: 7 },
  ExtraneousHashReference: { index: 8 },
  InvalidChildReference: { index: 9 },
  ValueMismatch: { index: 10 },
  IncompleteProof: { index: 11 },
  RootMismatch: { index: 12 },
  DecodeError: { index: 13 },
});

/** `sp_runtime::DispatchError` as in current polkadot-sdk (Other's message is `#[codec(skip)]`). */
export const DispatchError = T.enumeration(["sp_runtime", "DispatchError"], {
  Other: { index: 0, docs: ["Some error occurred."] },
  CannotLookup: { index: 1, docs: ["Failed to lookup some data."] },
  BadOrigin: { index: 2, docs: ["A bad origin."] },
  Module: { index: 3, fields: [ModuleError], typeNames: ["ModuleError"], docs: ["A custom error in a module."] },
  ConsumerRemaining: { index: 4, docs: ["At least one consumer is remaining so the account cannot be destroyed."] },
  NoProviders: { index: 5, docs: ["There are no providers so the account cannot be created."] },
  TooManyConsumers: { index: 6, docs: ["There are too many consumers so the account cannot be created."] },
  Token: { index: 7, fields: [TokenError], typeNames: ["TokenError"], docs: ["An error to do with tokens."] },
  Arithmetic: { index: 8, fields: [ArithmeticError], typeNames: ["ArithmeticError"], docs: ["An arithmetic error."] },
  Transactional: { index: 9, fields: [TransactionalError], typeNames: ["TransactionalError"], docs: ["The number of transactional layers has been reached, or we are not in a transactional layer."] },
  Exhausted: { index: 10, docs: ["Resources exhausted, e.g. attempt to read/write data which is too large to manipulate."] },
  Corruption: { index: 11, docs: ["The state is corrupt; this is generally not going to fix itself."] },
  Unavailable: { index: 12, docs: ["Some resource (e.g. a preimage) is unavailable right now. This might fix itself later."] },
  RootNotAllowed: { index: 13, docs: ["Root origin is not allowed."] },
  Trie: { index: 14, fields: [TrieError], typeNames: ["TrieError"], docs: ["An error with tries."] },
});

// ---------------------------------------------------------------- system

export const Phase = T.enumeration(["frame_system", "Phase"], {
  ApplyExtrinsic: { index: 0, fields: [T.u32], typeNames: ["u32"] },
  Finalization: { index: 1 },
  Initialization: { index: 2 },
});

export type EventRecordValue<E> = { phase: Infer<typeof Phase>; event: E; topics: Uint8Array[] };

const eventRecords = new WeakMap<Type<any>, Type<any>>();
/** `frame_system::EventRecord<RuntimeEvent, H256>`; one type per event type. */
export function eventRecord<E>(eventType: Type<E>): Type<EventRecordValue<E>> {
  let t = eventRecords.get(eventType);
  if (t === undefined) {
    t = T.struct(
      ["frame_system", "EventRecord"],
      { phase: Phase, event: eventType, topics: T.vec(H256) },
      {
        params: [{ name: "E", type: eventType }, { name: "T", type: H256 }],
        typeNames: { phase: "Phase", event: "E", topics: "Vec<T>" },
      },
    );
    eventRecords.set(eventType, t);
  }
  return t as Type<EventRecordValue<E>>;
}

export const ExtraFlags = T.newtype(["pallet_balances", "types", "ExtraFlags"], T.u128, { typeName: "u128" });

export const AccountData = T.struct(
  ["pallet_balances", "types", "AccountData"],
  { free: T.u128, reserved: T.u128, frozen: T.u128, flags: ExtraFlags },
  {
    params: [{ name: "Balance", type: T.u128 }],
    typeNames: { free: "Balance", reserved: "Balance", frozen: "Balance", flags: "ExtraFlags" },
  },
);

export const AccountInfo = T.struct(
  ["frame_system", "AccountInfo"],
  { nonce: T.u32, consumers: T.u32, providers: T.u32, sufficients: T.u32, data: AccountData },
  {
    params: [{ name: "Nonce", type: T.u32 }, { name: "AccountData", type: AccountData }],
    typeNames: { nonce: "Nonce", consumers: "RefCount", providers: "RefCount", sufficients: "RefCount", data: "AccountData" },
  },
);

// ---------------------------------------------------------------- signed extensions

/** Substrate's extensions take `T: Config` with `#[scale_info(skip_type_params(T))]`: a param named T with no type. */
const configParam = [{ name: "T" }];

export const CheckNonZeroSender = T.struct(["frame_system", "extensions", "check_non_zero_sender", "CheckNonZeroSender"], {}, { params: configParam });
export const CheckSpecVersion = T.struct(["frame_system", "extensions", "check_spec_version", "CheckSpecVersion"], {}, { params: configParam });
export const CheckTxVersion = T.struct(["frame_system", "extensions", "check_tx_version", "CheckTxVersion"], {}, { params: configParam });
export const CheckGenesis = T.struct(["frame_system", "extensions", "check_genesis", "CheckGenesis"], {}, { params: configParam });
export const CheckMortality = T.newtype(["frame_system", "extensions", "check_mortality", "CheckMortality"], Era, { params: configParam, typeName: "Era" });
export const CheckNonce = T.newtype(["frame_system", "extensions", "check_nonce", "CheckNonce"], T.compact(T.u32), { params: configParam, typeName: "T::Nonce" });
export const CheckWeight = T.struct(["frame_system", "extensions", "check_weight", "CheckWeight"], {}, { params: configParam });
export const ChargeTransactionPayment = T.newtype(["pallet_transaction_payment", "ChargeTransactionPayment"], T.compact(T.u128), {
  params: configParam,
  typeName: "BalanceOf<T>",
});

/** The signed extensions of a Substrate v4 extrinsic in Polkadot's order, with their implicit (additional signed) data. */
export const SIGNED_EXTENSIONS = [
  { identifier: "CheckNonZeroSender", type: CheckNonZeroSender, additionalSigned: T.unit },
  { identifier: "CheckSpecVersion", type: CheckSpecVersion, additionalSigned: T.u32 },
  { identifier: "CheckTxVersion", type: CheckTxVersion, additionalSigned: T.u32 },
  { identifier: "CheckGenesis", type: CheckGenesis, additionalSigned: H256 },
  { identifier: "CheckMortality", type: CheckMortality, additionalSigned: H256 },
  { identifier: "CheckNonce", type: CheckNonce, additionalSigned: T.unit },
  { identifier: "CheckWeight", type: CheckWeight, additionalSigned: T.unit },
  { identifier: "ChargeTransactionPayment", type: ChargeTransactionPayment, additionalSigned: T.unit },
] as const;

// ---------------------------------------------------------------- runtime APIs

export const RuntimeDispatchInfo = T.struct(
  ["pallet_transaction_payment", "types", "RuntimeDispatchInfo"],
  { weight: Weight, class: DispatchClass, partial_fee: T.u128 },
  {
    params: [{ name: "Balance", type: T.u128 }, { name: "Weight", type: Weight }],
    typeNames: { weight: "Weight", class: "DispatchClass", partial_fee: "Balance" },
  },
);

export const InclusionFee = T.struct(
  ["pallet_transaction_payment", "types", "InclusionFee"],
  { base_fee: T.u128, len_fee: T.u128, adjusted_weight_fee: T.u128 },
  { params: [{ name: "Balance", type: T.u128 }], typeNames: { base_fee: "Balance", len_fee: "Balance", adjusted_weight_fee: "Balance" } },
);

/** `FeeDetails<Balance>`; its `tip` is `#[codec(skip)]`, so only the inclusion fee is encoded. */
export const FeeDetails = T.struct(
  ["pallet_transaction_payment", "types", "FeeDetails"],
  { inclusion_fee: T.option(InclusionFee) },
  { params: [{ name: "Balance", type: T.u128 }], typeNames: { inclusion_fee: "Option<InclusionFee<Balance>>" } },
);

/** `sp_version::RuntimeVersion` as returned by `Core_version` and stored in `System::Version`. */
export const RuntimeVersion = T.struct(
  ["sp_version", "RuntimeVersion"],
  {
    spec_name: T.str,
    impl_name: T.str,
    authoring_version: T.u32,
    spec_version: T.u32,
    impl_version: T.u32,
    apis: T.vec(T.tuple(T.fixedBytes(8), T.u32)),
    transaction_version: T.u32,
    system_version: T.u8,
  },
  {
    typeNames: {
      spec_name: "Cow<'static, str>",
      impl_name: "Cow<'static, str>",
      authoring_version: "u32",
      spec_version: "u32",
      impl_version: "u32",
      apis: "ApisVec",
      transaction_version: "u32",
      system_version: "u8",
    },
  },
);
