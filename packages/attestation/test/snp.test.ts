/** AMD SEV-SNP fixtures (test/fixtures/README.md) and SNP policy checks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { devPolicy, productionPolicy, verifyEvidence, type Evidence } from "../src/index.ts";
import { assertEveryFlipRejected, fixture, flipped, rejects, snpEvidence, T_2025_06_20 } from "./fixtures.ts";

const now = T_2025_06_20;
const policy = devPolicy();
const debugPolicy = devPolicy({ allowDebug: true });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("virtee Milan report verifies with its VCEK and the ASK/ARK chain", () => {
  const v = verifyEvidence(snpEvidence(), { policy, now });
  assert.equal(v.tee, "sev-snp");
  assert.equal(v.debug, false);
  assert.equal(v.confidenceLevel, 1);
  assert.equal(v.tcbStatus, "MinimumTcbMet");
  assert.equal(v.measurement.tee, "sev-snp");
  if (v.measurement.tee !== "sev-snp") return;
  assert.equal(v.measurement.product, "Milan");
  assert.equal(hex(v.measurement.measurement), "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f");
  assert.equal(hex(v.reportData.subarray(0, 4)), "d447b55d");
  assert.deepEqual(v.measurement.reportedTcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 0 });
  assert.equal(v.measurement.policy, 0x30000n);
});

test("go-sev-guest debug report: DEBUG_ENCLAVE by default; with debug allowed its signature verifies via the pinned Milan ARK", () => {
  rejects(() => verifyEvidence(snpEvidence("gosevguest"), { policy, now }), "DEBUG_ENCLAVE");
  rejects(() => verifyEvidence(snpEvidence("gosevguest"), { policy: productionPolicy({ sevSnp: { measurements: [new Uint8Array(48)] } }), now }), "DEBUG_ENCLAVE");
  const v = verifyEvidence(snpEvidence("gosevguest"), { policy: debugPolicy, now });
  assert.equal(v.debug, true);
  assert.equal(v.measurement.tee === "sev-snp" && v.measurement.policy, 0xb0000n);
  // Its signature is genuinely checked: a flipped report_data byte fails even with debug allowed.
  const e = snpEvidence("gosevguest");
  rejects(() => verifyEvidence({ ...e, report: flipped(e.report, 0x50) }, { policy: debugPolicy, now }), "SIGNATURE");
});

test("every flipped byte of the report (signed part, R, S, reserved), the VCEK DER and the PEM chain is rejected", (t) => {
  const e = snpEvidence();
  const codes = {
    report: assertEveryFlipRejected(e.report, 0, e.report.length, 1, (report) => verifyEvidence({ ...e, report }, { policy: debugPolicy, now }), "report"),
    vcek: assertEveryFlipRejected(e.vcek, 0, e.vcek.length, 1, (vcek) => verifyEvidence({ ...e, vcek }, { policy: debugPolicy, now }), "VCEK"),
    chain: assertEveryFlipRejected(e.certChain, 0, e.certChain.length, 1, (certChain) => verifyEvidence({ ...e, certChain }, { policy: debugPolicy, now }), "chain"),
  };
  t.diagnostic(JSON.stringify(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, Object.fromEntries(v)]))));
});

test("chains that do not end at a pinned ARK, another chip's VCEK, and expired certificates are rejected", () => {
  const e = snpEvidence();
  rejects(() => verifyEvidence({ ...e, certChain: fixture("sev-snp/ask_ark_genoa.pem") }, { policy, now }), "CERT_CHAIN");
  const turinChain = fixture("sev-snp/ask_ark_turin_vcek.pem");
  rejects(() => verifyEvidence({ ...e, certChain: turinChain }, { policy, now }), "CERT_CHAIN");
  // Only the ASK: no pinned ARK.
  const text = new TextDecoder().decode(e.certChain);
  const askOnly = text.slice(0, text.indexOf("-----END CERTIFICATE-----") + 26);
  rejects(() => verifyEvidence({ ...e, certChain: new TextEncoder().encode(askOnly) }, { policy, now }), "MALFORMED");
  // The go-sev-guest VCEK is a valid Milan VCEK, but for another chip and TCB.
  rejects(() => verifyEvidence({ ...e, vcek: fixture("sev-snp/gosevguest_vcek_milan.der") }, { policy, now }), "SIGNATURE");
  // VCEK valid 2023-04-03 .. 2030-04-03.
  rejects(() => verifyEvidence(e, { policy, now: 1893456000 /* 2030-01-01 */ + 365 * 86400 }), "CERT_CHAIN");
  rejects(() => verifyEvidence(e, { policy, now: 1672531200 /* 2023-01-01 */ }), "CERT_CHAIN");
  rejects(() => verifyEvidence({ ...e, report: e.report.subarray(1) }, { policy, now }), "MALFORMED");
});

test("SNP policy: VMPL, minimum TCB, measurement allow-list, TEE allow-list, report data", () => {
  const e = snpEvidence();
  const measurement = Uint8Array.from(Buffer.from("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f", "hex"));
  const tcb = { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 0 };
  const prod = productionPolicy({ sevSnp: { measurements: [measurement], minTcb: tcb } });
  assert.equal(verifyEvidence(e, { policy: prod, now }).confidenceLevel, 1);
  rejects(() => verifyEvidence(e, { policy: { ...prod, sevSnp: { ...prod.sevSnp, minTcb: { ...tcb, microcode: 116 } } }, now }), "TCB_REJECTED");
  rejects(() => verifyEvidence(e, { policy: { ...prod, sevSnp: { ...prod.sevSnp, minTcb: { ...tcb, snp: 9 } } }, now }), "TCB_REJECTED");
  rejects(() => verifyEvidence(e, { policy: { ...prod, sevSnp: { ...prod.sevSnp, measurements: [new Uint8Array(48)] } }, now }), "MEASUREMENT_NOT_ALLOWED");
  rejects(() => verifyEvidence(e, { policy: productionPolicy({ tdx: [{ mrTd: new Uint8Array(48), rtmr0: null, rtmr1: null, rtmr2: null, rtmr3: null }] }), now }), "TEE_NOT_ALLOWED");
  const rd = verifyEvidence(e, { policy: prod, now }).reportData;
  assert.equal(verifyEvidence(e, { policy: prod, now, expectedReportData: rd }).tee, "sev-snp");
  rejects(() => verifyEvidence(e, { policy: prod, now, expectedReportData: flipped(rd, 10) }), "REPORT_DATA_MISMATCH");
  // The fixtures are VMPL 0 and VMPL is signed: a report edited to claim VMPL 1 fails its signature.
  // (The maxVmpl comparison itself is unit-tested in src/verify.test.ts.)
  const vmpl1: Evidence = { ...e, report: withVmpl(e.report, 1) };
  rejects(() => verifyEvidence(vmpl1, { policy: { ...prod, sevSnp: { ...prod.sevSnp, maxVmpl: 3 } }, now }), "SIGNATURE");
});

function withVmpl(report: Uint8Array, vmpl: number): Uint8Array {
  const r = Uint8Array.from(report);
  new DataView(r.buffer).setUint32(0x30, vmpl, true);
  return r;
}
