import { blake2b256, bytesEqual, concatBytes, u32le } from "@phala-ts/primitives";
import { DecodeError, Reader } from "./reader.ts";
import { encodeCompact } from "../types/codecs.ts";
import { Era as EraType, encodeEra, type EraValue as Era } from "../types/era.ts";
import { decodePrefix } from "../types/decode.ts";
import type { MultiAddressValue } from "../pallets/balances/logic.ts";

/** Substrate's transaction format version 4. */
export const EXTRINSIC_VERSION = 4;
const SIGNED_BIT = 0x80;
/** Largest extrinsic accepted anywhere (pool, block): 5 MiB, Substrate's default max block length. */
export const MAX_EXTRINSIC_BYTES = 5 * 1024 * 1024;

export type SignatureType = "ed25519" | "sr25519" | "ecdsa";
const SIGNATURE_TYPES: SignatureType[] = ["ed25519", "sr25519", "ecdsa"];
const SIGNATURE_LENGTHS = [64, 64, 65];

export interface SignedPart {
  address: MultiAddressValue;
  signature: { type: SignatureType; signature: Uint8Array };
  era: Era;
  nonce: number;
  tip: bigint;
  /** The raw bytes of the signed extensions' extra data, as signed. */
  extra: Uint8Array;
}

export interface DecodedExtrinsic {
  /** Whole encoding including the length prefix. */
  bytes: Uint8Array;
  hash: Uint8Array;
  signed: SignedPart | undefined;
  callBytes: Uint8Array;
}

function readAddress(r: Reader): MultiAddressValue {
  const tag = r.u8();
  switch (tag) {
    case 0:
      return { tag: "Id", value: r.take(32) };
    case 1:
      // MultiAddress<AccountId32, ()>: Compact<()> occupies no bytes.
      return { tag: "Index", value: undefined } as unknown as MultiAddressValue;
    case 2:
      return { tag: "Raw", value: r.take(r.compactNumber(MAX_EXTRINSIC_BYTES)) };
    case 3:
      return { tag: "Address32", value: r.take(32) };
    case 4:
      return { tag: "Address20", value: r.take(20) };
    default:
      throw new DecodeError(`unknown MultiAddress variant ${tag}`);
  }
}

/** Larger extrinsics are decoded each time: a remembered copy would cost more than the decoding. */
export const DECODE_CACHE_BYTES_MAX = 16 * 1024;
/**
 * A node decodes each transaction at admission, validation and inclusion. This remembers
 * the decoding per byte array; the copy of the bytes shows the array was not changed since.
 */
const decodedByBytes = new WeakMap<Uint8Array, { copy: Uint8Array; decoded: DecodedExtrinsic }>();

/**
 * Splits an encoded extrinsic into its signature part and call bytes without decoding
 * the call. Throws DecodeError for anything that is not a well-formed v4 extrinsic.
 * The result is frozen and may be shared by every caller that passes the same array.
 */
export function decodeExtrinsic(bytes: Uint8Array): DecodedExtrinsic {
  if (bytes.length > DECODE_CACHE_BYTES_MAX) return decodeFresh(bytes);
  const hit = decodedByBytes.get(bytes);
  if (hit && bytesEqual(hit.copy, bytes)) return hit.decoded;
  const decoded = decodeFresh(bytes);
  decodedByBytes.set(bytes, { copy: bytes.slice(), decoded });
  return decoded;
}

function decodeFresh(bytes: Uint8Array): DecodedExtrinsic {
  if (bytes.length > MAX_EXTRINSIC_BYTES) throw new DecodeError(`extrinsic of ${bytes.length} bytes exceeds ${MAX_EXTRINSIC_BYTES}`);
  const r = new Reader(bytes);
  const len = r.compactNumber(MAX_EXTRINSIC_BYTES);
  if (len !== r.remaining) throw new DecodeError(`length prefix says ${len} bytes but ${r.remaining} follow`);
  const version = r.u8();
  if ((version & 0x7f) !== EXTRINSIC_VERSION) throw new DecodeError(`unsupported extrinsic version ${version & 0x7f}; this chain accepts version 4`);
  let signed: SignedPart | undefined;
  if (version & SIGNED_BIT) {
    const address = readAddress(r);
    const sigTag = r.u8();
    if (sigTag > 2) throw new DecodeError(`unknown MultiSignature variant ${sigTag}`);
    const signature = { type: SIGNATURE_TYPES[sigTag], signature: r.take(SIGNATURE_LENGTHS[sigTag]) };
    const extraStart = r.offset;
    const { value: era, length: eraLength } = decodePrefix(EraType, bytes.subarray(r.offset));
    r.take(eraLength);
    const nonce = r.compactNumber(0xffff_ffff);
    const tip = r.compact();
    if (tip >= 1n << 128n) throw new DecodeError("tip does not fit in u128");
    signed = Object.freeze({ address: Object.freeze(address), signature: Object.freeze(signature), era: Object.freeze(era), nonce, tip, extra: bytes.subarray(extraStart, r.offset) });
  }
  if (r.remaining === 0) throw new DecodeError("extrinsic has no call");
  return Object.freeze({ bytes, hash: blake2b256(bytes), signed, callBytes: bytes.subarray(r.offset) });
}

/** Values the signer commits to without sending them (CheckSpecVersion, CheckTxVersion, CheckGenesis, CheckMortality). */
export interface AdditionalSigned {
  specVersion: number;
  transactionVersion: number;
  genesisHash: Uint8Array;
  eraBlockHash: Uint8Array;
}


/** The bytes a signer signs: call ++ extra ++ additional, hashed when longer than 256 bytes. */
export function signingPayload(callBytes: Uint8Array, extra: Uint8Array, add: AdditionalSigned): Uint8Array {
  const raw = concatBytes(callBytes, extra, u32le(add.specVersion), u32le(add.transactionVersion), add.genesisHash, add.eraBlockHash);
  return raw.length > 256 ? blake2b256(raw) : raw;
}

export function encodeExtra(era: Era, nonce: number, tip: bigint): Uint8Array {
  return concatBytes(encodeEra(era), encodeCompact(nonce), encodeCompact(tip));
}

export function encodeUnsignedExtrinsic(callBytes: Uint8Array): Uint8Array {
  const body = concatBytes(new Uint8Array([EXTRINSIC_VERSION]), callBytes);
  return concatBytes(encodeCompact(body.length), body);
}

export function encodeSignedExtrinsic(
  signer: Uint8Array,
  signature: { type: SignatureType; signature: Uint8Array },
  extra: Uint8Array,
  callBytes: Uint8Array,
): Uint8Array {
  const body = concatBytes(
    new Uint8Array([EXTRINSIC_VERSION | SIGNED_BIT, 0]),
    signer,
    new Uint8Array([SIGNATURE_TYPES.indexOf(signature.type)]),
    signature.signature,
    extra,
    callBytes,
  );
  return concatBytes(encodeCompact(body.length), body);
}
