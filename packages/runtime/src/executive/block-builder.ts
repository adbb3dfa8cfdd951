import { assert, concatBytes, writeU32le } from "@phala-ts/primitives";
import { StateOverlay, type StateBackend, type StateChanges } from "../state/overlay.ts";
import type { Infer } from "../types/index.ts";
import type { DispatchInfo } from "../types/std.ts";
import type { DispatchContext, DispatchErrorValue, DispatchResult, EventRecordRaw, Origin } from "../pallet/context.ts";
import { decodeExtrinsic, encodeUnsignedExtrinsic, type DecodedExtrinsic } from "../extrinsic/unchecked.ts";
import { DecodeError } from "../extrinsic/reader.ts";
import { encodeCompact } from "../types/codecs.ts";
import { SystemStorage } from "../pallets/system/pallet.ts";
import { BLOCK_HASH_COUNT } from "../pallets/system/constants.ts";
import { emitSystemEvent } from "../pallets/system/accounts.ts";
import { withdrawFee } from "../pallets/balances/logic.ts";
import { emitFeePaid } from "../pallets/transaction-payment/pallet.ts";
import { EXTRINSIC_BASE_WEIGHT } from "../pallets/transaction-payment/fees.ts";
import { checkSigned, signatureCheckFor, type CheckedSigned, type SignatureCheck } from "./checks.ts";
import { MAX_BLOCK_LENGTH_BYTES, MAX_BLOCK_REF_TIME, MAX_NORMAL_LENGTH_BYTES, MAX_NORMAL_REF_TIME } from "./limits.ts";
import { TransactionInvalid, invalid, unknown, type ValidTransactionValue } from "./validity.ts";
import type { ComposedRuntime } from "./composed-runtime.ts";

export interface BlockEnv {
  number: number;
  parentHash: Uint8Array;
}

/**
 * Calls decoded per extrinsic (whose decoding is itself shared per byte array, see
 * decodeExtrinsic), so validation and inclusion of one transaction decode its call once.
 */
const decodedCalls = new WeakMap<DecodedExtrinsic, { runtime: ComposedRuntime; call: any }>();

export type ApplyOutcome = { success: true } | { success: false; error: DispatchErrorValue };

const PHASE_APPLY = 0;
const PHASE_FINALIZATION = 1;
const PHASE_INITIALIZATION = 2;

function encodePhase(p: EventRecordRaw["phase"]): Uint8Array {
  if (p.tag === "ApplyExtrinsic") {
    const out = new Uint8Array(5);
    out[0] = PHASE_APPLY;
    writeU32le(out, 1, p.value);
    return out;
  }
  return new Uint8Array([p.tag === "Finalization" ? PHASE_FINALIZATION : PHASE_INITIALIZATION]);
}

export function encodeEventRecords(events: EventRecordRaw[]): Uint8Array {
  const parts: Uint8Array[] = [encodeCompact(events.length)];
  for (const e of events) parts.push(encodePhase(e.phase), e.event, encodeCompact(e.topics.length), ...e.topics);
  return concatBytes(...parts);
}

/**
 * Executes one block on top of a state backend: initialization, inherents, extrinsics in
 * order, finalization. Invalid transactions throw TransactionInvalid and leave the block
 * untouched; dispatch errors are included, charged and reported as ExtrinsicFailed.
 */
export class BlockBuilder {
  readonly overlay: StateOverlay;
  readonly extrinsics: Uint8Array[] = [];
  /** blake2b-256 of each extrinsic, computed once when it was decoded. */
  readonly extrinsicHashes: Uint8Array[] = [];
  readonly events: EventRecordRaw[] = [];
  #phase: EventRecordRaw["phase"] = { tag: "Initialization", value: undefined };
  #normalWeight = 0n;
  #totalWeight = 0n;
  #normalLen = 0;
  #finalized = false;
  readonly #ctx: DispatchContext;

