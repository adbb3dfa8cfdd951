import { test } from "node:test";
import assert from "node:assert/strict";
import { concatBytes, keyPairFromUri } from "@phala-ts/primitives";
import { devPolicy, encodeEvidence, encodePolicy } from "@phala-ts/attestation";
import { TransactionInvalid } from "../../executive/validity.ts";
import { decodeExact } from "../../types/index.ts";
import { topic, type MessageValue } from "../phala-mq/types.ts";
import { PhalaRegistryStorage } from "./storage.ts";
import { MasterKeyRotated, MasterPubkeyAnnouncement, RegistryEvent, WorkerEndpointPayload, type WorkerRegistrationInfoValue } from "./types.ts";
import { ENDPOINT_DOMAIN, rotationSigningPayload } from "./pallet.ts";
import { MEASUREMENT, Nonces, alice, bob, chainWith, moduleErrorName, outbound, registration, signedMessage, sudo, worker } from "../../../test/phala-helpers.ts";

test("a worker registers with dev evidence and the registry pushes WorkerRegistered into the message queue", async () => {
  const chain = chainWith();
  const nonces = new Nonces();
  chain.block([]);
  const w = worker("//Worker1");
  const { outcomes } = chain.block([chain.sign(bob, await registration(chain, w), nonces.next(bob))]);
  assert.deepEqual(outcomes[0], { success: true });
  const stored = PhalaRegistryStorage.Workers.get(chain.backend as any, w.identity.publicKey)!;
  assert.equal(stored.confidence_level, 128);
  assert.equal(stored.tee.tag, "Dev");
  assert.deepEqual(stored.measurement, MEASUREMENT);
  const msgs = outbound(chain);
  assert.equal(msgs.length, 1);
  assert.equal(new TextDecoder().decode(msgs[0].destination), "phala/registry/event");
  const ev = decodeExact(RegistryEvent, msgs[0].payload);
  assert.equal(ev.tag, "WorkerRegistered");
  assert.deepEqual((ev.value as any).ecdh_pubkey, w.ecdh);
  // The next block starts with an empty queue.
  chain.block([]);
  assert.equal(outbound(chain).length, 0);
});

test("registration is refused with a clear error for other bound keys, another signer, and dev evidence on a production policy", async () => {
  const chain = chainWith();
  const nonces = new Nonces();
  chain.block([]);
  const w = worker("//Worker1");
  const r1 = chain.block([chain.sign(bob, await registration(chain, w, { bindOtherKey: true }), nonces.next(bob))]);
  assert.equal(moduleErrorName(chain, r1.outcomes[0]), "ReportDataMismatch");
  const r2 = chain.block([chain.sign(bob, await registration(chain, w, { signer: keyPairFromUri("//Mallory", "ed25519") }), nonces.next(bob))]);
  assert.equal(moduleErrorName(chain, r2.outcomes[0]), "WorkerKeyMismatch");
  assert.equal(PhalaRegistryStorage.Workers.get(chain.backend as any, w.identity.publicKey), undefined);

  const prod = chainWith(devPolicy({ allowDev: false }));
  const n2 = new Nonces();
  prod.block([]);
  const r3 = prod.block([prod.sign(bob, await registration(prod, w), n2.next(bob))]);
  assert.equal(moduleErrorName(prod, r3.outcomes[0]), "DevAttestationNotAllowed");
});

