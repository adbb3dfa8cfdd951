/**
 * Dev evidence: a software key vouches for a measurement. It proves nothing
 * about hardware and is accepted only where the policy allows dev.
 *
 *   payload   = SCALE { measurement: [u8; 32], report_data: [u8; 64], signer: [u8; 32] }
 *   signature = ed25519(signer, "phala/attestation/dev/v1" ++ payload)
 */
import { concatBytes, utf8, verifyEd25519 } from "@phala-ts/primitives";
import { AttestationError } from "./errors.ts";
import { decode, encode, fixed, struct, type CodecType } from "./scale.ts";

/** Separates dev signatures from every other use of the same ed25519 key. */
export const DEV_SIGNING_CONTEXT = utf8("phala/attestation/dev/v1");
export const REPORT_DATA_LENGTH = 64;
export const DEV_MEASUREMENT_LENGTH = 32;

export const DevPayloadCodec = struct({
  measurement: fixed(DEV_MEASUREMENT_LENGTH, "dev measurement"),
  reportData: fixed(REPORT_DATA_LENGTH, "report data"),
  signer: fixed(32, "dev signer"),
});
export type DevPayload = CodecType<typeof DevPayloadCodec>;

export function encodeDevPayload(p: DevPayload): Uint8Array {
  return encode(DevPayloadCodec, p);
}

export function devSigningMessage(payload: Uint8Array): Uint8Array {
  return concatBytes(DEV_SIGNING_CONTEXT, payload);
}

export interface DevReport {
  readonly measurement: Uint8Array;
  readonly reportData: Uint8Array;
  readonly signer: Uint8Array;
}

export function verifyDevEvidence(payload: Uint8Array, signature: Uint8Array): DevReport {
  const p = decode(DevPayloadCodec, payload, "dev payload");
  if (signature.length !== 64 || !verifyEd25519(p.signer, devSigningMessage(payload), signature)) {
    throw new AttestationError("SIGNATURE", "dev evidence signature does not verify with the signer key it names; the evidence was altered or signed with another key");
  }
  return p;
}
