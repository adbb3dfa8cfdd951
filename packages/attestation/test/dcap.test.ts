/**
 * Intel DCAP fixtures (test/fixtures/README.md): each accepted or rejected
 * exactly as the README says, at the times it gives, plus the policy checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { devPolicy, encodeDcapCollateral, productionPolicy, verifyEvidence, type AttestationPolicy, type Evidence } from "../src/index.ts";
import { flipped, rejects, sgxEvidence, T_2025_06_20, T_2025_09_03, T_2026_02_19, T_TODAY, tdxEvidence } from "./fixtures.ts";

const ALL_STATUSES = devPolicy();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("sgx_quote at 2025-06-20: accepted, ConfigurationAndSWHardeningNeeded, INTEL-SA-00289/00615, 'Hello, world!'", () => {
  const v = verifyEvidence(sgxEvidence(), { policy: ALL_STATUSES, now: T_2025_06_20 });
  assert.equal(v.tee, "sgx");
  assert.equal(v.tcbStatus, "ConfigurationAndSWHardeningNeeded");
  assert.deepEqual([...v.advisoryIds].sort(), ["INTEL-SA-00289", "INTEL-SA-00615"]);
  const hello = new TextEncoder().encode("Hello, world!");
  assert.deepEqual(v.reportData.subarray(0, hello.length), hello);
  assert.ok(v.reportData.subarray(hello.length).every((b) => b === 0));
  assert.equal(v.debug, false);
  // Level 3 statuses with advisories outside Phala's whitelist are level 4.
  assert.equal(v.confidenceLevel, 4);
  assert.equal(v.measurement.tee, "sgx");
  if (v.measurement.tee === "sgx") {
    assert.equal(v.measurement.mrEnclave.length, 32);
    assert.equal(v.measurement.mrSigner.length, 32);
    assert.equal(v.measurement.attributes.length, 16);
  }
});

test("tdx_quote at 2025-06-20 and tdx_quote_near at 2025-09-03: accepted, UpToDate, confidence 1", () => {
  for (const [e, now] of [[tdxEvidence(), T_2025_06_20], [tdxEvidence("tdx_quote_near"), T_2025_09_03]] as const) {
    const v = verifyEvidence(e, { policy: productionPolicy({ tdx: [{ mrTd: mrTdOf(e, now), rtmr0: null, rtmr1: null, rtmr2: null, rtmr3: null }] }), now });
    assert.equal(v.tee, "tdx");
    assert.equal(v.tcbStatus, "UpToDate");
    assert.deepEqual(v.advisoryIds, []);
    assert.equal(v.confidenceLevel, 1);
    assert.equal(v.debug, false);
    if (v.measurement.tee === "tdx") for (const k of ["mrTd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const) assert.equal(v.measurement[k].length, 48);
  }
});

function mrTdOf(e: Evidence, now: number): Uint8Array {
  const m = verifyEvidence(e, { policy: ALL_STATUSES, now }).measurement;
  assert.equal(m.tee, "tdx");
  return m.tee === "tdx" ? m.mrTd : new Uint8Array(48);
}

test("tdx_quote_outdated at 2026-02-19: no matching TCB level -> TCB_REJECTED", () => {
  const e = rejects(() => verifyEvidence(tdxEvidence("tdx_quote_outdated"), { policy: ALL_STATUSES, now: T_2026_02_19 }), "TCB_REJECTED");
  assert.match(e.message, /No matching TCB level/);
});

test("every quote at today's date: COLLATERAL_EXPIRED, with a message that says to fetch fresh collateral", () => {
  for (const e of [sgxEvidence(), tdxEvidence(), tdxEvidence("tdx_quote_near"), tdxEvidence("tdx_quote_outdated")]) {
    const err = rejects(() => verifyEvidence(e, { policy: ALL_STATUSES, now: T_TODAY }), "COLLATERAL_EXPIRED");
    assert.match(err.message, /fetch fresh collateral from PCCS/);
  }
  // Before the collateral was issued is just as unacceptable.
  rejects(() => verifyEvidence(sgxEvidence(), { policy: ALL_STATUSES, now: 1700000000 }), ["COLLATERAL_EXPIRED", "CERT_CHAIN"]);
});

test("dstack simulator quote parses (its TCB matches no level) and any report_data byte change breaks the signature", () => {
  const e = tdxEvidence("dstack");
  rejects(() => verifyEvidence(e, { policy: ALL_STATUSES, now: T_2025_06_20 }), "TCB_REJECTED");
  // TD report body starts after the 48-byte header; report_data is its last 64 bytes (offset 48 + 520).
  const reportDataOffset = 48 + 520;
  for (let i = reportDataOffset; i < reportDataOffset + 64; i++) {
    rejects(() => verifyEvidence({ ...e, quote: flipped(e.quote, i) }, { policy: ALL_STATUSES, now: T_2025_06_20 }), "SIGNATURE", `report_data byte ${i - reportDataOffset}`);
  }
});

test("the TEE tag must match the quote, and collateral must be for the same TEE and platform", () => {
  const s = sgxEvidence();
  const t = tdxEvidence();
  rejects(() => verifyEvidence({ tee: "tdx", quote: s.quote, collateral: s.collateral }, { policy: ALL_STATUSES, now: T_2025_06_20 }), "MALFORMED");
  rejects(() => verifyEvidence({ tee: "sgx", quote: s.quote, collateral: t.collateral }, { policy: ALL_STATUSES, now: T_2025_06_20 }), ["COLLATERAL_MISMATCH", "CERT_CHAIN"]);
});

function withCollateral<E extends Extract<Evidence, { tee: "sgx" | "tdx" }>>(e: E, edit: (c: Record<string, unknown>) => void): E {
  const c = JSON.parse(text(e.collateral)) as Record<string, unknown>;
  edit(c);
  return { ...e, collateral: encodeDcapCollateral(c) };
}

test("CRLs must be Intel's, current, and for the CA that issued the PCK certificate", () => {
  const s = sgxEvidence();
  const t = tdxEvidence();
  const tc = JSON.parse(text(t.collateral)) as Record<string, unknown>;
  // The SGX quote's PCK comes from the Processor CA; the TDX collateral carries the Platform CA's CRL.
  const swapped = withCollateral(s, (c) => {
    c.pck_crl = tc.pck_crl;
    c.pck_crl_issuer_chain = tc.pck_crl_issuer_chain;
  });
  rejects(() => verifyEvidence(swapped, { policy: ALL_STATUSES, now: T_2025_06_20 }), "COLLATERAL_MISMATCH");
  // A CRL signed by someone else: the root CRL where the PCK CRL belongs.
  const sc = JSON.parse(text(s.collateral)) as Record<string, unknown>;
  rejects(() => verifyEvidence(withCollateral(s, (c) => (c.pck_crl = sc.root_ca_crl)), { policy: ALL_STATUSES, now: T_2025_06_20 }), "COLLATERAL_MISMATCH");
  // A CRL past its nextUpdate while the TCB info is still current: the 2025-09 TDX collateral's CRL is fresh,
  // but the 2025-06 one expired on 2025-07-19, before the near quote's TCB info was issued.
  const near = tdxEvidence("tdx_quote_near");
  const stale = withCollateral(near, (c) => (c.pck_crl = tc.pck_crl));
  rejects(() => verifyEvidence(stale, { policy: ALL_STATUSES, now: T_2025_09_03 }), "COLLATERAL_EXPIRED");
  // Byte arrays (what dcap-qvl's getCollateral returns) are accepted and normalized to hex.
  const asArrays = withCollateral(s, (c) => {
    for (const k of ["root_ca_crl", "pck_crl", "tcb_info_signature", "qe_identity_signature"]) c[k] = [...Buffer.from(c[k] as string, "hex")];
  });
  assert.equal(hex(asArrays.collateral), hex(encodeDcapCollateral(sc)));
  assert.equal(verifyEvidence(asArrays, { policy: ALL_STATUSES, now: T_2025_06_20 }).tee, "sgx");
});

test("policy: TEE not allowed, TCB status not accepted, advisory not accepted, measurement not allowed, report data", () => {
  const s = sgxEvidence();
  const now = T_2025_06_20;
  const sgxMeasurement = verifyEvidence(s, { policy: ALL_STATUSES, now }).measurement;
  assert.equal(sgxMeasurement.tee, "sgx");
  if (sgxMeasurement.tee !== "sgx") return;
  const rule = { mrEnclave: sgxMeasurement.mrEnclave, mrSigner: null, isvProdId: null, minIsvSvn: null };
  const accepting: AttestationPolicy = productionPolicy({ sgx: [rule], acceptedTcbStatuses: ["ConfigurationAndSWHardeningNeeded"] });
  assert.equal(verifyEvidence(s, { policy: accepting, now }).confidenceLevel, 4);

  rejects(() => verifyEvidence(s, { policy: { ...accepting, allowedTees: ["tdx"] }, now }), "TEE_NOT_ALLOWED");
  rejects(() => verifyEvidence(s, { policy: productionPolicy({ sgx: [rule] }), now }), "TCB_REJECTED");
  const err = rejects(() => verifyEvidence(s, { policy: { ...accepting, acceptedAdvisoryIds: ["INTEL-SA-00289"] }, now }), "TCB_REJECTED");
  assert.match(err.message, /INTEL-SA-00615/);
  assert.equal(verifyEvidence(s, { policy: { ...accepting, acceptedAdvisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"] }, now }).tee, "sgx");

  const otherEnclave = { ...rule, mrEnclave: new Uint8Array(32).fill(1) };
  rejects(() => verifyEvidence(s, { policy: { ...accepting, sgx: [otherEnclave] }, now }), "MEASUREMENT_NOT_ALLOWED");
  const bySigner = { mrEnclave: null, mrSigner: sgxMeasurement.mrSigner, isvProdId: sgxMeasurement.isvProdId, minIsvSvn: sgxMeasurement.isvSvn };
  assert.equal(verifyEvidence(s, { policy: { ...accepting, sgx: [otherEnclave, bySigner] }, now }).tee, "sgx");
  rejects(() => verifyEvidence(s, { policy: { ...accepting, sgx: [{ ...bySigner, minIsvSvn: sgxMeasurement.isvSvn + 1 }] }, now }), "MEASUREMENT_NOT_ALLOWED");
  rejects(() => verifyEvidence(s, { policy: { ...accepting, sgx: [{ ...bySigner, isvProdId: sgxMeasurement.isvProdId + 1 }] }, now }), "MEASUREMENT_NOT_ALLOWED");

  const t = tdxEvidence();
  const mrTd = mrTdOf(t, now);
  const tdxPolicy = (rtmr3: Uint8Array | null) => productionPolicy({ tdx: [{ mrTd, rtmr0: null, rtmr1: null, rtmr2: null, rtmr3 }] });
  rejects(() => verifyEvidence(t, { policy: tdxPolicy(new Uint8Array(48).fill(7)), now }), "MEASUREMENT_NOT_ALLOWED");
  rejects(() => verifyEvidence(t, { policy: productionPolicy({ tdx: [{ mrTd: new Uint8Array(48), rtmr0: null, rtmr1: null, rtmr2: null, rtmr3: null }] }), now }), "MEASUREMENT_NOT_ALLOWED");

  const expected = verifyEvidence(t, { policy: tdxPolicy(null), now }).reportData;
  assert.equal(verifyEvidence(t, { policy: tdxPolicy(null), now, expectedReportData: expected }).tee, "tdx");
  rejects(() => verifyEvidence(t, { policy: tdxPolicy(null), now, expectedReportData: flipped(expected, 0) }), "REPORT_DATA_MISMATCH");
});
