import { bytesEqual, concatBytes, u32le, utf8, verifyEd25519 } from "@phala-ts/primitives";
import { decodePolicy } from "@phala-ts/attestation";
import { T } from "../../types/index.ts";
import type { StateReader } from "../../state/storage-item.ts";
export { ENDPOINT_DOMAIN };
import { call, definePallet, depositPalletEvent, moduleError } from "../../pallet/define-pallet.ts";
import type { DispatchContext, DispatchResult } from "../../pallet/context.ts";
import { SystemStorage } from "../system/pallet.ts";
import { TimestampStorage } from "../timestamp/pallet.ts";
import { decodeExact } from "../../types/index.ts";
import { pushMessage } from "../phala-mq/pallet.ts";
import { topic, Topics, type MessageOriginValue, type MessageValue } from "../phala-mq/types.ts";
import {
  ENDPOINT_BYTES_MAX,
  ENDPOINT_DOMAIN,
  MasterKeyRotated,
  MasterPubkeyAnnouncement,
  RandomBeacon,
  REGISTRATION_INFO_VERSION,
  RegistryEvent,
  WorkerEndpointPayload,
  WorkerPublicKey,
  WorkerRegistrationInfo,
  registrationReportData,
  rotationSigningPayload,
  ROTATION_DOMAIN,
  type RegistryEventValue,
} from "./types.ts";
import { PhalaRegistryStorage as S } from "./storage.ts";
import { verifyRegistrationEvidence } from "./attestation.ts";

export { rotationSigningPayload, ROTATION_DOMAIN };
export const PHALA_REGISTRY_INDEX = 86;
/** An endpoint signed more than this many blocks ago is refused. */
export const ENDPOINT_FRESHNESS_BLOCKS = 200;
export const EVIDENCE_BYTES_MAX = 256 * 1024;
const REGISTRY_SENDER = utf8("PhalaRegistry");

export const PHALA_REGISTRY_ERRORS = [
  "InvalidRegistrationInfo",
  "GenesisMismatch",
  "EvidenceTooLarge",
  "EvidenceMalformed",
  "EvidenceSignature",
  "EvidenceCertChain",
  "CollateralExpired",
  "CollateralMismatch",
  "TcbRejected",
  "DebugEnclave",
  "AttributesRejected",
  "MeasurementNotAllowed",
  "ReportDataMismatch",
  "DevAttestationNotAllowed",
  "TeeNotAllowed",
  "InvalidPolicy",
  "AttestationPolicyMissing",
  "WorkerKeyMismatch",
  "WorkerNotFound",
  "EndpointSignature",
  "EndpointStale",
  "EndpointTooLong",
  "AlreadyGatekeeper",
  "NotGatekeeper",
  "NoMasterKey",
  "MasterKeyExists",
  "BadRotation",
  "MalformedMessage",
] as const;
type RegistryError = (typeof PHALA_REGISTRY_ERRORS)[number];

const ATTESTATION_ERRORS: Record<string, RegistryError> = {
  MALFORMED: "EvidenceMalformed",
  SIGNATURE: "EvidenceSignature",
  CERT_CHAIN: "EvidenceCertChain",
  COLLATERAL_EXPIRED: "CollateralExpired",
  COLLATERAL_MISMATCH: "CollateralMismatch",
  TCB_REJECTED: "TcbRejected",
  DEBUG_ENCLAVE: "DebugEnclave",
  ATTRIBUTES_REJECTED: "AttributesRejected",
  MEASUREMENT_NOT_ALLOWED: "MeasurementNotAllowed",
  REPORT_DATA_MISMATCH: "ReportDataMismatch",
  DEV_NOT_ALLOWED: "DevAttestationNotAllowed",
  TEE_NOT_ALLOWED: "TeeNotAllowed",
  INVALID_POLICY: "InvalidPolicy",
};

