import { test } from "node:test";
import assert from "node:assert/strict";
import { confidenceLevel, DEV_CONFIDENCE_LEVEL } from "./confidence.ts";
import { PHALA_CONFIDENCE_ADVISORY_ALLOW_LIST as ALLOW } from "./policy.ts";

test("Phala's mapping: status -> level, advisories only demote level 3 to 4", () => {
  const cases: [string, string[], number][] = [
    ["UpToDate", [], 1],
    ["UpToDate", ["INTEL-SA-00615"], 1],
    ["SWHardeningNeeded", ["INTEL-SA-00615"], 2],
    ["ConfigurationNeeded", [], 3],
    ["ConfigurationNeeded", ["INTEL-SA-00334", "INTEL-SA-00219"], 3],
    ["ConfigurationAndSWHardeningNeeded", ["INTEL-SA-00381"], 3],
    ["ConfigurationAndSWHardeningNeeded", ["INTEL-SA-00289", "INTEL-SA-00615"], 4],
    ["ConfigurationNeeded", ["INTEL-SA-00334", "INTEL-SA-00615"], 4],
    ["OutOfDate", [], 5],
    ["OutOfDateConfigurationNeeded", ["INTEL-SA-00334"], 5],
  ];
  for (const tee of ["sgx", "tdx"] as const) {
    for (const [status, adv, level] of cases) assert.equal(confidenceLevel(tee, status, adv, ALLOW), level, `${tee} ${status} ${adv.join(",")}`);
  }
  assert.equal(confidenceLevel("dev", "Unverified", [], ALLOW), DEV_CONFIDENCE_LEVEL);
  assert.equal(DEV_CONFIDENCE_LEVEL, 128);
  assert.equal(confidenceLevel("sev-snp", "MinimumTcbMet", [], ALLOW), 1);
});

test("the allow-list is Phala's SGX_QUOTE_ADVISORY_ID_WHITELIST", () => {
  assert.deepEqual([...ALLOW], ["INTEL-SA-00334", "INTEL-SA-00219", "INTEL-SA-00381", "INTEL-SA-00389"]);
});
