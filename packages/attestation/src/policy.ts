/**
 * The attestation policy a chain keeps in state and changes through
 * governance. Encoding (SCALE), version byte first:
 *
 *   u8 POLICY_FORMAT_VERSION (= 1)
 *   struct AttestationPolicy {
 *     allow_dev: bool,
 *     allowed_tees: Vec<TeeType>,              // TeeType: dev=0 sgx=1 tdx=2 sev-snp=3 (dev not allowed here)
 *     allow_debug: bool,
 *     accepted_tcb_statuses: Vec<TcbStatus>,   // UpToDate=0 SWHardeningNeeded=1 ConfigurationNeeded=2
 *                                              // ConfigurationAndSWHardeningNeeded=3 OutOfDate=4 OutOfDateConfigurationNeeded=5
 *     accepted_advisory_ids: Option<Vec<String>>,   // None = any advisory
 *     confidence_advisory_allow_list: Vec<String>,  // advisories that keep level 3 (Phala's whitelist)
 *     dev: { measurements: Vec<[u8;32]>, signers: Vec<[u8;32]> },
 *     sgx: Vec<{ mr_enclave: Option<[u8;32]>, mr_signer: Option<[u8;32]>, isv_prod_id: Option<u16>, min_isv_svn: Option<u16> }>,
 *     tdx: Vec<{ mr_td: [u8;48], rtmr0..rtmr3: Option<[u8;48]> }>,
 *     sev_snp: { measurements: Vec<[u8;48]>, max_vmpl: u8, min_tcb: { bootloader, tee, snp, microcode, fmc: u8 } },
 *   }
 *
 * Lists keep the order they were given in, so the same policy always encodes
 * to the same bytes. An empty measurement list means "any measurement"; use
 * `productionPolicy` to get one that refuses that.
 */
import { AttestationError } from "./errors.ts";
import { HARDWARE_TEES, TEE_TYPES, type HardwareTee } from "./evidence.ts";
import { bool, decode, encode, fixed, option, str, struct, u16, u8, unitEnum, vec, type Codec, type CodecType } from "./scale.ts";

export const POLICY_FORMAT_VERSION = 1;
/**
 * Entries per policy list. A few releases' measurements and a handful of
 * signers are what governance keeps; 256 bounds the state item (< 64 KiB).
 */
export const POLICY_LIST_ENTRIES_MAX = 256;
/** Intel advisory ids look like "INTEL-SA-00615". */
export const ADVISORY_ID_BYTES_MAX = 32;

export const TCB_STATUSES = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
] as const;
export type AcceptableTcbStatus = (typeof TCB_STATUSES)[number];

/**
 * Advisories that leave an otherwise configuration-dependent platform at
 * confidence level 3: Phala's SGX_QUOTE_ADVISORY_ID_WHITELIST
 * (phala-blockchain pallets/phala/src/utils/constants.rs).
 */
export const PHALA_CONFIDENCE_ADVISORY_ALLOW_LIST: readonly string[] = ["INTEL-SA-00334", "INTEL-SA-00219", "INTEL-SA-00381", "INTEL-SA-00389"];

const list = <T>(c: Codec<T>, what: string) => vec(c, POLICY_LIST_ENTRIES_MAX, what);
const advisory = str(ADVISORY_ID_BYTES_MAX, "advisory id");
const digest48 = (what: string) => fixed(48, what);

const SgxRuleCodec = struct({
  mrEnclave: option(fixed(32, "MRENCLAVE")),
  mrSigner: option(fixed(32, "MRSIGNER")),
  isvProdId: option(u16),
  minIsvSvn: option(u16),
});
const TdxRuleCodec = struct({
  mrTd: digest48("MRTD"),
  rtmr0: option(digest48("RTMR0")),
  rtmr1: option(digest48("RTMR1")),
  rtmr2: option(digest48("RTMR2")),
  rtmr3: option(digest48("RTMR3")),
});
const SnpTcbCodec = struct({ bootloader: u8, tee: u8, snp: u8, microcode: u8, fmc: u8 });

export const PolicyCodec = struct({
  allowDev: bool,
  allowedTees: vec(unitEnum(TEE_TYPES, "TEE type"), TEE_TYPES.length, "allowed TEE types"),
  allowDebug: bool,
  acceptedTcbStatuses: vec(unitEnum(TCB_STATUSES, "TCB status"), TCB_STATUSES.length, "accepted TCB statuses"),
  acceptedAdvisoryIds: option(list(advisory, "accepted advisory ids")),
  confidenceAdvisoryAllowList: list(advisory, "confidence advisory allow-list"),
  dev: struct({ measurements: list(fixed(32, "dev measurement"), "dev measurements"), signers: list(fixed(32, "dev signer"), "dev signers") }),
  sgx: list(SgxRuleCodec, "SGX measurement rules"),
  tdx: list(TdxRuleCodec, "TDX measurement rules"),
  sevSnp: struct({ measurements: list(digest48("SEV-SNP measurement"), "SEV-SNP measurements"), maxVmpl: u8, minTcb: SnpTcbCodec }),
});

export type AttestationPolicy = CodecType<typeof PolicyCodec>;
/** An SGX rule matches when every field it sets matches; it must set MRENCLAVE or MRSIGNER. */
export type SgxMeasurementRule = CodecType<typeof SgxRuleCodec>;
/** A TDX rule pins MRTD and, where set, the RTMRs. */
export type TdxMeasurementRule = CodecType<typeof TdxRuleCodec>;
export type SnpMinimumTcb = CodecType<typeof SnpTcbCodec>;

