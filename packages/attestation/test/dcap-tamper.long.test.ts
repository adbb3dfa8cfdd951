/** Every byte of both DCAP quotes and all of their collateral fields (npm run test:long; a few minutes of CPU). */
import { test } from "node:test";
import { sgxEvidence, T_2025_06_20, tdxEvidence } from "./fixtures.ts";
import { EVERY_BYTE, sweepCollateral, sweepQuote } from "./dcap-tamper.ts";

const show = (codes: Record<string, Map<string, number>>) => JSON.stringify(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, Object.fromEntries(v)])));

for (const [e, signedLength] of [
  [sgxEvidence(), 48 + 384],
  [tdxEvidence(), 48 + 584],
] as const) {
  test(`${e.tee}: every flipped byte of the whole quote is rejected`, (t) => {
    t.diagnostic(show(sweepQuote(e, T_2025_06_20, signedLength, EVERY_BYTE)));
  });
  test(`${e.tee}: every flipped byte of every collateral field is rejected`, (t) => {
    t.diagnostic(show(sweepCollateral(e, T_2025_06_20, EVERY_BYTE)));
  });
}
