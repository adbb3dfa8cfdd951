import { test } from "node:test";
import assert from "node:assert/strict";
import { TypeRegistry as PjsRegistry } from "@polkadot/types";
import { fromHex, toHex } from "@phala-ts/primitives";
import { decodeExact, encode, eraBirth, eraDeath, mortalEra, ScaleDecodeError } from "./index.ts";
import {
  AccountId32, AccountInfo, ChargeTransactionPayment, CheckMortality, CheckNonce, DispatchError, DispatchInfo, Era,
  FeeDetails, MultiAddress, MultiSignature, Phase, RuntimeDispatchInfo, RuntimeVersion, Weight, eventRecord, H256,
} from "./std.ts";

const pjs = new PjsRegistry();
const alice = fromHex("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");

test("AccountInfo golden bytes; polkadot-js decodes the same numbers", () => {
  const v = { nonce: 7, consumers: 1, providers: 1, sufficients: 0, data: { free: 1_000_000_000_000n, reserved: 2n, frozen: 3n, flags: 1n << 127n } };
  const bytes = encode(AccountInfo, v);
  assert.equal(
    toHex(bytes),
    "0x07000000" + "01000000" + "01000000" + "00000000" +
      "0010a5d4e8000000" + "0000000000000000" + "02" + "00".repeat(15) + "03" + "00".repeat(15) + "00".repeat(15) + "80",
  );
  const j = pjs.createType("AccountInfo", bytes).toJSON() as { nonce: number; data: { free: number; reserved: number } };
  assert.equal(j.nonce, 7);
  assert.equal(j.data.free, 1_000_000_000_000);
  assert.deepEqual(decodeExact(AccountInfo, bytes), v);
});

test("Era: Substrate's Era::mortal(64, 42) is [0xa5, 0x02]; agrees with polkadot-js ExtrinsicEra", () => {
  assert.deepEqual(encode(Era, mortalEra(64, 42)), Uint8Array.of(5 + (42 % 16) * 16, 42 >> 4));
  assert.deepEqual(encode(Era, { kind: "immortal" }), Uint8Array.of(0));
  const cases: [number, number][] = [[64, 5], [4, 0], [4, 3], [1, 100], [100, 1000], [4096, 5000], [8192, 8191], [65536, 1234567], [1 << 20, 99]];
  for (const [period, current] of cases) {
    const era = mortalEra(period, current);
    const ours = encode(Era, era);
    assert.equal(toHex(ours), pjs.createType("ExtrinsicEra", { current, period }).toHex(), `period ${period} current ${current}`);
    assert.deepEqual(decodeExact(Era, ours), era);
  }
  // Every two-byte value decodes as Substrate does (or is rejected where Substrate rejects).
  for (let first = 1; first < 256; first++) {
    for (let second = 0; second < 256; second += 17) {
      const bytes = Uint8Array.of(first, second);
      const encoded = first | (second << 8);
      const period = 2 << (encoded % 16);
      const phase = (encoded >> 4) * Math.max(period >> 12, 1);
      if (period >= 4 && phase < period) assert.deepEqual(decodeExact(Era, bytes), { kind: "mortal", period, phase });
      else assert.throws(() => decodeExact(Era, bytes), ScaleDecodeError);
    }
  }
  const era = mortalEra(64, 42);
  assert.equal(eraBirth(era, 50), 42);
  assert.equal(eraDeath(era, 50), 106);
  assert.equal(decodeExact(CheckMortality, Uint8Array.of(0)).kind, "immortal");
});

