/**
 * Evidence: what a worker puts in its registration extrinsic. SCALE:
 *
 *   enum Evidence {
 *     Dev    { payload: Vec<u8>, signature: [u8; 64] }             = 0,
 *     Sgx    { quote: Vec<u8>, collateral: Vec<u8> }              = 1,
 *     Tdx    { quote: Vec<u8>, collateral: Vec<u8> }              = 2,
 *     SevSnp { report: Vec<u8>, vcek: Vec<u8>, cert_chain: Vec<u8> } = 3,
 *   }
 *
 * `collateral` is Intel's collateral as UTF-8 JSON (the dcap-qvl field names),
 * `vcek` is DER, `cert_chain` is PEM (ASK then ARK). Each field is bounded by
 * EVIDENCE_FIELD_BYTES_MAX.
 */
import { AttestationError } from "./errors.ts";
import { bytes, decode, encode, fixed, struct, taggedUnion, type CodecType } from "./scale.ts";

/**
 * Bytes per evidence field. Real fields are far smaller (a quote ~5 KiB, TDX
 * collateral ~19 KiB, SNP chain ~5 KiB); 64 KiB leaves room for larger CRLs
 * while keeping an extrinsic small enough to gossip and store.
 */
export const EVIDENCE_FIELD_BYTES_MAX = 64 * 1024;
/** Three fields at most, plus tag and length prefixes. */
export const EVIDENCE_BYTES_MAX = 3 * (EVIDENCE_FIELD_BYTES_MAX + 5) + 1;

export const TEE_TYPES = ["dev", "sgx", "tdx", "sev-snp"] as const;
export type TeeType = (typeof TEE_TYPES)[number];
export type HardwareTee = Exclude<TeeType, "dev">;
export const HARDWARE_TEES: readonly HardwareTee[] = ["sgx", "tdx", "sev-snp"];

const field = (what: string) => bytes(EVIDENCE_FIELD_BYTES_MAX, what);

export const EvidenceCodec = taggedUnion(
  "tee",
  {
    dev: [0, struct({ payload: field("dev payload"), signature: fixed(64, "dev signature") })],
    sgx: [1, struct({ quote: field("SGX quote"), collateral: field("SGX collateral") })],
    tdx: [2, struct({ quote: field("TDX quote"), collateral: field("TDX collateral") })],
    "sev-snp": [3, struct({ report: field("SEV-SNP report"), vcek: field("VCEK certificate"), certChain: field("ASK/ARK chain") })],
  },
  "evidence type",
);

export type Evidence = CodecType<typeof EvidenceCodec>;

export function encodeEvidence(evidence: Evidence): Uint8Array {
  return encode(EvidenceCodec, evidence);
}

/** Strict decode: throws AttestationError("MALFORMED") on anything but one canonical Evidence. */
export function decodeEvidence(input: Uint8Array): Evidence {
  if (input instanceof Uint8Array && input.length > EVIDENCE_BYTES_MAX) {
    throw new AttestationError("MALFORMED", `evidence is ${input.length} bytes, more than the limit of ${EVIDENCE_BYTES_MAX}`);
  }
  return decode(EvidenceCodec, input, "evidence");
}

/** Checks field types and bounds of evidence built in code rather than decoded. */
export function assertEvidenceShape(evidence: Evidence): void {
  encodeEvidence(evidence);
}
