import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AttestationError } from "./errors.ts";
import { HARDWARE_TEES, type Evidence } from "./evidence.ts";
import { devPolicy } from "./policy.ts";
import { checkTcb, verifyEvidence, type Verified } from "./verify.ts";

const SEED = 5150;

function snpVerified(vmpl: number, tcb = { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 0 }): Verified {
  return {
    tee: "sev-snp",
    reportData: new Uint8Array(64),
    measurement: { tee: "dev", measurement: new Uint8Array(32), signer: new Uint8Array(32) },
    tcbStatus: "MinimumTcbMet",
    advisoryIds: [],
    debug: false,
    snp: { vmpl, reportedTcb: tcb },
  };
}

test("SEV-SNP VMPL above the policy maximum is ATTRIBUTES_REJECTED", () => {
  const p = devPolicy();
  checkTcb(snpVerified(0), p);
  assert.throws(() => checkTcb(snpVerified(1), p), (e: unknown) => e instanceof AttestationError && e.code === "ATTRIBUTES_REJECTED");
  checkTcb(snpVerified(2), { ...p, sevSnp: { ...p.sevSnp, maxVmpl: 2 } });
});

test("SEV-SNP minimum TCB compares every component, fmc included", () => {
  const p = devPolicy();
  const min = { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 1 };
  assert.throws(() => checkTcb(snpVerified(0), { ...p, sevSnp: { ...p.sevSnp, minTcb: min } }), (e: unknown) => e instanceof AttestationError && e.code === "TCB_REJECTED");
  checkTcb(snpVerified(0, { ...min, microcode: 200 }), { ...p, sevSnp: { ...p.sevSnp, minTcb: min } });
});

test("property: verifyEvidence on random evidence throws AttestationError and nothing else", () => {
  const blob = fc.uint8Array({ maxLength: 1400 });
  const evidence: fc.Arbitrary<Evidence> = fc.oneof(
    fc.record({ tee: fc.constant("dev" as const), payload: fc.uint8Array({ minLength: 0, maxLength: 200 }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
    fc.record({ tee: fc.constantFrom("sgx" as const, "tdx" as const), quote: blob, collateral: blob }),
    fc.record({ tee: fc.constant("sev-snp" as const), report: fc.oneof(blob, fc.uint8Array({ minLength: 1184, maxLength: 1184 })), vcek: blob, certChain: blob }),
  );
  fc.assert(
    fc.property(evidence, fc.integer({ min: 0, max: 2 ** 40 }), (e, now) => {
      try {
        verifyEvidence(e, { policy: devPolicy({ allowedTees: [...HARDWARE_TEES] }), now });
        assert.fail("random evidence verified");
      } catch (err) {
        assert.ok(err instanceof AttestationError, String(err));
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
});
