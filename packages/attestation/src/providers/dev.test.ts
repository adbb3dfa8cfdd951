import { test } from "node:test";
import assert from "node:assert/strict";
import { keyPairFromSeed } from "@phala-ts/primitives";
import { AttestationError, type AttestationErrorCode } from "../errors.ts";
import { decodeEvidence, encodeEvidence } from "../evidence.ts";
import { devPolicy, productionPolicy } from "../policy.ts";
import { verifyEvidence } from "../verify.ts";
import { DevProvider } from "./dev.ts";

const seed = new Uint8Array(32).fill(1);
const measurement = new Uint8Array(32).fill(0x42);
const reportData = new Uint8Array(64).map((_, i) => i);

function rejects(fn: () => unknown, code: AttestationErrorCode | AttestationErrorCode[]) {
  const codes = typeof code === "string" ? [code] : code;
  assert.throws(fn, (e: unknown) => e instanceof AttestationError && codes.includes(e.code), `expected ${codes.join("|")}`);
}

test("dev evidence verifies under a dev policy with confidence 128", async () => {
  const e = await new DevProvider({ signingKey: seed, measurement }).getEvidence(reportData);
  const v = verifyEvidence(decodeEvidence(encodeEvidence(e)), { policy: devPolicy(), now: 0, expectedReportData: reportData });
  assert.equal(v.tee, "dev");
  assert.equal(v.confidenceLevel, 128);
  assert.deepEqual(v.reportData, reportData);
  assert.equal(v.measurement.tee, "dev");
  assert.deepEqual(v.measurement.tee === "dev" && v.measurement.measurement, measurement);
});

test("a seed and the equivalent ed25519 KeyPair give the same evidence", async () => {
  const a = await new DevProvider({ signingKey: seed, measurement }).getEvidence(reportData);
  const b = await new DevProvider({ signingKey: keyPairFromSeed(seed, "ed25519"), measurement }).getEvidence(reportData);
  assert.deepEqual(a, b);
  assert.throws(() => new DevProvider({ signingKey: keyPairFromSeed(seed, "sr25519"), measurement }), AttestationError);
});

test("the signature is domain-separated: signing the bare payload does not verify", async () => {
  const e = await new DevProvider({ signingKey: seed, measurement }).getEvidence(reportData);
  assert.equal(e.tee, "dev");
  if (e.tee !== "dev") return;
  const bare = keyPairFromSeed(seed, "ed25519").sign(e.payload);
  rejects(() => verifyEvidence({ ...e, signature: bare }, { policy: devPolicy(), now: 0 }), "SIGNATURE");
});

test("every flipped byte of the payload or signature is rejected", async () => {
  const e = await new DevProvider({ signingKey: seed, measurement }).getEvidence(reportData);
  if (e.tee !== "dev") throw new Error("unreachable");
  for (let i = 0; i < e.payload.length; i++) {
    const payload = Uint8Array.from(e.payload);
    payload[i] ^= 1;
    rejects(() => verifyEvidence({ ...e, payload }, { policy: devPolicy(), now: 0 }), ["SIGNATURE", "MALFORMED"]);
  }
  for (let i = 0; i < 64; i++) {
    const signature = Uint8Array.from(e.signature);
    signature[i] ^= 1;
    rejects(() => verifyEvidence({ ...e, signature }, { policy: devPolicy(), now: 0 }), "SIGNATURE");
  }
  rejects(() => verifyEvidence({ ...e, payload: e.payload.subarray(1) }, { policy: devPolicy(), now: 0 }), "MALFORMED");
});

test("policy: dev refused where not allowed, measurement and signer allow-lists, report data", async () => {
  const e = await new DevProvider({ signingKey: seed, measurement }).getEvidence(reportData);
  const prod = productionPolicy({ sevSnp: { measurements: [new Uint8Array(48)] } });
  rejects(() => verifyEvidence(e, { policy: prod, now: 0 }), "DEV_NOT_ALLOWED");
  rejects(() => verifyEvidence(e, { policy: devPolicy({ allowDev: false }), now: 0 }), "DEV_NOT_ALLOWED");
  const other = new Uint8Array(32).fill(9);
  rejects(() => verifyEvidence(e, { policy: devPolicy({ dev: { measurements: [other], signers: [] } }), now: 0 }), "MEASUREMENT_NOT_ALLOWED");
  rejects(() => verifyEvidence(e, { policy: devPolicy({ dev: { measurements: [], signers: [other] } }), now: 0 }), "MEASUREMENT_NOT_ALLOWED");
  const signer = keyPairFromSeed(seed, "ed25519").publicKey;
  assert.equal(verifyEvidence(e, { policy: devPolicy({ dev: { measurements: [other, measurement], signers: [signer] } }), now: 0 }).tee, "dev");
  const wrong = Uint8Array.from(reportData);
  wrong[63] ^= 1;
  rejects(() => verifyEvidence(e, { policy: devPolicy(), now: 0, expectedReportData: wrong }), "REPORT_DATA_MISMATCH");
  rejects(() => verifyEvidence(e, { policy: devPolicy(), now: 0, expectedReportData: new Uint8Array(32) }), "MALFORMED");
  rejects(() => verifyEvidence(e, { policy: devPolicy(), now: -1 }), "MALFORMED");
  rejects(() => verifyEvidence(e, { policy: devPolicy(), now: 1.5 }), "MALFORMED");
});

test("bad provider input is an AttestationError", async () => {
  await assert.rejects(new DevProvider({ signingKey: seed, measurement }).getEvidence(new Uint8Array(63)), AttestationError);
  assert.throws(() => new DevProvider({ signingKey: seed, measurement: new Uint8Array(31) }), AttestationError);
  assert.throws(() => new DevProvider({ signingKey: new Uint8Array(31), measurement }), AttestationError);
});
