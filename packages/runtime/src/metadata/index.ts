/** Public names of metadata generation. */
export { TypeRegistry } from "./registry.ts";
export type { LookupEntry } from "./registry.ts";
export { buildMetadata, uncheckedExtrinsicType, signedExtensionsTuple } from "./build.ts";
export type {
  RuntimeMetadataInput, PalletMetadataInput, StorageEntryInput, StorageHasher, SignedExtensionInput, ExtrinsicInput, RuntimeApiInput,
} from "./build.ts";
