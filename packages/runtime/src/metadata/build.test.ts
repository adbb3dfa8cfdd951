import { test } from "node:test";
import assert from "node:assert/strict";
import { AccountId as PapiAccountId, decAnyMetadata, metadata as metadataCodec, unifyMetadata, v14Lookup } from "@polkadot-api/substrate-bindings";
import { Metadata, TypeRegistry as PjsRegistry } from "@polkadot/types";
import { blake2b128, concatBytes, toHex, twox128 } from "@phala-ts/primitives";
// polkadot-api@2's own builders (the hoisted copy is an older major).
import { getDynamicBuilder, getLookupFn } from "../../../../node_modules/polkadot-api/node_modules/@polkadot-api/metadata-builders/dist/index.js";
import { T, encode, type Type } from "../types/index.ts";
import { AccountId32, AccountInfo, MultiAddress, RuntimeVersion } from "../types/std.ts";
import { buildMetadata } from "./build.ts";
import { TypeRegistry } from "./registry.ts";
import { EventRecord, RuntimeCall, Runtime, VERSION, sampleRuntime } from "./sample-runtime.fixture.ts";

const alice = new Uint8Array(32).fill(1);
const bob = new Uint8Array(32).fill(2);
const transfer = { tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: bob }, value: 12345n } } } as const;
const sudoTransfer = { tag: "Sudo", value: { tag: "sudo", value: { call: transfer } } } as const;
const accountInfo = { nonce: 3, consumers: 0, providers: 1, sufficients: 0, data: { free: 10n ** 15n, reserved: 1n, frozen: 2n, flags: 1n << 127n } };

function pjsRegistry(bytes: Uint8Array): PjsRegistry {
  const registry = new PjsRegistry();
  const m = new Metadata(registry, bytes);
  registry.setMetadata(m);
  return registry;
}

test("TypeRegistry: identity ids, depth-first, cycle-safe through lazy", () => {
  const reg = new TypeRegistry();
  const callId = reg.id(RuntimeCall);
  assert.equal(callId, 0);
  assert.equal(reg.id(RuntimeCall), 0);
  const lookup = reg.lookup();
  // RuntimeCall -> SystemCall (1) -> ... ; the Sudo call's `call` field points back at id 0.
  const sudoCall = lookup.find((e) => e.path.join("::") === "pallet_sudo::pallet::Call")!;
  assert.ok(sudoCall.def.tag === "variant");
  const field = sudoCall.def.value.find((v) => v.name === "sudo")!.fields[0];
  assert.equal(field.type, 0);
  assert.equal(lookup[1].path.join("::"), "frame_system::pallet::Call");
  lookup.forEach((e, i) => assert.equal(e.id, i));
  // Deterministic: a fresh registry numbers the same way.
  const again = new TypeRegistry();
  again.id(RuntimeCall);
  assert.deepEqual(again.lookup(), lookup);
  // Round-trips through substrate-bindings' lookup codec.
  assert.deepEqual(v14Lookup.dec(v14Lookup.enc(lookup)), lookup);
});