const Pubkey = WorkerPublicKey;
export const PhalaRegistryEvent = T.enumeration(["phala_pallets", "registry", "pallet", "Event"], {
  WorkerRegistered: { index: 0, fields: { pubkey: Pubkey, confidence_level: T.u8 } },
  WorkerUpdated: { index: 1, fields: { pubkey: Pubkey, confidence_level: T.u8 } },
  EndpointUpdated: { index: 2, fields: { pubkey: Pubkey, endpoint: T.str } },
  GatekeeperAdded: { index: 3, fields: { pubkey: Pubkey } },
  GatekeeperRemoved: { index: 4, fields: { pubkey: Pubkey } },
  MasterPubkeyPublished: { index: 5, fields: { master_pubkey: T.fixedBytes(32) } },
  MasterKeyRotationRequested: { index: 6, fields: { rotation_id: T.u32 } },
  MasterKeyRotated: { index: 7, fields: { rotation_id: T.u32, master_pubkey: T.fixedBytes(32) } },
  RandomBeacon: { index: 8, fields: { block_number: T.u32, random: T.fixedBytes(32) } },
  AttestationPolicySet: { index: 9 },
});

const err = (name: RegistryError) => moduleError(PHALA_REGISTRY_INDEX, PHALA_REGISTRY_ERRORS, name);
const emit = (ctx: DispatchContext, e: any) => depositPalletEvent(ctx, PHALA_REGISTRY_INDEX, PhalaRegistryEvent, e);

function pushRegistryEvent(ctx: DispatchContext, event: RegistryEventValue): DispatchResult {
  return pushMessage(ctx, { sender: { tag: "Pallet", value: REGISTRY_SENDER }, destination: topic("registryEvent"), payload: RegistryEvent.codec.enc(event) });
}

function isGatekeeper(state: StateReader, pubkey: Uint8Array): boolean {
  return S.Gatekeepers.get(state as any).some((g) => bytesEqual(g, pubkey));
}


/** The key that must sign egress from an origin, as PhalaMq asks. */
export function registrySignerOf(state: StateReader, origin: MessageOriginValue): Uint8Array | undefined {
  const st = state as any;
  switch (origin.tag) {
    case "Worker":
      return S.Workers.get(st, origin.value) ? origin.value : undefined;
    case "Gatekeeper":
      return S.GatekeeperMasterPubkey.get(st);
    case "Cluster":
      return S.ClusterKeys.get(st, origin.value)?.pubkey;
    case "Contract":
      return S.ContractKeys.get(st, origin.value)?.pubkey;
    default:
      return undefined;
  }
}

function decodeOr<V>(type: { codec: { dec(b: Uint8Array): V } } & any, bytes: Uint8Array): V | undefined {
  try {
    return decodeExact(type, bytes) as V;
  } catch {
    return undefined;
  }
}

/** What the registry does with gatekeeper messages that PhalaMq accepted. pRuntimes apply the same rules. */
export function registryOnOffchainMessage(ctx: DispatchContext, message: MessageValue): DispatchResult {
  const t = new TextDecoder().decode(message.destination);
  const st = ctx.state;
  if (t === Topics.masterPubkey) {
    if (message.sender.tag !== "Worker" || !isGatekeeper(st, message.sender.value)) return err("NotGatekeeper");
    if (S.GatekeeperMasterPubkey.get(st)) return err("MasterKeyExists");
    const a = decodeOr<{ master_pubkey: Uint8Array }>(MasterPubkeyAnnouncement, message.payload);
    if (!a) return err("MalformedMessage");
    S.GatekeeperMasterPubkey.set(st, a.master_pubkey);
    S.MasterPubkeyHistory.set(st, 0, a.master_pubkey);
    emit(ctx, { tag: "MasterPubkeyPublished", value: { master_pubkey: a.master_pubkey } });
    return undefined;
  }
  if (t === Topics.masterRotation) {
    if (message.sender.tag !== "Gatekeeper") return err("BadRotation");
    const r = decodeOr<{ rotation_id: number; new_pubkey: Uint8Array; signature: Uint8Array }>(MasterKeyRotated, message.payload);
    if (!r) return err("MalformedMessage");
    const current = S.GatekeeperMasterPubkey.get(st);
    if (!current) return err("NoMasterKey");
    const id = S.MasterKeyRotationId.get(st);
    if (r.rotation_id !== id + 1 || r.rotation_id > S.RequestedRotationId.get(st)) return err("BadRotation");
    if (!verifyEd25519(current, rotationSigningPayload(r.rotation_id, r.new_pubkey), r.signature)) return err("BadRotation");
    S.GatekeeperMasterPubkey.set(st, r.new_pubkey);
    S.MasterKeyRotationId.set(st, r.rotation_id);
    S.MasterPubkeyHistory.set(st, r.rotation_id, r.new_pubkey);
    emit(ctx, { tag: "MasterKeyRotated", value: { rotation_id: r.rotation_id, master_pubkey: r.new_pubkey } });
    return undefined;
  }
  if (t === Topics.randomBeacon) {
    if (message.sender.tag !== "Gatekeeper") return err("MalformedMessage");
    const b = decodeOr<{ block_number: number; random: Uint8Array }>(RandomBeacon, message.payload);
    if (!b) return err("MalformedMessage");
    S.LastRandomBeacon.set(st, b);
    emit(ctx, { tag: "RandomBeacon", value: b });
    return undefined;
  }
  // Key distribution and everything else is only delivered to pRuntimes.
  return undefined;
}

