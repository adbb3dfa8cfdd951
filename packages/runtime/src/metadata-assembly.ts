import { T } from "./types/index.ts";
import { AccountId32, FeeDetails, H256, MultiAddress, MultiSignature, RuntimeDispatchInfo, RuntimeVersion, SIGNED_EXTENSIONS } from "./types/std.ts";
import { buildMetadata, uncheckedExtrinsicType, type ExtrinsicInput, type RuntimeApiInput } from "./metadata/index.ts";
import { TransactionSource, TransactionValidity } from "./executive/validity.ts";
import type { ComposedRuntime } from "./executive/composed-runtime.ts";

/** Metadata versions served through `Metadata_metadata_versions`. */
export const METADATA_VERSIONS = [14, 15];

const RuntimeMarker = T.struct(["phala_runtime", "Runtime"], {});

function runtimeApis(extrinsic: ExtrinsicInput): RuntimeApiInput[] {
  const uxt = uncheckedExtrinsicType(extrinsic);
  const opaque = T.newtype(["sp_core", "OpaqueMetadata"], T.bytes);
  return [
    { name: "Core", methods: [{ name: "version", inputs: [], output: RuntimeVersion, docs: ["Returns the version of the runtime."] }] },
    {
      name: "Metadata",
      methods: [
        { name: "metadata", inputs: [], output: opaque },
        { name: "metadata_at_version", inputs: [{ name: "version", type: T.u32 }], output: T.option(opaque) },
        { name: "metadata_versions", inputs: [], output: T.vec(T.u32) },
      ],
    },
    {
      name: "TaggedTransactionQueue",
      methods: [
        {
          name: "validate_transaction",
          inputs: [
            { name: "source", type: TransactionSource },
            { name: "tx", type: uxt },
            { name: "block_hash", type: H256 },
          ],
          output: TransactionValidity,
        },
      ],
    },
    { name: "AccountNonceApi", methods: [{ name: "account_nonce", inputs: [{ name: "account", type: AccountId32 }], output: T.u32 }] },
    {
      name: "TransactionPaymentApi",
      methods: [
        { name: "query_info", inputs: [{ name: "uxt", type: uxt }, { name: "len", type: T.u32 }], output: RuntimeDispatchInfo },
        { name: "query_fee_details", inputs: [{ name: "uxt", type: uxt }, { name: "len", type: T.u32 }], output: FeeDetails },
      ],
    },
  ];
}

/** RuntimeMetadataPrefixed (V14 or V15) of a composed runtime. */
export function buildRuntimeMetadata(rt: ComposedRuntime, version: number): Uint8Array {
  if (version !== 14 && version !== 15) throw new RangeError(`metadata version ${version} is not served; use one of ${METADATA_VERSIONS.join(", ")}`);
  const extrinsic: ExtrinsicInput = {
    version: 4,
    address: MultiAddress,
    call: rt.call,
    signature: MultiSignature,
    signedExtensions: SIGNED_EXTENSIONS.map((e) => ({ identifier: e.identifier, type: e.type, additionalSigned: e.additionalSigned })),
  };
  return buildMetadata(
    {
      pallets: rt.pallets.map((p) => ({
        name: p.name,
        index: p.index,
        docs: p.def.docs,
        storage: p.storageMeta.length ? { prefix: p.name, entries: p.storageMeta } : undefined,
        calls: p.callType,
        events: p.def.events,
        errors: p.errorType,
        constants: Object.entries(p.def.constants).map(([name, c]) => ({ name, type: c.type, value: c.type.codec.enc(c.value), docs: c.docs })),
      })),
      extrinsic,
      runtime: RuntimeMarker,
      apis: runtimeApis(extrinsic),
      outerEnums: { call: rt.call, event: rt.event, error: rt.error },
    },
    version,
  );
}
