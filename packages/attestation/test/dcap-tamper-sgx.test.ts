import { test } from "node:test";
import { sgxEvidence, T_2025_06_20 } from "./fixtures.ts";
import { QUICK, sweepCollateral, sweepQuote } from "./dcap-tamper.ts";

/** Quote v3: 48-byte header + 384-byte enclave report. */
export const SGX_SIGNED_LENGTH = 48 + 384;

const show = (codes: Record<string, Map<string, number>>) => JSON.stringify(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, Object.fromEntries(v)])));

test(`SGX quote: every flipped byte of header and report body, 1 in ${QUICK.authData} of the auth data, is rejected`, (t) => {
  t.diagnostic(show(sweepQuote(sgxEvidence(), T_2025_06_20, SGX_SIGNED_LENGTH, QUICK)));
});

test(`SGX collateral: every flipped signature byte, 1 in ${QUICK.signedJson} of tcb_info/qe_identity, 1 in ${QUICK.crlsAndChains} of CRLs and chains, is rejected`, (t) => {
  t.diagnostic(show(sweepCollateral(sgxEvidence(), T_2025_06_20, QUICK)));
});
