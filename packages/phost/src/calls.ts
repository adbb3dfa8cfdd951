import { SignedMessage, WorkerEndpointPayload, WorkerRegistrationInfo } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { phalaRuntime } from "./runtime.ts";

/**
 * The three calls pHost submits, as SCALE RuntimeCall bytes built with the runtime's own
 * call type, so pallet and call indices come from the one pallet declaration.
 *
 * Each function takes the SCALE bytes pRuntime handed out and decodes them first, so
 * malformed input from pRuntime fails here (ScaleDecodeError) instead of on chain.
 */

function encodeCall(pallet: "PhalaMq" | "PhalaRegistry", call: string, args: Record<string, unknown>): Uint8Array {
  return phalaRuntime().call.codec.enc({ tag: pallet, value: { tag: call, value: args } });
}

/** `PhalaRegistry.register_worker { info, evidence }`, signed by the operator. */
export function registerWorkerCall(infoScale: Uint8Array, evidence: Uint8Array): Uint8Array {
  return encodeCall("PhalaRegistry", "register_worker", { info: decodeExact(WorkerRegistrationInfo, infoScale), evidence });
}

/** `PhalaRegistry.update_worker_endpoint { payload, signature }`, signed by the operator. */
export function updateWorkerEndpointCall(payloadScale: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeCall("PhalaRegistry", "update_worker_endpoint", { payload: decodeExact(WorkerEndpointPayload, payloadScale), signature });
}

/** `PhalaMq.sync_offchain_message { signed_message }`, submitted unsigned. */
export function syncOffchainMessageCall(signedMessageScale: Uint8Array): Uint8Array {
  return encodeCall("PhalaMq", "sync_offchain_message", { signed_message: decodeExact(SignedMessage, signedMessageScale) });
}