/** SEV-SNP VMPL the guest may run at; 3 is the least privileged level. */
const VMPL_MAX = 3;

function invalid(message: string): never {
  throw new AttestationError("INVALID_POLICY", message);
}

/** Throws INVALID_POLICY when the policy is inconsistent; encoding checks shapes and bounds. */
export function assertValidPolicy(p: AttestationPolicy): void {
  encode(PolicyCodec, p);
  if (p.allowedTees.includes("dev")) invalid('"dev" is not a hardware TEE; allow dev evidence with allowDev instead');
  if (new Set(p.allowedTees).size !== p.allowedTees.length) invalid("allowedTees lists a TEE twice");
  if (p.sevSnp.maxVmpl > VMPL_MAX) invalid(`sevSnp.maxVmpl must be 0..${VMPL_MAX}`);
  for (const r of p.sgx) if (r.mrEnclave === null && r.mrSigner === null) invalid("an SGX measurement rule must pin MRENCLAVE or MRSIGNER");
}

const VersionedPolicyCodec = struct({ version: u8, policy: PolicyCodec });

export function encodePolicy(policy: AttestationPolicy): Uint8Array {
  assertValidPolicy(policy);
  return encode(VersionedPolicyCodec, { version: POLICY_FORMAT_VERSION, policy });
}

/** Strict decode (exact length, canonical SCALE), then the consistency checks of assertValidPolicy. */
export function decodePolicy(bytes: Uint8Array): AttestationPolicy {
  if (bytes instanceof Uint8Array && bytes.length > 0 && bytes[0] !== POLICY_FORMAT_VERSION) {
    throw new AttestationError("MALFORMED", `attestation policy format version ${bytes[0]} is not supported (expected ${POLICY_FORMAT_VERSION})`);
  }
  const { policy } = decode(VersionedPolicyCodec, bytes, "attestation policy");
  assertValidPolicy(policy);
  return policy;
}

const ZERO_TCB: SnpMinimumTcb = { bootloader: 0, tee: 0, snp: 0, microcode: 0, fmc: 0 };

/**
 * Development chains: dev evidence allowed, every hardware TEE allowed with any
 * measurement, any TCB status and advisory. Debug enclaves stay refused unless
 * `allowDebug` is overridden.
 */
export function devPolicy(overrides: Partial<AttestationPolicy> = {}): AttestationPolicy {
  const p: AttestationPolicy = {
    allowDev: true,
    allowedTees: [...HARDWARE_TEES],
    allowDebug: false,
    acceptedTcbStatuses: [...TCB_STATUSES],
    acceptedAdvisoryIds: null,
    confidenceAdvisoryAllowList: [...PHALA_CONFIDENCE_ADVISORY_ALLOW_LIST],
    dev: { measurements: [], signers: [] },
    sgx: [],
    tdx: [],
    sevSnp: { measurements: [], maxVmpl: 0, minTcb: ZERO_TCB },
    ...overrides,
  };
  assertValidPolicy(p);
  return p;
}

export interface ProductionPolicyOptions {
  readonly sgx?: readonly SgxMeasurementRule[];
  readonly tdx?: readonly TdxMeasurementRule[];
  readonly sevSnp?: { readonly measurements: readonly Uint8Array[]; readonly maxVmpl?: number; readonly minTcb?: SnpMinimumTcb };
  /** Default: the TEE types given measurements above. */
  readonly allowedTees?: readonly HardwareTee[];
  /** Default ["UpToDate"]. */
  readonly acceptedTcbStatuses?: readonly AcceptableTcbStatus[];
  /** Default null (any advisory; the confidence level reflects them). */
  readonly acceptedAdvisoryIds?: readonly string[] | null;
  readonly confidenceAdvisoryAllowList?: readonly string[];
}

/**
 * A policy for chains with real value: no dev evidence, no debug, and every
 * allowed TEE must come with a non-empty measurement allow-list.
 */
export function productionPolicy(o: ProductionPolicyOptions): AttestationPolicy {
  const given: HardwareTee[] = HARDWARE_TEES.filter((t) => (t === "sgx" ? o.sgx : t === "tdx" ? o.tdx : o.sevSnp?.measurements)?.length);
  const allowedTees = [...(o.allowedTees ?? given)];
  if (allowedTees.length === 0) invalid("a production policy must allow at least one TEE type with its measurements");
  for (const t of allowedTees) {
    if (!given.includes(t)) invalid(`a production policy that allows ${t} must list the ${t} measurements it accepts`);
  }
  const p: AttestationPolicy = {
    allowDev: false,
    allowedTees,
    allowDebug: false,
    acceptedTcbStatuses: [...(o.acceptedTcbStatuses ?? ["UpToDate"])],
    acceptedAdvisoryIds: o.acceptedAdvisoryIds === undefined || o.acceptedAdvisoryIds === null ? null : [...o.acceptedAdvisoryIds],
    confidenceAdvisoryAllowList: [...(o.confidenceAdvisoryAllowList ?? PHALA_CONFIDENCE_ADVISORY_ALLOW_LIST)],
    dev: { measurements: [], signers: [] },
    sgx: [...(o.sgx ?? [])],
    tdx: [...(o.tdx ?? [])],
    sevSnp: { measurements: [...(o.sevSnp?.measurements ?? [])], maxVmpl: o.sevSnp?.maxVmpl ?? 0, minTcb: o.sevSnp?.minTcb ?? ZERO_TCB },
  };
  assertValidPolicy(p);
  return p;
}
