/**
 * Runtime metadata (`RuntimeMetadataPrefixed`, V14 or V15) from the runtime's
 * declarations, encoded with substrate-bindings' metadata codecs.
 */
import { metadata as metadataCodec, type V14, type V15 } from "@polkadot-api/substrate-bindings";
import { assert, toHex } from "@phala-ts/primitives";
import { T, type Type } from "../types/index.ts";
import { TypeRegistry } from "./registry.ts";

export type StorageHasher = "Blake2_128" | "Blake2_256" | "Blake2_128Concat" | "Twox128" | "Twox256" | "Twox64Concat" | "Identity";

export interface StorageEntryInput {
  name: string;
  modifier: "Optional" | "Default";
  kind: { tag: "plain"; value: Type<any> } | { tag: "map"; hashers: StorageHasher[]; key: Type<any>; value: Type<any> };
  /** SCALE bytes of the default value (empty for Optional). */
  fallback: Uint8Array;
  docs?: string[];
}

export interface PalletMetadataInput {
  name: string;
  index: number;
  docs?: string[];
  storage?: { prefix: string; entries: StorageEntryInput[] };
  /** The pallet's own `Call` enum (not RuntimeCall). */
  calls?: Type<any>;
  events?: Type<any>;
  errors?: Type<any>;
  constants: Array<{ name: string; type: Type<any>; value: Uint8Array; docs?: string[] }>;
}

export interface SignedExtensionInput {
  identifier: string;
  type: Type<any>;
  additionalSigned: Type<any>;
}

export interface ExtrinsicInput {
  version: 4;
  address: Type<any>;
  /** RuntimeCall. */
  call: Type<any>;
  signature: Type<any>;
  signedExtensions: SignedExtensionInput[];
}

export interface RuntimeApiInput {
  name: string;
  methods: Array<{ name: string; inputs: { name: string; type: Type<any> }[]; output: Type<any>; docs?: string[] }>;
  docs?: string[];
}

export interface RuntimeMetadataInput {
  pallets: PalletMetadataInput[];
  extrinsic: ExtrinsicInput;
  /** The runtime marker type (e.g. `phala_runtime::Runtime`). */
  runtime: Type<any>;
  /** V15 only. */
  apis?: RuntimeApiInput[];
  /** V15 only. When absent, RuntimeCall/RuntimeEvent/RuntimeError are derived from the pallets, named after the runtime's crate. */
  outerEnums?: { call: Type<any>; event: Type<any>; error: Type<any> };
}

/** "meta" read as a little-endian u32. */
const METADATA_MAGIC = 0x6174656d;

const HASHER_TAG = {
  Blake2_128: "Blake2128",
  Blake2_256: "Blake2256",
  Blake2_128Concat: "Blake2128Concat",
  Twox128: "Twox128",
  Twox256: "Twox256",
  Twox64Concat: "Twox64Concat",
  Identity: "Identity",
} as const;

const extrinsicTypes = new WeakMap<Type<any>, Type<any>>();

/** `Extra`: the tuple of the signed extension types, in order. */
export function signedExtensionsTuple(extensions: SignedExtensionInput[]): Type<any> {
  return T.tuple(...extensions.map((e) => e.type));
}

/**
 * `sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic<Address, Call, Signature, Extra>`
 * as Substrate describes it: opaque `Vec<u8>` with the real types as parameters.
 */
export function uncheckedExtrinsicType(extrinsic: ExtrinsicInput): Type<Uint8Array> {
  const extra = signedExtensionsTuple(extrinsic.signedExtensions);
  // Memoized on the tuple of (address, call, signature, extra) through a nested tuple identity.
  const key = T.tuple(extrinsic.address, extrinsic.call, extrinsic.signature, extra);
  let t = extrinsicTypes.get(key);
  if (t === undefined) {
    t = T.newtype(["sp_runtime", "generic", "unchecked_extrinsic", "UncheckedExtrinsic"], T.bytes, {
      params: [
        { name: "Address", type: extrinsic.address },
        { name: "Call", type: extrinsic.call },
        { name: "Signature", type: extrinsic.signature },
        { name: "Extra", type: extra },
      ],
      docs: ["UncheckedExtrinsic raw bytes, requires custom decoding routine"],
    });
    extrinsicTypes.set(key, t);
  }
  return t;
}

type PalletV14 = V14["pallets"][number];
type StorageItemV14 = NonNullable<PalletV14["storage"]>["items"][number];