for (const version of [14, 15] as const) {
  test(`v${version}: substrate-bindings decodes and re-encodes identically`, () => {
    const bytes = buildMetadata(sampleRuntime, version);
    assert.equal(toHex(bytes.subarray(0, 5)), `0x6d657461${version.toString(16).padStart(2, "0")}`);
    const decoded = metadataCodec.dec(bytes);
    assert.equal(decoded.metadata.tag, `v${version}`);
    assert.deepEqual(metadataCodec.enc(decoded), bytes);
    assert.deepEqual(decAnyMetadata(bytes), decoded);
    const unified = unifyMetadata(decoded);
    assert.deepEqual(unified.pallets.map((p) => [p.name, p.index]), [["System", 0], ["Balances", 10], ["Sudo", 20]]);
    assert.deepEqual(buildMetadata(sampleRuntime, version), bytes, "deterministic");
    if (decoded.metadata.tag === "v14") {
      const m = decoded.metadata.value;
      const ext = m.lookup[m.extrinsic.type];
      assert.equal(ext.path.join("::"), "sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic");
      assert.deepEqual(ext.params.map((p) => p.name), ["Address", "Call", "Signature", "Extra"]);
    }
  });

  test(`v${version}: polkadot-js decodes calls, events, storage and signature types`, () => {
    const registry = pjsRegistry(buildMetadata(sampleRuntime, version));
    const callBytes = encode(RuntimeCall, sudoTransfer);
    const call = registry.createType("Call", callBytes);
    assert.equal(call.section, "sudo");
    assert.equal(call.method, "sudo");
    const inner = call.args[0] as unknown as { section: string; method: string; args: { toString(): string }[] };
    assert.equal(inner.section, "balances");
    assert.equal(inner.method, "transferKeepAlive");
    assert.equal(inner.args[1].toString(), "12345");
    assert.equal(registry.findMetaCall(Uint8Array.of(10, 3)).method, "transferKeepAlive");
    assert.deepEqual(call.toU8a(), callBytes);

    const records = [
      { phase: { tag: "ApplyExtrinsic", value: 1 }, event: { tag: "Balances", value: { tag: "Transfer", value: { from: alice, to: bob, amount: 5n } } }, topics: [] },
      { phase: { tag: "Finalization" }, event: { tag: "Sudo", value: { tag: "Sudid", value: { sudo_result: { tag: "Err", value: { tag: "BadOrigin" } } } } }, topics: [] },
    ] as const;
    const eventsBytes = encode(T.vec(EventRecord), records as never);
    interface PjsEvent { section: string; method: string }
    type PjsRecords = { phase: { asApplyExtrinsic: { toNumber(): number } }; event: PjsEvent }[] & { toU8a(): Uint8Array };
    const events = registry.createType("Vec<EventRecord>", eventsBytes) as unknown as PjsRecords;
    assert.equal(events.length, 2);
    assert.equal(events[0].phase.asApplyExtrinsic.toNumber(), 1);
    assert.equal(events[0].event.section, "balances");
    assert.equal(events[0].event.method, "Transfer");
    assert.equal(events[1].event.method, "Sudid");
    assert.deepEqual(events.toU8a(), eventsBytes);

    const info = registry.createType("AccountInfo", encode(AccountInfo, accountInfo)).toJSON() as { nonce: number; data: { free: number } };
    assert.equal(info.nonce, 3);
    assert.equal(registry.createType("Address", encode(MultiAddress, { tag: "Id", value: alice })).toHex(), "0x00" + "01".repeat(32));
    const sig = registry.createType("ExtrinsicSignature", Uint8Array.of(1, ...new Uint8Array(64).fill(7)));
    assert.equal((sig as unknown as { isSr25519: boolean }).isSr25519, true);
    assert.deepEqual(registry.signedExtensions, sampleRuntime.extrinsic.signedExtensions.map((e) => e.identifier));

    const decorated = registry.metadata;
    assert.equal(decorated.pallets.length, 3);
    // A signed extrinsic built by polkadot-js carries our call.
    const xt = registry.createType("Extrinsic", { method: call });
    assert.deepEqual(xt.method.toU8a(), callBytes);
  });

  test(`v${version}: polkadot-api builds System.Account and decodes our AccountInfo`, () => {
    const bytes = buildMetadata(sampleRuntime, version);
    const lookup = getLookupFn(unifyMetadata(decAnyMetadata(bytes)) as never);
    const builder = getDynamicBuilder(lookup);
    const account = builder.buildStorage("System", "Account");
    const key = account.keys.enc(toSs58(alice));
    assert.equal(key, toHex(concatBytes(twox128(new TextEncoder().encode("System")), twox128(new TextEncoder().encode("Account")), blake2b128(alice), alice)));
    const value = account.value.dec(encode(AccountInfo, accountInfo)) as { nonce: number; data: { free: bigint; flags: bigint } };
    assert.equal(value.nonce, 3);
    assert.equal(value.data.free, 10n ** 15n);
    assert.equal(value.data.flags, 1n << 127n);

    const call = builder.buildCall("Balances", "transfer_keep_alive");
    assert.deepEqual(call.location, [10, 3]);
    const pair = builder.buildStorage("System", "Pair");
    assert.equal(pair.keys.enc(7, toSs58(alice)).length, 2 + 2 * (16 + 16 + 8 + 4 + 16 + 32));
    const ev = builder.buildEvent("Balances", "Transfer");
    assert.deepEqual(ev.location, [10, 2]);
    if (version === 15) {
      const version = builder.buildRuntimeCall("Core", "version").value.dec(encode(RuntimeVersion, VERSION)) as { spec_name: string; system_version: number };
      assert.equal(version.spec_name, "phala");
      assert.equal(version.system_version, 1);
    }
  });
}

/** polkadot-api takes AccountId32 as an SS58 string. */
function toSs58(pub: Uint8Array): string {
  return PapiAccountId(42).dec(pub);
}

test("buildMetadata checks its input", () => {
  const dupe = { ...sampleRuntime, pallets: [...sampleRuntime.pallets, { ...sampleRuntime.pallets[0], index: 99 }] };
  assert.throws(() => buildMetadata(dupe, 14), /duplicate pallet name System/);
  const badMap = {
    ...sampleRuntime,
    pallets: [{
      name: "X", index: 1, constants: [],
      storage: { prefix: "X", entries: [{ name: "M", modifier: "Optional" as const, kind: { tag: "map" as const, hashers: ["Twox64Concat" as const, "Identity" as const], key: AccountId32 as Type<any>, value: T.u8 }, fallback: Uint8Array.of(0) }] },
    }],
  };
  assert.throws(() => buildMetadata(badMap, 14), /2 hashers need a key tuple/);
  assert.equal(Runtime.info.path.join("::"), "phala_runtime::Runtime");
});
