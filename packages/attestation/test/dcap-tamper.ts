/**
 * Shared single-byte tamper sweep for a DCAP quote and its collateral. Every
 * byte of the quote's signed region (header + report body) and of the
 * collateral signatures is flipped. In the default run the rest is swept at a
 * stride (Strides): the quote's unsigned auth data (signature, QE report, PCK
 * chain), the signed JSON (tcb_info, qe_identity), and the CRLs and issuer
 * chains, because a DCAP verification that gets far costs 2-10 ms of CPU and
 * the package's whole test run must stay well under a minute on 2 shared
 * cores. The long run (dcap-tamper.long.test.ts) flips every byte of all of it.
 */
import assert from "node:assert/strict";
import { devPolicy, verifyEvidence, type Evidence } from "../src/index.ts";
import { assertEveryFlipRejected } from "./fixtures.ts";

export interface Strides {
  readonly authData: number;
  readonly signedJson: number;
  readonly crlsAndChains: number;
}
/** The default run; dcap-tamper.long.test.ts sweeps every byte (npm run test:long). */
export const QUICK: Strides = { authData: 7, signedJson: 5, crlsAndChains: 11 };
export const EVERY_BYTE: Strides = { authData: 1, signedJson: 1, crlsAndChains: 1 };

/** [start, end) of the JSON string value of `key` inside the collateral text (escapes included). */
export function jsonStringRange(text: string, key: string): [number, number] {
  const m = new RegExp(`"${key}"\\s*:\\s*"`).exec(text);
  assert.ok(m !== null, `collateral has ${key}`);
  const from = m.index + m[0].length;
  let i = from;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return [from, i];
}

export function sweepQuote(e: Extract<Evidence, { tee: "sgx" | "tdx" }>, now: number, signedLength: number, strides: Strides): Record<string, Map<string, number>> {
  const policy = devPolicy();
  const verify = (quote: Uint8Array) => verifyEvidence({ ...e, quote }, { policy, now });
  assert.equal(verifyEvidence(e, { policy, now }).tee, e.tee, "the untouched evidence verifies");
  return {
    signed: assertEveryFlipRejected(e.quote, 0, signedLength, 1, verify, `${e.tee} quote signed region`),
    authData: assertEveryFlipRejected(e.quote, signedLength, e.quote.length, strides.authData, verify, `${e.tee} quote auth data`),
  };
}

export function sweepCollateral(e: Extract<Evidence, { tee: "sgx" | "tdx" }>, now: number, strides: Strides): Record<string, Map<string, number>> {
  const policy = devPolicy();
  const verify = (collateral: Uint8Array) => verifyEvidence({ ...e, collateral }, { policy, now });
  // ASCII JSON: string offsets are byte offsets.
  const text = new TextDecoder().decode(e.collateral);
  assert.equal(new TextEncoder().encode(text).length, e.collateral.length);
  const out: Record<string, Map<string, number>> = {};
  for (const key of ["tcb_info_signature", "qe_identity_signature"]) {
    const [a, b] = jsonStringRange(text, key);
    out[key] = assertEveryFlipRejected(e.collateral, a, b, 1, verify, `collateral ${key}`);
  }
  for (const key of ["tcb_info", "qe_identity"]) {
    const [a, b] = jsonStringRange(text, key);
    out[key] = assertEveryFlipRejected(e.collateral, a, b, strides.signedJson, verify, `collateral ${key}`);
  }
  for (const key of ["root_ca_crl", "pck_crl", "tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain"]) {
    const [a, b] = jsonStringRange(text, key);
    out[key] = assertEveryFlipRejected(e.collateral, a, b, strides.crlsAndChains, verify, `collateral ${key}`);
  }
  return out;
}