test("egress: the master key announcement of a gatekeeper is accepted once; bad signatures and reused sequences are refused by the pool", async () => {
  const chain = chainWith();
  const nonces = new Nonces();
  chain.block([]);
  const gk = worker("//Gk1");
  chain.block([chain.sign(bob, await registration(chain, gk), nonces.next(bob))]);
  const sudoOut = chain.block([chain.sign(alice, sudo({ tag: "PhalaRegistry", value: { tag: "register_gatekeeper", value: { pubkey: gk.identity.publicKey } } }), nonces.next(alice))]);
  assert.deepEqual(sudoOut.outcomes[0], { success: true });
  assert.equal(decodeExact(RegistryEvent, outbound(chain)[0].payload).tag, "GatekeeperRegistered");

  const master = keyPairFromUri("//Master", "ed25519");
  const announce: MessageValue = {
    sender: { tag: "Worker", value: gk.identity.publicKey },
    destination: topic("masterPubkey"),
    payload: MasterPubkeyAnnouncement.codec.enc({ master_pubkey: master.publicKey }),
  };
  const good = signedMessage(chain, gk.identity, announce, 0n);
  const forged = signedMessage(chain, keyPairFromUri("//Mallory", "ed25519"), announce, 0n);
  const builder = chain.validator();
  assert.throws(() => builder.validate(forged), (e: unknown) => e instanceof TransactionInvalid && /bad signature/.test(e.message));
  const valid = builder.validate(good);
  assert.equal(valid.requires.length, 0);
  const future = signedMessage(chain, gk.identity, announce, 1n);
  assert.equal(builder.validate(future).requires.length, 1, "a later sequence waits for the one before it");

  const r = chain.block([good]);
  assert.deepEqual(r.outcomes[0], { success: true });
  assert.deepEqual(PhalaRegistryStorage.GatekeeperMasterPubkey.get(chain.backend as any), master.publicKey);
  assert.equal(outbound(chain).length, 1, "the accepted message is delivered to pRuntimes");
  assert.throws(() => chain.validator().validate(good), (e: unknown) => e instanceof TransactionInvalid && /outdated/.test(e.message));
  assert.throws(() => chain.block([good]), (e: unknown) => e instanceof TransactionInvalid);

  // Rotation: requested through Sudo, announced by the gatekeeper, signed by the old key.
  chain.block([chain.sign(alice, sudo({ tag: "PhalaRegistry", value: { tag: "rotate_master_key", value: {} } }), nonces.next(alice))]);
  assert.equal(decodeExact(RegistryEvent, outbound(chain)[0].payload).tag, "MasterKeyRotationRequested");
  const next = keyPairFromUri("//Master2", "ed25519");
  const rotated: MessageValue = {
    sender: { tag: "Gatekeeper" },
    destination: topic("masterRotation"),
    payload: MasterKeyRotated.codec.enc({ rotation_id: 1, new_pubkey: next.publicKey, signature: master.sign(rotationSigningPayload(1, next.publicKey)) }),
  };
  const r2 = chain.block([signedMessage(chain, master, rotated, 0n)]);
  assert.deepEqual(r2.outcomes[0], { success: true });
  assert.deepEqual(PhalaRegistryStorage.GatekeeperMasterPubkey.get(chain.backend as any), next.publicKey);
  assert.deepEqual(PhalaRegistryStorage.MasterPubkeyHistory.get(chain.backend as any, 0), master.publicKey);
  assert.deepEqual(PhalaRegistryStorage.MasterPubkeyHistory.get(chain.backend as any, 1), next.publicKey);
  // The old key no longer signs for the gatekeepers.
  const beacon: MessageValue = { sender: { tag: "Gatekeeper" }, destination: topic("randomBeacon"), payload: new Uint8Array(36) };
  assert.throws(() => chain.validator().validate(signedMessage(chain, master, beacon, 1n)), (e: unknown) => e instanceof TransactionInvalid && /bad signature/.test(e.message));
  assert.ok(chain.validator().validate(signedMessage(chain, next, beacon, 1n)));
});

test("endpoints must be signed by the worker within the freshness window", async () => {
  const chain = chainWith();
  const nonces = new Nonces();
  chain.block([]);
  const w = worker("//Worker1");
  chain.block([chain.sign(bob, await registration(chain, w), nonces.next(bob))]);
  const endpoint = (signedAt: number, key = w.identity) => {
    const payload = { pubkey: w.identity.publicKey, endpoint: "http://127.0.0.1:8001", signed_at: signedAt };
    const signature = key.sign(concatBytes(ENDPOINT_DOMAIN, WorkerEndpointPayload.codec.enc(payload)));
    return chain.sign(bob, { tag: "PhalaRegistry", value: { tag: "update_worker_endpoint", value: { payload, signature } } }, nonces.next(bob));
  };
  assert.deepEqual(chain.block([endpoint(2)]).outcomes[0], { success: true });
  assert.equal(PhalaRegistryStorage.Endpoints.get(chain.backend as any, w.identity.publicKey)!.endpoint, "http://127.0.0.1:8001");
  assert.equal(moduleErrorName(chain, chain.block([endpoint(2, keyPairFromUri("//Mallory", "ed25519"))]).outcomes[0]), "EndpointSignature");
  for (let i = 0; i < 201; i++) chain.block([]);
  assert.equal(moduleErrorName(chain, chain.block([endpoint(2)]).outcomes[0]), "EndpointStale");
});

