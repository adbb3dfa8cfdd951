/** @phala-ts/attestation: providers produce evidence, verifiers check it under a policy. */
export * from "./common.ts";
export { verifyEvidence, type Verdict, type VerifyOptions, type Measurement, type DevMeasurement } from "./verify.ts";
export type { SgxMeasurement, TdxMeasurement } from "./dcap/verify.ts";
export type { SnpMeasurement } from "./snp/verify.ts";
export type { SnpTcb, SnpCertTable } from "./snp/certs.ts";
export { parseSnpCertTable } from "./snp/certs.ts";
export type { SnpProduct } from "./snp/roots.ts";
export { encodeDcapCollateral } from "./dcap/collateral.ts";
export { measurePruntimeBuild, MEASURE_FILES_MAX, MEASURE_FILE_BYTES_MAX } from "./measure.ts";
export type { AttestationProvider } from "./providers/provider.ts";
export { nodeProviderFs, type ProviderFs } from "./providers/fs.ts";
export { DevProvider, type DevProviderOptions } from "./providers/dev.ts";
export { TsmProvider, TSM_REPORT_ROOT, TSM_ATTEMPTS_MAX, type TsmProviderOptions } from "./providers/tsm.ts";
export { GramineSgxProvider, GRAMINE_ATTESTATION_ROOT, type GramineSgxProviderOptions } from "./providers/gramine.ts";
