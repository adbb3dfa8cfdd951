/** Public names of the type system. */
export type { Type, Infer, Field, TypeDef, TypeInfo, TypeParam, VariantInfo, PrimitiveName } from "./type.ts";
export { resolveType } from "./type.ts";
export { ScaleError, ScaleDecodeError, ScaleEncodeError } from "./errors.ts";
export { T, minEncodedSize, SEQUENCE_ZERO_SIZE_LEN_MAX, LAZY_DECODE_DEPTH_MAX } from "./dsl.ts";
export type { StructValue, TupleValue, EnumValue, ResultValue, VariantDecl, VariantFields, TypeOptions, StructOptions } from "./dsl.ts";
export { decodeExact, decodePrefix, encode } from "./decode.ts";
export { encodeCompact } from "./codecs.ts";
export { Era, encodeEra, mortalEra, eraBirth, eraDeath, ERA_PERIOD_MIN, ERA_PERIOD_MAX } from "./era.ts";
export type { EraValue } from "./era.ts";
export {
  AccountId32, H256, MultiAddress, MultiSignature, Ed25519Signature, Sr25519Signature, EcdsaSignature,
  Weight, DispatchClass, Pays, DispatchInfo, ModuleError, TokenError, ArithmeticError, TransactionalError, TrieError,
  DispatchError, Phase, eventRecord, ExtraFlags, AccountData, AccountInfo,
  CheckNonZeroSender, CheckSpecVersion, CheckTxVersion, CheckGenesis, CheckMortality, CheckNonce, CheckWeight,
  ChargeTransactionPayment, SIGNED_EXTENSIONS, RuntimeDispatchInfo, InclusionFee, FeeDetails, RuntimeVersion,
} from "./std.ts";
export type { EventRecordValue } from "./std.ts";
