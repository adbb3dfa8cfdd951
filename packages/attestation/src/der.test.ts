import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { derToPem, formatUnix, parseDer, pemBlocks, strictPemCertificates, TAG, timeToUnix } from "./der.ts";
import { AttestationError } from "./errors.ts";

const SEED = 777;

function timeNode(tag: number, s: string) {
  const v = new TextEncoder().encode(s);
  return parseDer(Uint8Array.of(tag, v.length, ...v), "time");
}

test("UTCTime and GeneralizedTime agree with Date.UTC, without using Date", () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1950, 0, 1) / 1000, max: Date.UTC(2049, 11, 31) / 1000 }), (secs) => {
      const d = new Date(secs * 1000);
      const p = (n: number, w = 2) => String(n).padStart(w, "0");
      const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
      assert.equal(timeToUnix(timeNode(TAG.UTC_TIME, p(d.getUTCFullYear() % 100) + body), "t"), secs);
      assert.equal(timeToUnix(timeNode(TAG.GENERALIZED_TIME, p(d.getUTCFullYear(), 4) + body), "t"), secs);
      assert.equal(formatUnix(secs), d.toISOString().replace(/\.\d{3}Z$/, "Z"));
    }),
    { seed: SEED, numRuns: 500 },
  );
  assert.throws(() => timeToUnix(timeNode(TAG.UTC_TIME, "250101000000+0100"), "t"), AttestationError);
});

test("DER lengths must be definite, minimal and inside the buffer", () => {
  assert.equal(parseDer(Uint8Array.of(0x04, 0x01, 0xff), "x").end, 3);
  for (const bad of [
    [0x04, 0x81, 0x01, 0xff], // long form for a short length
    [0x04, 0x80], // indefinite
    [0x04, 0x82, 0x00, 0x80, ...new Array(128).fill(0)], // leading zero length byte
    [0x04, 0x02, 0xff], // runs past the end
    [0x04, 0x01, 0xff, 0x00], // trailing byte
    [0x1f, 0x01, 0x00], // multi-byte tag
  ]) {
    assert.throws(() => parseDer(Uint8Array.from(bad), "x"), (e: unknown) => e instanceof AttestationError && e.code === "MALFORMED", JSON.stringify(bad));
  }
});

test("PEM: canonical base64 only, and strict mode refuses any text outside the blocks", () => {
  const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05);
  const pem = derToPem(der, "CERTIFICATE");
  assert.deepEqual(pemBlocks(pem, "CERTIFICATE", "p"), [der]);
  assert.deepEqual(strictPemCertificates(pem + pem, "p"), [der, der]);
  assert.deepEqual(strictPemCertificates(pem + "\0", "p", true), [der]);
  assert.throws(() => strictPemCertificates(pem + "x", "p"), /outside its PEM/);
  assert.throws(() => strictPemCertificates(pem + "\0", "p"), /outside its PEM/);
  // "MAMCAQU=" and "MAMCAQV=" decode to the same bytes in Node; only the canonical one passes.
  assert.throws(() => pemBlocks(pem.replace("MAMCAQU=", "MAMCAQV="), "CERTIFICATE", "p"), /not canonical/);
});
