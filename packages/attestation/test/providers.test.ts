/**
 * Providers against fake configfs-tsm and Gramine devices: the real provider
 * code path, with the fixtures as what the hardware returns, and the evidence
 * checked by the real verifier.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttestationError, devPolicy, GramineSgxProvider, TsmProvider, verifyEvidence, type AttestationErrorCode } from "../src/index.ts";
import { FakeGramine, FakeTsm } from "./fake-devices.ts";
import { fixture, sgxEvidence, snpEvidence, T_2025_06_20, tdxEvidence } from "./fixtures.ts";

const ROOT = "/sys/kernel/config/tsm/report";
const policy = devPolicy();
const now = T_2025_06_20;

async function rejectsWith(p: Promise<unknown>, code: AttestationErrorCode): Promise<AttestationError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof AttestationError, `expected AttestationError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

const tdx = tdxEvidence();
/** TD report data: last 64 bytes of the 584-byte TD report after the 48-byte header. */
const tdxReportData = tdx.quote.slice(48 + 520, 48 + 584);
const snp = snpEvidence();
const snpReportData = snp.report.slice(0x50, 0x90);

function tdxDevice(opts: { provider?: "tdx_guest" | "sev_guest"; interfere?: (dir: string) => boolean } = {}) {
  return new FakeTsm({
    root: ROOT,
    provider: opts.provider ?? "tdx_guest",
    // The fake TD answers with the fixture quote, which binds the fixture's report data.
    report: () => ({ outblob: tdx.quote }),
    interfere: opts.interfere,
  });
}

test("TDX through configfs-tsm: one entry, inblob written once, generation checked, entry removed, evidence verifies", async () => {
  const fs = tdxDevice();
  const seen: Uint8Array[] = [];
  const provider = new TsmProvider({ tee: "tdx", fs, collateral: async (quote) => (seen.push(quote), tdx.collateral) });
  const evidence = await provider.getEvidence(tdxReportData);
  assert.equal(evidence.tee, "tdx");
  assert.deepEqual(seen, [tdx.quote]);
  assert.equal(fs.entries.size, 0, "the entry was removed");
  assert.deepEqual(fs.log.map((l) => l.split(" ")[0] + (l.startsWith("mkdir") || l.startsWith("rmdir") ? "" : " " + l.split(" ")[1])), ["mkdir", "write inblob", "read outblob", "rmdir"]);
  const v = verifyEvidence(evidence, { policy, now, expectedReportData: tdxReportData });
  assert.equal(v.tcbStatus, "UpToDate");
});

test("configfs-tsm: a concurrent writer (generation moved) makes the provider retry in a fresh entry", async () => {
  let interfered = 0;
  const fs = tdxDevice({ interfere: () => interfered++ === 0 });
  const evidence = await new TsmProvider({ tee: "tdx", fs, collateral: async () => tdx.collateral }).getEvidence(tdxReportData);
  assert.equal(evidence.tee, "tdx");
  assert.equal(fs.created, 2);
  assert.equal(fs.entries.size, 0);

  const always = tdxDevice({ interfere: () => true });
  const err = await rejectsWith(new TsmProvider({ tee: "tdx", fs: always, collateral: async () => tdx.collateral }).getEvidence(tdxReportData), "PROVIDER_FAILED");
  assert.match(err.message, /kept writing/);
  assert.equal(always.created, 3);
  assert.equal(always.entries.size, 0);
});

test("configfs-tsm: wrong TSM, missing configfs, device errors and mismatching report data", async () => {
  const snpMachine = tdxDevice({ provider: "sev_guest" });
  await rejectsWith(new TsmProvider({ tee: "tdx", fs: snpMachine, collateral: async () => tdx.collateral }).getEvidence(tdxReportData), "PROVIDER_UNAVAILABLE");
  assert.equal(snpMachine.entries.size, 0, "the entry is removed on failure too");

  // The real filesystem, at a root that does not exist: a machine without configfs-tsm.
  const missing = join(tmpdir(), `no-tsm-${process.pid}`, "report");
  const err = await rejectsWith(new TsmProvider({ tee: "sev-snp", root: missing }).getEvidence(snpReportData), "PROVIDER_UNAVAILABLE");
  assert.match(err.message, /not a sev-snp guest with configfs-tsm/);

  const broken = tdxDevice();
  broken.outblobError = "EIO";
  await rejectsWith(new TsmProvider({ tee: "tdx", fs: broken, collateral: async () => tdx.collateral }).getEvidence(tdxReportData), "PROVIDER_FAILED");
  assert.equal(broken.entries.size, 0);

  await rejectsWith(new TsmProvider({ tee: "tdx", fs: tdxDevice(), collateral: async () => tdx.collateral }).getEvidence(new Uint8Array(64)), "PROVIDER_FAILED");
  await rejectsWith(new TsmProvider({ tee: "tdx", fs: tdxDevice(), collateral: async () => tdx.collateral }).getEvidence(new Uint8Array(65)), "MALFORMED");
  assert.throws(() => new TsmProvider({ tee: "tdx" }), AttestationError);
  assert.throws(() => new TsmProvider({ tee: "tdx", collateral: async () => tdx.collateral, privlevel: 1 }), AttestationError);
});

// ---- SEV-SNP certificate table (GHCB spec 4.1.8.1) ----

const GUID = { vcek: "63da758d-e664-4564-adc5-f4b93be8accd", ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782", ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae" };