test("MultiAddress::Id, MultiSignature, DispatchError::Module golden bytes", () => {
  assert.equal(toHex(encode(MultiAddress, { tag: "Id", value: alice })), "0x00" + toHex(alice).slice(2));
  assert.equal(pjs.createType("MultiAddress", encode(MultiAddress, { tag: "Id", value: alice })).toHex(), "0x00" + toHex(alice).slice(2));
  assert.equal(toHex(encode(MultiAddress, { tag: "Address20", value: new Uint8Array(20).fill(1) })), "0x04" + "01".repeat(20));
  const sig = new Uint8Array(64).fill(0xab);
  assert.equal(toHex(encode(MultiSignature, { tag: "Sr25519", value: sig })), "0x01" + "ab".repeat(64));
  assert.equal(encode(MultiSignature, { tag: "Ecdsa", value: new Uint8Array(65) }).length, 66);
  const moduleErr = encode(DispatchError, { tag: "Module", value: { index: 5, error: Uint8Array.of(2, 0, 0, 0) } });
  assert.equal(toHex(moduleErr), "0x030502000000");
  assert.deepEqual(pjs.createType("DispatchError", moduleErr).toJSON(), { module: { index: 5, error: "0x02000000" } });
  assert.equal(toHex(encode(DispatchError, { tag: "Token", value: { tag: "FundsUnavailable" } })), "0x0700");
  assert.equal(toHex(encode(DispatchError, { tag: "Arithmetic", value: { tag: "Overflow" } })), "0x0801");
  assert.equal(toHex(encode(DispatchError, { tag: "RootNotAllowed" })), "0x0d");
  assert.equal(toHex(encode(DispatchError, { tag: "Trie", value: { tag: "RootMismatch" } })), "0x0e0c");
});

test("Weight, DispatchInfo, RuntimeDispatchInfo, FeeDetails, extension payloads", () => {
  const w = { ref_time: 1_000_000n, proof_size: 0n };
  assert.equal(toHex(encode(Weight, w)), "0x02093d0000");
  const info = encode(DispatchInfo, { weight: w, class: { tag: "Operational" }, pays_fee: { tag: "No" } });
  assert.equal(toHex(info), "0x02093d00000101");
  const rdi = encode(RuntimeDispatchInfo, { weight: w, class: { tag: "Normal" }, partial_fee: 5n });
  const j = pjs.createType("RuntimeDispatchInfo", rdi).toJSON() as { weight: { refTime: number }; partialFee: number };
  assert.equal(j.weight.refTime, 1_000_000);
  assert.equal(j.partialFee, 5);
  assert.equal(toHex(encode(FeeDetails, { inclusion_fee: undefined })), "0x00");
  assert.equal(toHex(encode(CheckNonce, 5)), "0x14");
  assert.equal(toHex(encode(ChargeTransactionPayment, 0n)), "0x00");
});

test("Phase and EventRecord", () => {
  const Ev = eventRecord(Phase); // any event type will do for the shape
  assert.equal(eventRecord(Phase), Ev, "memoized per event type");
  const bytes = encode(Ev, { phase: { tag: "ApplyExtrinsic", value: 1 }, event: { tag: "Finalization" }, topics: [new Uint8Array(32)] });
  assert.equal(toHex(bytes), "0x000100000001" + "04" + "00".repeat(32));
  assert.equal(toHex(encode(H256, new Uint8Array(32))), "0x" + "00".repeat(32));
  assert.equal(AccountId32.info.path.join("::"), "sp_core::crypto::AccountId32");
});

test("RuntimeVersion bytes decode in polkadot-js", () => {
  const v = {
    spec_name: "phala", impl_name: "phala-ts", authoring_version: 1, spec_version: 1300, impl_version: 0,
    apis: [[fromHex("0xdf6acb689907609b"), 5] as [Uint8Array, number]], transaction_version: 7, system_version: 1,
  };
  const bytes = encode(RuntimeVersion, v);
  const j = pjs.createType("RuntimeVersion", bytes).toJSON() as Record<string, unknown>;
  assert.equal(j.specName, "phala");
  assert.equal(j.specVersion, 1300);
  assert.equal(j.transactionVersion, 7);
  assert.equal(j.stateVersion, 1);
  assert.deepEqual(j.apis, [["0xdf6acb689907609b", 5]]);
  assert.deepEqual(decodeExact(RuntimeVersion, bytes), v);
});
