/**
 * Seeded mutation fuzzing of real evidence: several random byte edits,
 * truncations or extensions of one field. Whatever comes out, the verifier
 * answers with an AttestationError (never another exception), and nothing but
 * a no-op edit verifies. A failure prints fast-check's seed and path; rerun with
 * them to replay it exactly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AttestationError, decodeEvidence, devPolicy, encodeEvidence, verifyEvidence, type Evidence } from "../src/index.ts";
import { sgxEvidence, snpEvidence, T_2025_06_20, tdxEvidence } from "./fixtures.ts";

const SEED = 31337;
const policy = devPolicy({ allowDebug: true });
const samples: Evidence[] = [sgxEvidence(), tdxEvidence(), snpEvidence(), snpEvidence("gosevguest")];

type Edit = { kind: "xor"; at: number[]; mask: number[] } | { kind: "truncate"; keep: number } | { kind: "extend"; bytes: Uint8Array };

function apply(bytes: Uint8Array, edit: Edit): Uint8Array {
  if (edit.kind === "truncate") return bytes.slice(0, Math.floor(edit.keep * bytes.length));
  if (edit.kind === "extend") return Uint8Array.from([...bytes, ...edit.bytes]);
  const out = Uint8Array.from(bytes);
  edit.at.forEach((a, i) => (out[Math.floor(a * out.length)] ^= edit.mask[i]));
  return out;
}

const stripZeros = (b: Uint8Array) => {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return Buffer.from(b.subarray(0, n)).toString("hex");
};

const withoutLineBreaks = (b: Uint8Array) => new TextDecoder().decode(b).replace(/[\r\n]/g, "");

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.integer({ min: 1, max: 8 }).chain((n) =>
    fc.record({ kind: fc.constant("xor" as const), at: fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: n, maxLength: n }), mask: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: n, maxLength: n }) }),
  ),
  fc.record({ kind: fc.constant("truncate" as const), keep: fc.double({ min: 0, max: 0.999999, noNaN: true }) }),
  fc.record({ kind: fc.constant("extend" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

test("property: mutated real evidence is rejected with AttestationError only", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: samples.length - 1 }), fc.nat(), editArb, (s, f, edit) => {
      const original = samples[s];
      const fields = Object.keys(original).filter((k) => k !== "tee");
      const field = fields[f % fields.length];
      const before = (original as unknown as Record<string, Uint8Array>)[field];
      const after = apply(before, edit);
      const mutated = { ...original, [field]: after } as unknown as Evidence;
      try {
        verifyEvidence(mutated, { policy, now: T_2025_06_20 });
      } catch (e) {
        assert.ok(e instanceof AttestationError, `${original.tee}.${String(field)}: ${String(e)}`);
        return;
      }
      // Only meaning-free edits may verify: zero padding after a TDX quote, line breaks around PEM blocks.
      const noOp =
        (original.tee === "tdx" && field === "quote" && stripZeros(after) === stripZeros(before)) ||
        (field === "certChain" && withoutLineBreaks(after) === withoutLineBreaks(before));
      assert.ok(noOp, `${original.tee}.${field} verified after ${edit.kind}`);
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test("property: encoded evidence with random bytes changed decodes or fails with AttestationError", () => {
  const encoded = samples.map(encodeEvidence);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: encoded.length - 1 }), editArb, (s, edit) => {
      try {
        decodeEvidence(apply(encoded[s], edit));
      } catch (e) {
        assert.ok(e instanceof AttestationError, String(e));
      }
    }),
    { seed: SEED, numRuns: 2000 },
  );
});