  constructor(
    readonly runtime: ComposedRuntime,
    backend: StateBackend,
    readonly env: BlockEnv,
  ) {
    assert.ok(env.number >= 1, "block number must be at least 1");
    this.overlay = new StateOverlay(backend);
    const self = this;
    this.#ctx = {
      state: this.overlay,
      blockNumber: env.number,
      depositEvent(event) {
        self.events.push({ phase: self.#phase, event, topics: [] });
      },
      transactional(f) {
        return self.#transactional(f);
      },
      dispatchCall(call, origin) {
        return self.#transactional(() => runtime.dispatch(self.#ctx, origin, call as { tag: string; value: unknown }));
      },
    };
    this.#initialize();
  }

  #transactional(f: () => DispatchResult): DispatchResult {
    this.overlay.begin();
    const mark = this.events.length;
    const r = f();
    if (r === undefined) this.overlay.commit();
    else {
      this.overlay.rollback();
      this.events.length = mark;
    }
    return r;
  }

  #initialize(): void {
    const s = this.overlay;
    const n = this.env.number;
    SystemStorage.Number.set(s, n);
    SystemStorage.ParentHash.set(s, this.env.parentHash);
    SystemStorage.BlockHash.set(s, n - 1, this.env.parentHash);
    // Genesis' hash is kept for CheckGenesis forever; others leave the window.
    const old = n - 1 - BLOCK_HASH_COUNT;
    if (old > 0) SystemStorage.BlockHash.remove(s, old);
    this.runtime.systemEvents.remove(s);
    SystemStorage.EventCount.remove(s);
    for (const p of this.runtime.pallets) p.def.hooks?.onInitialize?.(this.#ctx);
  }

  /** Applies the timestamp inherent; must come first, exactly once. */
  applyTimestamp(nowMs: bigint): void {
    assert.equal(this.extrinsics.length, 0, "the timestamp inherent must be the first extrinsic");
    const callBytes = this.runtime.call.codec.enc({ tag: "Timestamp", value: { tag: "set", value: { now: nowMs } } });
    const bytes = encodeUnsignedExtrinsic(callBytes);
    const r = this.#applyDecoded(decodeExtrinsic(bytes), { tag: "Timestamp", value: { tag: "set", value: { now: nowMs } } }, undefined);
    if (!r.success) throw new TransactionInvalid(invalid("BadMandatory"), "timestamp inherent failed");
  }