function guidBytes(g: string, mixed: boolean): Uint8Array {
  const b = Uint8Array.from(Buffer.from(g.replace(/-/g, ""), "hex"));
  if (mixed) {
    b.subarray(0, 4).reverse();
    b.subarray(4, 6).reverse();
    b.subarray(6, 8).reverse();
  }
  return b;
}

function pemToDer(pem: string): Uint8Array[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Uint8Array.from(Buffer.from(m[1].replace(/\s/g, ""), "base64")));
}

/** A host-built table: entries, a zero terminator, then the certificates (optionally PEM, optionally zero-padded). */
function certTable(mixedGuids: boolean, asPem: boolean): Uint8Array {
  const [askDer, arkDer] = pemToDer(new TextDecoder().decode(snp.certChain));
  const toBlob = (der: Uint8Array) =>
    asPem ? new TextEncoder().encode(`-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`) : Uint8Array.from([...der, 0, 0, 0]);
  const certs: [string, Uint8Array][] = [
    [GUID.ark, toBlob(arkDer)],
    [GUID.vcek, toBlob(snp.vcek)],
    [GUID.ask, toBlob(askDer)],
  ];
  const header = 24 * (certs.length + 1);
  const total = header + certs.reduce((n, [, c]) => n + c.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let offset = header;
  certs.forEach(([g, c], i) => {
    out.set(guidBytes(g, mixedGuids), i * 24);
    dv.setUint32(i * 24 + 16, offset, true);
    dv.setUint32(i * 24 + 20, c.length, true);
    out.set(c, offset);
    offset += c.length;
  });
  return out;
}

function snpDevice(auxblob: Uint8Array) {
  return new FakeTsm({ root: ROOT, provider: "sev_guest", report: () => ({ outblob: snp.report, auxblob }) });
}

test("SEV-SNP through configfs-tsm: VCEK/ASK/ARK from the auxblob cert table (both GUID byte orders, DER or PEM) verify", async () => {
  for (const [mixed, pem] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const fs = snpDevice(certTable(mixed, pem));
    const evidence = await new TsmProvider({ tee: "sev-snp", fs }).getEvidence(snpReportData);
    assert.equal(evidence.tee, "sev-snp");
    if (evidence.tee !== "sev-snp") return;
    assert.deepEqual(evidence.vcek, snp.vcek);
    const v = verifyEvidence(evidence, { policy, now, expectedReportData: snpReportData });
    assert.equal(v.tee, "sev-snp");
    assert.equal(fs.entries.size, 0);
  }
});

test("SEV-SNP: privlevel is written before inblob and counted in the generation check; certs option when the host attaches none", async () => {
  const fs = snpDevice(new Uint8Array(0));
  const evidence = await new TsmProvider({ tee: "sev-snp", fs, privlevel: 0, certs: { vcek: snp.vcek, certChain: snp.certChain } }).getEvidence(snpReportData);
  assert.deepEqual(
    fs.log.filter((l) => l.startsWith("write")),
    ["write privlevel", "write inblob"],
  );
  assert.equal(verifyEvidence(evidence, { policy, now }).tee, "sev-snp");
  const err = await rejectsWith(new TsmProvider({ tee: "sev-snp", fs: snpDevice(new Uint8Array(0)) }).getEvidence(snpReportData), "PROVIDER_FAILED");
  assert.match(err.message, /kdsintf\.amd\.com/);
  await rejectsWith(new TsmProvider({ tee: "sev-snp", fs: snpDevice(Uint8Array.of(1, 2, 3)) }).getEvidence(snpReportData), "MALFORMED");
});

// ---- Gramine ----

const sgx = sgxEvidence();
const sgxReportData = sgx.quote.slice(48 + 320, 48 + 384);
const GRAMINE = "/dev/attestation";

test("Gramine SGX: user_report_data then quote; evidence verifies; requests are serialized", async () => {
  const fs = new FakeGramine(GRAMINE, "dcap", () => sgx.quote);
  const provider = new GramineSgxProvider({ fs, collateral: async () => sgx.collateral });
  const [a, b] = await Promise.all([provider.getEvidence(sgxReportData), provider.getEvidence(sgxReportData)]);
  assert.deepEqual(fs.log, ["write user_report_data", "read quote", "write user_report_data", "read quote"]);
  for (const e of [a, b]) assert.equal(verifyEvidence(e, { policy, now, expectedReportData: sgxReportData }).tcbStatus, "ConfigurationAndSWHardeningNeeded");
});

test("Gramine: no /dev/attestation, attestation type not dcap, quote for other data", async () => {
  const missing = join(tmpdir(), `no-gramine-${process.pid}`);
  await rejectsWith(new GramineSgxProvider({ root: missing, collateral: async () => sgx.collateral }).getEvidence(sgxReportData), "PROVIDER_UNAVAILABLE");
  const err = await rejectsWith(new GramineSgxProvider({ fs: new FakeGramine(GRAMINE, "none", () => sgx.quote), collateral: async () => sgx.collateral }).getEvidence(sgxReportData), "PROVIDER_UNAVAILABLE");
  assert.match(err.message, /sgx\.remote_attestation = "dcap"/);
  await rejectsWith(new GramineSgxProvider({ fs: new FakeGramine(GRAMINE, "dcap", () => sgx.quote), collateral: async () => sgx.collateral }).getEvidence(new Uint8Array(64)), "PROVIDER_FAILED");
  await rejectsWith(new GramineSgxProvider({ fs: new FakeGramine(GRAMINE, "dcap", () => fixture("dcap/tdx_quote")), collateral: async () => sgx.collateral }).getEvidence(sgxReportData), "PROVIDER_FAILED");
});
