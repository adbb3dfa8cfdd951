import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AttestationError } from "./errors.ts";
import { decodeEvidence, encodeEvidence, EVIDENCE_BYTES_MAX, EVIDENCE_FIELD_BYTES_MAX, type Evidence } from "./evidence.ts";

const SEED = 424242;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("golden bytes: enum index then the fields, Vec<u8> length-prefixed, the dev signature fixed", () => {
  const dev: Evidence = { tee: "dev", payload: Uint8Array.of(1, 2), signature: new Uint8Array(64).fill(0xaa) };
  assert.equal(hex(encodeEvidence(dev)), "00" + "080102" + "aa".repeat(64));
  assert.equal(hex(encodeEvidence({ tee: "sgx", quote: Uint8Array.of(9), collateral: new Uint8Array(0) })), "01" + "0409" + "00");
  assert.equal(hex(encodeEvidence({ tee: "tdx", quote: new Uint8Array(0), collateral: Uint8Array.of(7) })), "02" + "00" + "0407");
  assert.equal(hex(encodeEvidence({ tee: "sev-snp", report: Uint8Array.of(1), vcek: Uint8Array.of(2), certChain: Uint8Array.of(3) })), "03" + "0401" + "0402" + "0403");
});

test("every variant round-trips", () => {
  const all: Evidence[] = [
    { tee: "dev", payload: new Uint8Array(128).fill(3), signature: new Uint8Array(64).fill(4) },
    { tee: "sgx", quote: new Uint8Array(4600).fill(5), collateral: new Uint8Array(14000).fill(6) },
    { tee: "tdx", quote: new Uint8Array(5006).fill(7), collateral: new Uint8Array(19000).fill(8) },
    { tee: "sev-snp", report: new Uint8Array(1184).fill(9), vcek: new Uint8Array(1360).fill(10), certChain: new Uint8Array(4602).fill(11) },
  ];
  for (const e of all) assert.deepEqual(decodeEvidence(encodeEvidence(e)), e);
});

test("fields above EVIDENCE_FIELD_BYTES_MAX are refused both ways", () => {
  const big = new Uint8Array(EVIDENCE_FIELD_BYTES_MAX + 1);
  assert.throws(() => encodeEvidence({ tee: "sgx", quote: big, collateral: new Uint8Array(0) }), (e: unknown) => e instanceof AttestationError && /limit of 65536/.test(e.message));
  // A header that claims a large field, without the bytes: refused from the prefix alone.
  const claim = Uint8Array.of(1, 0x06, 0x00, 0x04, 0x00); // compact 65537
  assert.throws(() => decodeEvidence(claim), /limit of 65536/);
  assert.throws(() => decodeEvidence(new Uint8Array(EVIDENCE_BYTES_MAX + 1)), /more than the limit/);
});

test("unknown tags, truncation and trailing bytes are MALFORMED", () => {
  const ok = encodeEvidence({ tee: "sgx", quote: Uint8Array.of(1, 2, 3), collateral: Uint8Array.of(4) });
  for (const bad of [Uint8Array.of(4), ok.subarray(0, ok.length - 1), Uint8Array.of(...ok, 0), new Uint8Array(0)]) {
    assert.throws(() => decodeEvidence(bad), (e: unknown) => e instanceof AttestationError && e.code === "MALFORMED");
  }
});

test("property: random bytes never make decodeEvidence throw anything but AttestationError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      try {
        assert.deepEqual(encodeEvidence(decodeEvidence(b)), b);
      } catch (e) {
        assert.ok(e instanceof AttestationError && e.code === "MALFORMED", String(e));
      }
    }),
    { seed: SEED, numRuns: 5000 },
  );
  // Random bytes behind each valid tag exercise the field decoders rather than the tag check.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 200 }), (tag, rest) => {
      try {
        decodeEvidence(Uint8Array.of(tag, ...rest));
      } catch (e) {
        assert.ok(e instanceof AttestationError, String(e));
      }
    }),
    { seed: SEED, numRuns: 5000 },
  );
});