function palletEntry(reg: TypeRegistry, p: PalletMetadataInput): PalletV14 & { docs: string[] } {
  assert(Number.isInteger(p.index) && p.index >= 0 && p.index <= 255, `pallet ${p.name}: index ${p.index} is not a u8`);
  const storage = p.storage && {
    prefix: p.storage.prefix,
    items: p.storage.entries.map((e) => {
      let type: StorageItemV14["type"];
      if (e.kind.tag === "plain") {
        type = { tag: "plain", value: reg.id(e.kind.value) };
      } else {
        const { hashers, key, value } = e.kind;
        assert(hashers.length >= 1, `${p.name}.${e.name}: a map needs at least one hasher`);
        if (hashers.length > 1) {
          const def = key.info.def;
          assert(def.tag === "tuple" && def.types.length === hashers.length, `${p.name}.${e.name}: ${hashers.length} hashers need a key tuple of ${hashers.length} types`);
        }
        type = {
          tag: "map",
          value: { hashers: hashers.map((h) => ({ tag: HASHER_TAG[h], value: undefined })), key: reg.id(key), value: reg.id(value) },
        };
      }
      return {
        name: e.name,
        modifier: e.modifier === "Optional" ? 0 : 1,
        type,
        fallback: toHex(e.fallback),
        docs: e.docs ?? [],
      };
    }),
  };
  const calls = p.calls && reg.id(p.calls);
  const events = p.events && reg.id(p.events);
  const constants = p.constants.map((c) => ({ name: c.name, type: reg.id(c.type), value: toHex(c.value), docs: c.docs ?? [] }));
  const errors = p.errors && reg.id(p.errors);
  return { name: p.name, storage, calls, events, constants, errors, index: p.index, docs: p.docs ?? [] };
}

function checkPallets(pallets: PalletMetadataInput[]): void {
  const names = new Set<string>();
  const indexes = new Set<number>();
  for (const p of pallets) {
    assert(!names.has(p.name), `duplicate pallet name ${p.name}`);
    assert(!indexes.has(p.index), `duplicate pallet index ${p.index}`);
    names.add(p.name);
    indexes.add(p.index);
  }
}

/** RuntimeCall / RuntimeEvent / RuntimeError derived from the pallets, for V15 when not given. */
function deriveOuterEnums(input: RuntimeMetadataInput): { call: Type<any>; event: Type<any>; error: Type<any> } {
  const crate = input.runtime.info.path.slice(0, -1);
  const outer = (name: string, pick: (p: PalletMetadataInput) => Type<any> | undefined): Type<any> => {
    const variants: Record<string, { index: number; fields: [Type<any>] }> = {};
    for (const p of input.pallets) {
      const t = pick(p);
      if (t !== undefined) variants[p.name] = { index: p.index, fields: [t] };
    }
    return T.enumeration([...crate, name], variants);
  };
  return {
    call: input.extrinsic.call,
    event: outer("RuntimeEvent", (p) => p.events),
    error: outer("RuntimeError", (p) => p.errors),
  };
}

/** Encodes `RuntimeMetadataPrefixed`: "meta" ++ version ++ RuntimeMetadataV14/V15. */
export function buildMetadata(input: RuntimeMetadataInput, version: 14 | 15): Uint8Array {
  assert(input.extrinsic.version === 4, "only extrinsic format v4 is supported");
  checkPallets(input.pallets);
  const reg = new TypeRegistry();
  const pallets = input.pallets.map((p) => palletEntry(reg, p));
  const extrinsicType = reg.id(uncheckedExtrinsicType(input.extrinsic));
  const signedExtensions = input.extrinsic.signedExtensions.map((e) => ({
    identifier: e.identifier,
    type: reg.id(e.type),
    additionalSigned: reg.id(e.additionalSigned),
  }));

  if (version === 14) {
    const value: V14 = {
      lookup: [],
      pallets,
      extrinsic: { type: extrinsicType, version: input.extrinsic.version, signedExtensions },
      type: reg.id(input.runtime),
      apis: [],
    };
    value.lookup = reg.lookup();
    return metadataCodec.enc({ magicNumber: METADATA_MAGIC, metadata: { tag: "v14", value } });
  }

  const extrinsic: V15["extrinsic"] = {
    version: input.extrinsic.version,
    address: reg.id(input.extrinsic.address),
    call: reg.id(input.extrinsic.call),
    signature: reg.id(input.extrinsic.signature),
    extra: reg.id(signedExtensionsTuple(input.extrinsic.signedExtensions)),
    signedExtensions,
  };
  const type = reg.id(input.runtime);
  const apis: V15["apis"] = (input.apis ?? []).map((api) => ({
    name: api.name,
    methods: api.methods.map((m) => ({
      name: m.name,
      inputs: m.inputs.map((i) => ({ name: i.name, type: reg.id(i.type) })),
      output: reg.id(m.output),
      docs: m.docs ?? [],
    })),
    docs: api.docs ?? [],
  }));
  const outer = input.outerEnums ?? deriveOuterEnums(input);
  const outerEnums = { call: reg.id(outer.call), event: reg.id(outer.event), error: reg.id(outer.error) };
  const value: V15 = { lookup: reg.lookup(), pallets, extrinsic, type, apis, outerEnums, custom: [] };
  return metadataCodec.enc({ magicNumber: METADATA_MAGIC, metadata: { tag: "v15", value } });
}
