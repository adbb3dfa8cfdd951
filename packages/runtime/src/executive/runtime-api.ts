import { FeeDetails, RuntimeDispatchInfo, RuntimeVersion } from "../types/std.ts";
import { T, ScaleDecodeError } from "../types/index.ts";
import { SystemStorage } from "../pallets/system/pallet.ts";
import { computeFeeDetails, inclusionFee } from "../pallets/transaction-payment/fees.ts";
import { decodeExtrinsic } from "../extrinsic/unchecked.ts";
import { Reader, DecodeError } from "../extrinsic/reader.ts";
import type { StateBackend } from "../state/overlay.ts";
import { BlockBuilder } from "./block-builder.ts";
import { TransactionInvalid, TransactionValidity } from "./validity.ts";
import type { ComposedRuntime } from "./composed-runtime.ts";

/** Operating error of a runtime API call (unknown method, undecodable input). */
export class RuntimeApiError extends Error {
  constructor(
    readonly code: "METHOD_NOT_FOUND" | "BAD_INPUT",
    message: string,
  ) {
    super(message);
    this.name = "RuntimeApiError";
  }
}

export interface ApiEnv {
  /** State of the block the call is made at. */
  backend: StateBackend;
  blockNumber: number;
  blockHash: Uint8Array;
  metadata: (version: number) => Uint8Array | undefined;
  metadataVersions: number[];
}

const OpaqueMetadata = T.bytes;
const OptionOpaqueMetadata = T.option(T.bytes);
const U32s = T.vec(T.u32);

function readExtrinsic(r: Reader): Uint8Array {
  const start = r.offset;
  const len = r.compactNumber(r.remaining);
  r.take(len);
  return r.bytes.subarray(start, r.offset);
}

function readU32(r: Reader): number {
  const b = r.take(4);
  return b[0] + (b[1] << 8) + (b[2] << 16) + b[3] * 2 ** 24;
}

function expectEnd(r: Reader, method: string): void {
  if (r.remaining !== 0) throw new RuntimeApiError("BAD_INPUT", `${method}: ${r.remaining} unexpected trailing bytes in the input`);
}

/**
 * The runtime APIs answered through `state_call` and `chainHead_v1_call`, by Substrate's
 * method names, with SCALE input and output.
 */
export function callRuntimeApi(rt: ComposedRuntime, env: ApiEnv, method: string, input: Uint8Array): Uint8Array {
  try {
    return dispatchApi(rt, env, method, input);
  } catch (e) {
    // DecodeError: the extrinsic framing; ScaleDecodeError: a call or other SCALE value inside it.
    if (e instanceof DecodeError || e instanceof ScaleDecodeError) throw new RuntimeApiError("BAD_INPUT", `${method}: could not decode the input (${e.message})`);
    throw e;
  }
}

function dispatchApi(rt: ComposedRuntime, env: ApiEnv, method: string, input: Uint8Array): Uint8Array {
  const r = new Reader(input);
  switch (method) {
    case "Core_version":
      return RuntimeVersion.codec.enc(rt.version);
    case "Metadata_metadata":
      return OpaqueMetadata.codec.enc(env.metadata(14)!);
    case "Metadata_metadata_versions":
      return U32s.codec.enc(env.metadataVersions);
    case "Metadata_metadata_at_version": {
      const v = readU32(r);
      expectEnd(r, method);
      return OptionOpaqueMetadata.codec.enc(env.metadata(v));
    }
    case "AccountNonceApi_account_nonce": {
      const who = r.take(32);
      expectEnd(r, method);
      return T.u32.codec.enc(SystemStorage.Account.get(env.backend, who).nonce);
    }
    case "TaggedTransactionQueue_validate_transaction": {
      r.u8(); // TransactionSource does not change validity here
      const tx = readExtrinsic(r);
      const at = r.take(32);
      expectEnd(r, method);
      const b = new BlockBuilder(rt, env.backend, { number: env.blockNumber + 1, parentHash: at });
      try {
        return TransactionValidity.codec.enc({ tag: "Ok", value: b.validate(tx) });
      } catch (e) {
        if (e instanceof TransactionInvalid) return TransactionValidity.codec.enc({ tag: "Err", value: e.validity });
        throw e;
      }
    }
    case "TransactionPaymentApi_query_info":
    case "TransactionPaymentApi_query_fee_details": {
      const tx = readExtrinsic(r);
      const lenValue = readU32(r);
      expectEnd(r, method);
      const x = decodeExtrinsic(tx);
      const call = rt.decodeCall(x.callBytes);
      const weight = rt.weightOf(call);
      if (method === "TransactionPaymentApi_query_info") {
        return RuntimeDispatchInfo.codec.enc({
          weight: { ref_time: weight, proof_size: 0n },
          class: { tag: rt.classOf(call) },
          partial_fee: x.signed ? inclusionFee(lenValue, weight) : 0n,
        });
      }
      const d = computeFeeDetails(lenValue, weight);
      return FeeDetails.codec.enc({
        inclusion_fee: x.signed ? { base_fee: d.baseFee, len_fee: d.lenFee, adjusted_weight_fee: d.adjustedWeightFee } : undefined,
      });
    }
    default:
      throw new RuntimeApiError("METHOD_NOT_FOUND", `Exported method ${method} is not found`);
  }
}