test("hardware evidence on chain: a real SGX quote verifies up to its binding, a tampered one and a debug SEV-SNP guest are refused", async () => {
  const { sgxEvidence, snpEvidence, flipped, T_2025_06_20 } = await import("../../../../attestation/test/fixtures.ts");
  const chain = chainWith();
  const nonces = new Nonces();
  // Block time inside the fixtures' collateral window, as the chain would have had then.
  chain.nowMs = BigInt(T_2025_06_20) * 1000n - 12_000n;
  chain.block([]);
  const w = worker("//Worker1");
  const info: WorkerRegistrationInfoValue = { version: 1, genesis_hash: chain.hashes[0], pubkey: w.identity.publicKey, ecdh_pubkey: w.ecdh, runtime_version: 1, operator: undefined };
  const register = (evidence: Parameters<typeof encodeEvidence>[0]) =>
    chain.sign(bob, { tag: "PhalaRegistry", value: { tag: "register_worker", value: { info, evidence: encodeEvidence(evidence) } } }, nonces.next(bob));

  // The genuine quote passes signature, chain, collateral and TCB checks, then fails the
  // binding: its report_data is "Hello, world!", not the hash of this worker's keys.
  const genuine = sgxEvidence();
  assert.equal(moduleErrorName(chain, chain.block([register(genuine)]).outcomes[0]), "ReportDataMismatch");
  // One flipped byte in the report body (MRENCLAVE) breaks the quote's signature.
  const tampered = { ...genuine, quote: flipped(genuine.quote, 48 + 64) };
  assert.equal(moduleErrorName(chain, chain.block([register(tampered)]).outcomes[0]), "EvidenceSignature");
  assert.equal(moduleErrorName(chain, chain.block([register(snpEvidence("gosevguest"))]).outcomes[0]), "DebugEnclave");
  assert.equal(PhalaRegistryStorage.Workers.get(chain.backend as any, w.identity.publicKey), undefined);
});

test("governance changes the attestation policy through Sudo; anyone else and malformed policies are refused", async () => {
  const chain = chainWith();
  const nonces = new Nonces();
  chain.block([]);
  const setPolicy = (policy: Uint8Array) => ({ tag: "PhalaRegistry", value: { tag: "set_attestation_policy", value: { policy } } });
  const noDev = encodePolicy(devPolicy({ allowDev: false }));
  // Not through Sudo: a signed account is not Root.
  const direct = chain.block([chain.sign(bob, setPolicy(noDev), nonces.next(bob))]);
  assert.deepEqual((direct.outcomes[0] as any).error, { tag: "BadOrigin", value: undefined });
  chain.block([chain.sign(alice, sudo(setPolicy(new Uint8Array([1, 2, 3]))), nonces.next(alice))]);
  assert.deepEqual(PhalaRegistryStorage.AttestationPolicy.get(chain.backend as any), encodePolicy(devPolicy()), "a malformed policy leaves the old one");
  chain.block([chain.sign(alice, sudo(setPolicy(noDev)), nonces.next(alice))]);
  assert.deepEqual(PhalaRegistryStorage.AttestationPolicy.get(chain.backend as any), noDev);
  const r = chain.block([chain.sign(bob, await registration(chain, worker("//Worker1")), nonces.next(bob))]);
  assert.equal(moduleErrorName(chain, r.outcomes[0]), "DevAttestationNotAllowed");
});
