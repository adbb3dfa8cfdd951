/**
 * Confidence levels as Phala assigns them (1 best .. 5, dev 128).
 *
 * Source: Phala-Network/phala-blockchain, pallets/phala/src/utils/attestation.rs
 * (`validate_dcap`) with the status lists of pallets/phala/src/utils/constants.rs:
 *   SGX_QUOTE_STATUS_LEVEL_1 = UpToDate
 *   SGX_QUOTE_STATUS_LEVEL_2 = SWHardeningNeeded
 *   SGX_QUOTE_STATUS_LEVEL_3 = ConfigurationNeeded, ConfigurationAndSWHardeningNeeded
 *   level 4 = level 3 with an advisory outside SGX_QUOTE_ADVISORY_ID_WHITELIST
 *   SGX_QUOTE_STATUS_LEVEL_5 = OutOfDate, OutOfDateConfigurationNeeded
 *   no attestation (opt-out) = 128
 * Only level 3 looks at advisories there; levels 1, 2 and 5 do not.
 *
 * TDX gets the same mapping: its TCB statuses come from the same Intel TCB
 * info scheme. SEV-SNP has no vendor status; a report that verifies and meets
 * the policy's minimum TCB is level 1.
 */
import type { TeeType } from "./evidence.ts";

export const DEV_CONFIDENCE_LEVEL = 128;

export function confidenceLevel(tee: TeeType, tcbStatus: string, advisoryIds: readonly string[], advisoryAllowList: readonly string[]): number {
  if (tee === "dev") return DEV_CONFIDENCE_LEVEL;
  if (tee === "sev-snp") return 1;
  switch (tcbStatus) {
    case "UpToDate":
      return 1;
    case "SWHardeningNeeded":
      return 2;
    case "ConfigurationNeeded":
    case "ConfigurationAndSWHardeningNeeded":
      return advisoryIds.every((a) => advisoryAllowList.includes(a)) ? 3 : 4;
    case "OutOfDate":
    case "OutOfDateConfigurationNeeded":
      return 5;
    default:
      // dcap-qvl refuses every other status before we get here.
      throw new Error(`unreachable: TCB status ${tcbStatus} passed verification`);
  }
}
