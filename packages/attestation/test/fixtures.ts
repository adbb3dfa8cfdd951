/** Loads the fixtures described in test/fixtures/README.md, at the times it gives. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { AttestationError, type AttestationErrorCode, type Evidence } from "../src/index.ts";

const dir = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(dir + name));

/** 2025-06-20: SGX and TDX collateral valid. */
export const T_2025_06_20 = 1750377600;
/** 2025-09-03: tdx_quote_near collateral valid. */
export const T_2025_09_03 = 1756857600;
/** 2026-02-19: tdx_quote_outdated collateral valid. */
export const T_2026_02_19 = 1771459200;
/** 2026-11-18: long after every collateral expired. */
export const T_TODAY = 1795000000;

export function sgxEvidence(): Extract<Evidence, { tee: "sgx" }> {
  return { tee: "sgx", quote: fixture("dcap/sgx_quote"), collateral: fixture("dcap/sgx_quote_collateral.json") };
}

export function tdxEvidence(which: "tdx_quote" | "tdx_quote_near" | "tdx_quote_outdated" | "dstack" = "tdx_quote"): Extract<Evidence, { tee: "tdx" }> {
  if (which === "tdx_quote_near") {
    const hex = new TextDecoder().decode(fixture("dcap/tdx_quote_near.hex")).trim();
    return { tee: "tdx", quote: new Uint8Array(Buffer.from(hex, "hex")), collateral: fixture("dcap/tdx_quote_near_collateral.json") };
  }
  if (which === "dstack") return { tee: "tdx", quote: fixture("dcap/dstack_simulator_quote.bin"), collateral: fixture("dcap/tdx_quote_collateral.json") };
  return { tee: "tdx", quote: fixture(`dcap/${which}`), collateral: fixture(`dcap/${which}_collateral.json`) };
}

export function snpEvidence(which: "virtee" | "gosevguest" = "virtee"): Extract<Evidence, { tee: "sev-snp" }> {
  if (which === "virtee") {
    return { tee: "sev-snp", report: fixture("sev-snp/virtee_report_milan.bin"), vcek: fixture("sev-snp/virtee_vcek_milan.der"), certChain: fixture("sev-snp/virtee_cert_chain_milan") };
  }
  return { tee: "sev-snp", report: fixture("sev-snp/gosevguest_report_milan_debug.bin"), vcek: fixture("sev-snp/gosevguest_vcek_milan.der"), certChain: fixture("sev-snp/ask_ark_milan.pem") };
}

/** Runs `fn` and asserts it throws an AttestationError, with `code` if given. */
export function rejects(fn: () => unknown, code?: AttestationErrorCode | readonly AttestationErrorCode[], note = ""): AttestationError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected a rejection ${note}`);
  assert.ok(thrown instanceof AttestationError, `expected AttestationError ${note}, got ${String(thrown)}`);
  if (code !== undefined) {
    const codes = typeof code === "string" ? [code] : code;
    assert.ok(codes.includes(thrown.code), `expected ${codes.join("|")} ${note}, got ${thrown.code}: ${thrown.message}`);
  }
  return thrown;
}

export function flipped(bytes: Uint8Array, i: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[i] ^= mask;
  return out;
}

/**
 * Flips bytes [from, to) at `stride` and asserts every result is rejected by
 * `verify`; returns the codes seen, to show what caught them.
 */
export function assertEveryFlipRejected(bytes: Uint8Array, from: number, to: number, stride: number, verify: (b: Uint8Array) => unknown, what: string): Map<string, number> {
  const codes = new Map<string, number>();
  for (let i = from; i < to; i += stride) {
    const e = rejects(() => verify(flipped(bytes, i)), undefined, `${what}: byte ${i} flipped`);
    codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
  }
  return codes;
}