  /**
   * Pool-style validation of a transaction against this block's state (nothing is written).
   * `signatureVerified` says the caller already checked `signatureCheck(bytes)`.
   */
  validate(bytes: Uint8Array, opts: { signatureVerified?: boolean } = {}): ValidTransactionValue {
    const { x, call } = this.#decode(bytes);
    if (!x.signed) return this.#validateUnsigned(call).valid;
    return checkSigned(this.#checkEnv(), x, this.runtime.weightOf(call), { verifySignature: !opts.signatureVerified }).valid;
  }

  /** The signer and signed payload of a transaction, so its signature can be checked on another thread. */
  signatureCheck(bytes: Uint8Array): SignatureCheck {
    const { x } = this.#decode(bytes);
    if (!x.signed) throw new TransactionInvalid(unknown("NoUnsignedValidator"), "unsigned transactions are only accepted as inherents");
    const { who, signature, payload } = signatureCheckFor(this.#checkEnv(), x);
    return { who, signature, payload };
  }

  /**
   * Applies a signed transaction. `signatureVerified` lets the author skip a second
   * verification of bytes its pool already verified against the same chain.
   */
  applyExtrinsic(bytes: Uint8Array, opts: { signatureVerified?: boolean } = {}): ApplyOutcome {
    assert.ok(!this.#finalized, "block already finalized");
    const { x, call } = this.#decode(bytes);
    if (!x.signed) {
      if (!this.#validateUnsigned(call).ready) throw new TransactionInvalid(invalid("Future"));
      const weight = this.runtime.weightOf(call);
      if (this.#totalWeight + weight > MAX_BLOCK_REF_TIME || this.#normalLen + x.bytes.length > MAX_BLOCK_LENGTH_BYTES) {
        throw new TransactionInvalid(invalid("ExhaustsResources"));
      }
      return this.#applyDecoded(x, call, undefined);
    }
    const checked = checkSigned(this.#checkEnv(), x, this.runtime.weightOf(call), { verifySignature: !opts.signatureVerified });
    if (checked.signed.nonce > checked.accountNonce) throw new TransactionInvalid(invalid("Future"));
    const cls = this.runtime.classOf(call);
    const weight = EXTRINSIC_BASE_WEIGHT + checked.callWeight;
    if (cls === "Normal" && (this.#normalWeight + weight > MAX_NORMAL_REF_TIME || this.#normalLen + checked.len > MAX_NORMAL_LENGTH_BYTES)) {
      throw new TransactionInvalid(invalid("ExhaustsResources"));
    }
    if (this.#totalWeight + weight > MAX_BLOCK_REF_TIME || this.#normalLen + checked.len > MAX_BLOCK_LENGTH_BYTES) {
      throw new TransactionInvalid(invalid("ExhaustsResources"));
    }
    return this.#applyDecoded(x, call, checked);
  }

  #validateUnsigned(call: { tag: string; value: any }): { valid: ValidTransactionValue; ready: boolean } {
    const r = this.runtime.validateUnsigned(this.overlay, call, { blockNumber: this.env.number });
    if (!r) throw new TransactionInvalid(unknown("NoUnsignedValidator"), "this call cannot be submitted unsigned; sign it with an account");
    return r;
  }

  #decode(bytes: Uint8Array): { x: DecodedExtrinsic; call: any } {
    try {
      const x = decodeExtrinsic(bytes);
      const hit = decodedCalls.get(x);
      if (hit && hit.runtime === this.runtime) return { x, call: hit.call };
      const call = this.runtime.decodeCall(x.callBytes);
      decodedCalls.set(x, { runtime: this.runtime, call });
      return { x, call };
    } catch (e) {
      if (e instanceof TransactionInvalid) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new TransactionInvalid(invalid("Call"), `could not decode the extrinsic (${why})`);
    }
  }

  #checkEnv() {
    return {
      state: this.overlay,
      current: this.env.number,
      specVersion: this.runtime.version.spec_version,
      transactionVersion: this.runtime.version.transaction_version,
    };
  }

  #applyDecoded(x: DecodedExtrinsic, call: any, checked: CheckedSigned | undefined): ApplyOutcome {
    const index = this.extrinsics.length;
    this.#phase = { tag: "ApplyExtrinsic", value: index };
    const cls = this.runtime.classOf(call);
    const callWeight = this.runtime.weightOf(call);
    let origin: Origin = { kind: "none" };
    if (checked) {
      origin = { kind: "signed", who: checked.who };
      const acc = SystemStorage.Account.get(this.overlay, checked.who);
      SystemStorage.Account.set(this.overlay, checked.who, { ...acc, nonce: acc.nonce + 1 });
      withdrawFee(this.#ctx, checked.who, checked.fee);
    }
    const result = this.#transactional(() => this.runtime.dispatch(this.#ctx, origin, call));
    if (checked) emitFeePaid(this.#ctx, checked.who, checked.fee, checked.signed.tip);
    const dispatchInfo: Infer<typeof DispatchInfo> = {
      weight: { ref_time: callWeight, proof_size: 0n },
      class: { tag: cls },
      pays_fee: checked ? { tag: "Yes" } : { tag: "No" },
    };
    if (result === undefined) emitSystemEvent(this.#ctx, { tag: "ExtrinsicSuccess", value: { dispatch_info: dispatchInfo } });
    else emitSystemEvent(this.#ctx, { tag: "ExtrinsicFailed", value: { dispatch_error: result, dispatch_info: dispatchInfo } });
    const weight = (checked ? EXTRINSIC_BASE_WEIGHT : 0n) + callWeight;
    this.#totalWeight += weight;
    if (cls === "Normal") {
      this.#normalWeight += weight;
      this.#normalLen += x.bytes.length;
    }
    this.extrinsics.push(x.bytes);
    this.extrinsicHashes.push(x.hash);
    return result === undefined ? { success: true } : { success: false, error: result };
  }

  /** Runs on_finalize hooks and writes System.Events; returns the block's state changes. */
  finalize(): { changes: StateChanges; extrinsics: Uint8Array[]; extrinsicHashes: Uint8Array[]; events: EventRecordRaw[] } {
    assert.ok(!this.#finalized, "block already finalized");
    this.#finalized = true;
    this.#phase = { tag: "Finalization", value: undefined };
    for (const p of this.runtime.pallets) p.def.hooks?.onFinalize?.(this.#ctx);
    this.overlay.set(this.runtime.systemEvents.key(), encodeEventRecords(this.events));
    SystemStorage.EventCount.set(this.overlay, this.events.length);
    SystemStorage.ExtrinsicCount.remove(this.overlay);
    return { changes: this.overlay.changes(), extrinsics: this.extrinsics, extrinsicHashes: this.extrinsicHashes, events: this.events };
  }
}

export { DecodeError };
