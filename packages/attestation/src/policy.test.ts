import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AttestationError } from "./errors.ts";
import { decodePolicy, devPolicy, encodePolicy, productionPolicy, type AttestationPolicy } from "./policy.ts";

const SEED = 99;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const code = (c: string) => (e: unknown) => e instanceof AttestationError && e.code === c;

test("golden bytes of devPolicy(): the state a dev chain stores", () => {
  const advisories = ["INTEL-SA-00334", "INTEL-SA-00219", "INTEL-SA-00381", "INTEL-SA-00389"].map((a) => "38" + Buffer.from(a).toString("hex")).join("");
  assert.equal(
    hex(encodePolicy(devPolicy())),
    [
      "01", // format version
      "01", // allow_dev
      "0c010203", // allowed_tees: sgx, tdx, sev-snp
      "00", // allow_debug
      "18000102030405", // accepted_tcb_statuses: all six
      "00", // accepted_advisory_ids: None
      "10" + advisories, // confidence allow-list
      "0000", // dev measurements, signers
      "00", // sgx rules
      "00", // tdx rules
      "00" + "00" + "0000000000", // sev-snp measurements, max_vmpl, min_tcb
    ].join(""),
  );
});

const b = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function fullPolicy(): AttestationPolicy {
  return {
    ...productionPolicy({
      sgx: [{ mrEnclave: b(32, 1), mrSigner: null, isvProdId: null, minIsvSvn: null }, { mrEnclave: null, mrSigner: b(32, 2), isvProdId: 7, minIsvSvn: 3 }],
      tdx: [{ mrTd: b(48, 3), rtmr0: b(48, 4), rtmr1: null, rtmr2: null, rtmr3: b(48, 5) }],
      sevSnp: { measurements: [b(48, 6)], maxVmpl: 1, minTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 0 } },
      acceptedTcbStatuses: ["UpToDate", "SWHardeningNeeded"],
      acceptedAdvisoryIds: ["INTEL-SA-00615"],
    }),
  };
}

test("policies round-trip, and decoding is strict", () => {
  for (const p of [devPolicy(), fullPolicy(), devPolicy({ dev: { measurements: [b(32, 9)], signers: [b(32, 8)] }, allowDebug: true })]) {
    const bytes = encodePolicy(p);
    assert.deepEqual(decodePolicy(bytes), p);
    assert.throws(() => decodePolicy(Uint8Array.of(...bytes, 0)), code("MALFORMED"));
    assert.throws(() => decodePolicy(bytes.subarray(0, bytes.length - 1)), code("MALFORMED"));
  }
  const bytes = encodePolicy(devPolicy());
  assert.throws(() => decodePolicy(Uint8Array.of(2, ...bytes.subarray(1))), /format version 2/);
});

test("property: random bytes decode to a valid policy or fail with AttestationError", () => {
  const base = encodePolicy(fullPolicy());
  fc.assert(
    fc.property(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const m = Uint8Array.from(base);
      m[i] ^= x;
      try {
        const p = decodePolicy(m);
        assert.deepEqual(encodePolicy(p), m, "whatever decodes re-encodes to the same bytes");
      } catch (e) {
        assert.ok(e instanceof AttestationError, String(e));
      }
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test("inconsistent policies are refused with INVALID_POLICY", () => {
  assert.throws(() => devPolicy({ allowedTees: ["dev"] }), code("INVALID_POLICY"));
  assert.throws(() => devPolicy({ allowedTees: ["sgx", "sgx"] }), code("INVALID_POLICY"));
  assert.throws(() => devPolicy({ sgx: [{ mrEnclave: null, mrSigner: null, isvProdId: 1, minIsvSvn: null }] }), code("INVALID_POLICY"));
  assert.throws(() => devPolicy({ sevSnp: { measurements: [], maxVmpl: 4, minTcb: { bootloader: 0, tee: 0, snp: 0, microcode: 0, fmc: 0 } } }), code("INVALID_POLICY"));
});

test("productionPolicy: no dev, no debug, UpToDate only, and measurements required for every allowed TEE", () => {
  const p = productionPolicy({ tdx: [{ mrTd: b(48, 1), rtmr0: null, rtmr1: null, rtmr2: null, rtmr3: null }] });
  assert.equal(p.allowDev, false);
  assert.equal(p.allowDebug, false);
  assert.deepEqual(p.allowedTees, ["tdx"]);
  assert.deepEqual(p.acceptedTcbStatuses, ["UpToDate"]);
  assert.throws(() => productionPolicy({}), code("INVALID_POLICY"));
  assert.throws(() => productionPolicy({ allowedTees: ["sgx", "tdx"], tdx: p.tdx }), /must list the sgx measurements/);
});
