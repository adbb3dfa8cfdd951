import { test } from "node:test";
import { T_2025_06_20, tdxEvidence } from "./fixtures.ts";
import { QUICK, sweepCollateral, sweepQuote } from "./dcap-tamper.ts";

/** Quote v4: 48-byte header + 584-byte TD report 1.0. */
export const TDX_SIGNED_LENGTH = 48 + 584;

const show = (codes: Record<string, Map<string, number>>) => JSON.stringify(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, Object.fromEntries(v)])));

test(`TDX quote: every flipped byte of header and TD report, 1 in ${QUICK.authData} of the auth data and padding, is rejected`, (t) => {
  t.diagnostic(show(sweepQuote(tdxEvidence(), T_2025_06_20, TDX_SIGNED_LENGTH, QUICK)));
});

test(`TDX collateral: every flipped signature byte, 1 in ${QUICK.signedJson} of tcb_info/qe_identity, 1 in ${QUICK.crlsAndChains} of CRLs and chains, is rejected`, (t) => {
  t.diagnostic(show(sweepCollateral(tdxEvidence(), T_2025_06_20, QUICK)));
});