export function createPhalaRegistryPallet() {
  return definePallet({
    name: "PhalaRegistry",
    index: PHALA_REGISTRY_INDEX,
    crate: "phala_pallets",
    docs: ["Attested workers, their endpoints, gatekeepers and the keys they publish."],
    storage: Object.values(S),
    events: PhalaRegistryEvent,
    errors: PHALA_REGISTRY_ERRORS,
    constants: {
      EndpointFreshnessBlocks: { type: T.u32, value: ENDPOINT_FRESHNESS_BLOCKS, docs: ["How many blocks a signed endpoint stays acceptable."] },
    },
    calls: {
      register_worker: call({
        index: 0,
        origin: "signed",
        args: { info: WorkerRegistrationInfo, evidence: T.bytes },
        weight: (a) => 2_000_000_000n + BigInt(a.evidence.length) * 10_000n,
        docs: [
          "Registers (or re-registers) a worker: verifies its attestation evidence under the chain's policy and",
          "checks that the evidence's report data is blake2b-512 of the SCALE registration info.",
        ],
        handler: (ctx, _who, a) => {
          const st = ctx.state;
          const info = a.info;
          if (info.version !== REGISTRATION_INFO_VERSION) return err("InvalidRegistrationInfo");
          if (!bytesEqual(info.genesis_hash, SystemStorage.BlockHash.get(st, 0))) return err("GenesisMismatch");
          if (a.evidence.length > EVIDENCE_BYTES_MAX) return err("EvidenceTooLarge");
          const policy = S.AttestationPolicy.get(st);
          if (!policy) return err("AttestationPolicyMissing");
          const now = Number(TimestampStorage.Now.get(st) / 1000n);
          const v = verifyRegistrationEvidence(a.evidence, policy, now, registrationReportData(info));
          if ("code" in v) return err(ATTESTATION_ERRORS[v.code] ?? "EvidenceMalformed");
          if (v.devSigner && !bytesEqual(v.devSigner, info.pubkey)) return err("WorkerKeyMismatch");
          const existing = S.Workers.get(st, info.pubkey);
          S.Workers.set(st, info.pubkey, {
            pubkey: info.pubkey,
            ecdh_pubkey: info.ecdh_pubkey,
            runtime_version: info.runtime_version,
            operator: info.operator,
            tee: { tag: v.tee },
            confidence_level: v.confidenceLevel,
            measurement: v.measurement,
            registered_at: existing ? existing.registered_at : ctx.blockNumber,
          });
          if (existing && bytesEqual(existing.ecdh_pubkey, info.ecdh_pubkey)) {
            emit(ctx, { tag: "WorkerUpdated", value: { pubkey: info.pubkey, confidence_level: v.confidenceLevel } });
            return undefined;
          }
          emit(ctx, { tag: "WorkerRegistered", value: { pubkey: info.pubkey, confidence_level: v.confidenceLevel } });
          return pushRegistryEvent(ctx, {
            tag: "WorkerRegistered",
            value: { pubkey: info.pubkey, ecdh_pubkey: info.ecdh_pubkey, confidence_level: v.confidenceLevel },
          });
        },
      }),
      update_worker_endpoint: call({
        index: 1,
        origin: "signed",
        args: { payload: WorkerEndpointPayload, signature: T.fixedBytes(64) },
        weight: () => 100_000_000n,
        docs: ["Publishes a worker's endpoint, signed by its identity key within the freshness window."],
        handler: (ctx, _who, a) => {
          const p = a.payload;
          if (!S.Workers.get(ctx.state, p.pubkey)) return err("WorkerNotFound");
          if (utf8(p.endpoint).length > ENDPOINT_BYTES_MAX) return err("EndpointTooLong");
          if (!verifyEd25519(p.pubkey, concatBytes(ENDPOINT_DOMAIN, WorkerEndpointPayload.codec.enc(p)), a.signature)) return err("EndpointSignature");
          if (p.signed_at > ctx.blockNumber || ctx.blockNumber - p.signed_at > ENDPOINT_FRESHNESS_BLOCKS) return err("EndpointStale");
          S.Endpoints.set(ctx.state, p.pubkey, p);
          emit(ctx, { tag: "EndpointUpdated", value: { pubkey: p.pubkey, endpoint: p.endpoint } });
          return undefined;
        },
      }),
      register_gatekeeper: call({
        index: 2,
        origin: "root",
        args: { pubkey: Pubkey },
        weight: () => 100_000_000n,
        docs: ["Makes a registered worker a gatekeeper. It receives the master key from the others through the chain."],
        handler: (ctx, _none, a) => {
          const w = S.Workers.get(ctx.state, a.pubkey);
          if (!w) return err("WorkerNotFound");
          const list = S.Gatekeepers.get(ctx.state);
          if (list.some((g) => bytesEqual(g, a.pubkey))) return err("AlreadyGatekeeper");
          S.Gatekeepers.set(ctx.state, [...list, a.pubkey]);
          emit(ctx, { tag: "GatekeeperAdded", value: { pubkey: a.pubkey } });
          return pushRegistryEvent(ctx, { tag: "GatekeeperRegistered", value: { pubkey: a.pubkey, ecdh_pubkey: w.ecdh_pubkey } });
        },
      }),
      unregister_gatekeeper: call({
        index: 3,
        origin: "root",
        args: { pubkey: Pubkey },
        weight: () => 100_000_000n,
        docs: ["Removes a gatekeeper."],
        handler: (ctx, _none, a) => {
          const list = S.Gatekeepers.get(ctx.state);
          if (!list.some((g) => bytesEqual(g, a.pubkey))) return err("NotGatekeeper");
          S.Gatekeepers.set(ctx.state, list.filter((g) => !bytesEqual(g, a.pubkey)));
          emit(ctx, { tag: "GatekeeperRemoved", value: { pubkey: a.pubkey } });
          return pushRegistryEvent(ctx, { tag: "GatekeeperUnregistered", value: { pubkey: a.pubkey } });
        },
      }),
      rotate_master_key: call({
        index: 4,
        origin: "root",
        args: {},
        weight: () => 100_000_000n,
        docs: ["Asks the gatekeepers to rotate the master key; the new key is announced signed by the old one."],
        handler: (ctx) => {
          if (!S.GatekeeperMasterPubkey.get(ctx.state)) return err("NoMasterKey");
          const id = S.RequestedRotationId.get(ctx.state) + 1;
          S.RequestedRotationId.set(ctx.state, id);
          emit(ctx, { tag: "MasterKeyRotationRequested", value: { rotation_id: id } });
          return pushRegistryEvent(ctx, { tag: "MasterKeyRotationRequested", value: { rotation_id: id } });
        },
      }),
      set_attestation_policy: call({
        index: 5,
        origin: "root",
        args: { policy: T.bytes },
        weight: () => 100_000_000n,
        docs: ["Replaces the attestation policy (allowed TEEs, measurements, TCB statuses) new registrations are verified under."],
        handler: (ctx, _none, a) => {
          if (!isValidPolicy(a.policy)) return err("InvalidPolicy");
          S.AttestationPolicy.set(ctx.state, a.policy);
          emit(ctx, { tag: "AttestationPolicySet", value: undefined });
          return undefined;
        },
      }),
    },
  });
}

function isValidPolicy(bytes: Uint8Array): boolean {
  try {
    decodePolicy(bytes);
    return true;
  } catch {
    return false;
  }
}
