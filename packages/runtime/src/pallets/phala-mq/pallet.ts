import { concatBytes, toHex, u64le, verifyEd25519 } from "@phala-ts/primitives";
import { T, decodeExact } from "../../types/index.ts";
import { appendToVecValue, vecValueLength, type StateReader } from "../../state/storage-item.ts";
import { call, definePallet, depositPalletEvent, moduleError } from "../../pallet/define-pallet.ts";
import type { DispatchContext, DispatchErrorValue, DispatchResult } from "../../pallet/context.ts";
import { DispatchError } from "../../types/std.ts";
import { SystemStorage } from "../system/pallet.ts";
import { TransactionInvalid, invalid } from "../../executive/validity.ts";
import { Message, MessageOrigin, SignedMessage, egressSigningPayload, type MessageOriginValue, type MessageValue, type SignedMessageValue } from "./types.ts";
import { PhalaMqStorage } from "./storage.ts";

export const PHALA_MQ_INDEX = 85;
/** Bounds that keep one block's ingress queue, and each message, small enough for pRuntimes to prove and process. */
export const MESSAGES_PER_BLOCK_MAX = 4096;
export const TOPIC_BYTES_MAX = 256;
export const PAYLOAD_BYTES_MAX = 64 * 1024;
/** Pallets may push more (contract code travels to the workers this way). */
export const PALLET_PAYLOAD_BYTES_MAX = 512 * 1024;
/** How far ahead of the expected sequence a message may wait in the pool. */
export const SEQUENCE_LOOKAHEAD_MAX = 256n;
const UNSIGNED_PRIORITY = 1n << 60n;
const UNSIGNED_LONGEVITY = 64n;

export const PHALA_MQ_ERRORS = ["TooManyMessages", "MessageTooLarge", "BadSender", "BadSequence", "BadSignature"] as const;

export const PhalaMqEvent = T.enumeration(["phala_pallets", "mq", "pallet", "Event"], {
  /** A topic's handler refused a signed message; its sequence number is used up all the same. */
  OffchainMessageRefused: { index: 0, fields: { sender: MessageOrigin, sequence: T.u64, error: DispatchError } },
});

/** Hooks the runtime wires in: who may sign for an origin, and what pallets do with messages on their topics. */
export interface PhalaMqOptions {
  signerOf(state: StateReader, origin: MessageOriginValue): Uint8Array | undefined;
  onOffchainMessage(ctx: DispatchContext, signed: SignedMessageValue): DispatchResult;
}

/** Appends a message to this block's ingress queue. */
export function pushMessage(ctx: DispatchContext, message: MessageValue): DispatchResult {
  const payloadMax = message.sender.tag === "Pallet" ? PALLET_PAYLOAD_BYTES_MAX : PAYLOAD_BYTES_MAX;
  if (message.destination.length > TOPIC_BYTES_MAX || message.payload.length > payloadMax) {
    return moduleError(PHALA_MQ_INDEX, PHALA_MQ_ERRORS, "MessageTooLarge");
  }
  if (vecValueLength(ctx.state, PhalaMqStorage.OutboundMessages) >= MESSAGES_PER_BLOCK_MAX) return moduleError(PHALA_MQ_INDEX, PHALA_MQ_ERRORS, "TooManyMessages");
  appendToVecValue(ctx.state, PhalaMqStorage.OutboundMessages, Message, message);
  return undefined;
}

const LANE_PREFIX = new TextEncoder().encode("phala-mq");

/** The pool tag a signed message provides: its sender's lane followed by its sequence (u64 le). */
function sequenceTag(origin: MessageOriginValue, sequence: bigint): Uint8Array {
  return concatBytes(LANE_PREFIX, MessageOrigin.codec.enc(origin), u64le(sequence));
}

/** The next sequence the chain expects on a lane (a tag less its sequence); 0 for lanes it does not know. */
export function laneNextSequence(state: StateReader, lane: Uint8Array): number {
  if (lane.length <= LANE_PREFIX.length || !LANE_PREFIX.every((b, i) => lane[i] === b)) return 0;
  let origin: MessageOriginValue;
  try {
    origin = decodeExact(MessageOrigin, lane.subarray(LANE_PREFIX.length));
  } catch {
    return 0;
  }
  return Number(PhalaMqStorage.OffchainIngress.get(state as any, origin));
}

function genesisHash(state: StateReader): Uint8Array {
  return SystemStorage.BlockHash.get(state as any, 0);
}

/** The checks a signed message must pass, in the pool and again in the block. */
function checkSignedMessage(state: StateReader, opts: PhalaMqOptions, signed: { message: MessageValue; sequence: bigint; signature: Uint8Array }) {
  const origin = signed.message.sender;
  const key = opts.signerOf(state, origin);
  if (!key) throw new TransactionInvalid(invalid("BadSigner"), `no key is registered for sender ${describeOrigin(origin)}`);
  const expected = PhalaMqStorage.OffchainIngress.get(state as any, origin);
  if (signed.sequence < expected) throw new TransactionInvalid(invalid("Stale"), `sequence ${signed.sequence} of ${describeOrigin(origin)} was already accepted; next is ${expected}`);
  if (signed.sequence > expected + SEQUENCE_LOOKAHEAD_MAX) throw new TransactionInvalid(invalid("Future"), `sequence ${signed.sequence} is too far ahead of ${expected}`);
  const ok = verifyEd25519(key, egressSigningPayload(genesisHash(state), signed.message, signed.sequence), signed.signature);
  if (!ok) {
    // A later message may be signed by a key that an earlier, not yet applied message installs
    // (a master key rotation), so only the next expected one is judged by the current key.
    if (signed.sequence > expected) throw new TransactionInvalid(invalid("Future"), "signature does not verify with the sender's current key");
    throw new TransactionInvalid(invalid("BadProof"), `the message signature does not verify with the key registered for ${describeOrigin(origin)}`);
  }
  return { origin, expected };
}

export function describeOrigin(o: MessageOriginValue): string {
  switch (o.tag) {
    case "Pallet":
      return `Pallet(${new TextDecoder().decode(o.value)})`;
    case "Gatekeeper":
      return "Gatekeeper";
    default:
      return `${o.tag}(${toHex(o.value as Uint8Array)})`;
  }
}

export function createPhalaMqPallet(opts: PhalaMqOptions) {
  return definePallet({
    name: "PhalaMq",
    index: PHALA_MQ_INDEX,
    crate: "phala_pallets",
    docs: ["The message queue between the chain's pallets and pRuntimes (ARCHITECTURE §4)."],
    storage: [PhalaMqStorage.OutboundMessages, PhalaMqStorage.OffchainIngress],
    events: PhalaMqEvent,
    errors: PHALA_MQ_ERRORS,
    constants: {},
    hooks: {
      onInitialize: (ctx) => PhalaMqStorage.OutboundMessages.remove(ctx.state),
    },
    validateUnsigned: (state, c) => {
      if (c.tag !== "sync_offchain_message") throw new TransactionInvalid(invalid("Call"), `PhalaMq.${c.tag} must be signed`);
      const signed = c.value.signed_message;
      const { origin, expected } = checkSignedMessage(state, opts, signed);
      const requires = signed.sequence > expected ? [sequenceTag(origin, signed.sequence - 1n)] : [];
      return {
        valid: { priority: UNSIGNED_PRIORITY, requires, provides: [sequenceTag(origin, signed.sequence)], longevity: UNSIGNED_LONGEVITY, propagate: true },
        ready: signed.sequence === expected,
      };
    },
    calls: {
      push_message: call({
        index: 0,
        origin: "signed",
        args: { destination: T.bytes, payload: T.bytes },
        weight: (a) => 20_000_000n + BigInt(a.payload.length) * 1_000n,
        docs: ["Pushes a message from the signing account to pRuntimes on a topic."],
        handler: (ctx, who, a) => pushMessage(ctx, { sender: { tag: "AccountId", value: who }, destination: a.destination, payload: a.payload }),
      }),
      sync_offchain_message: call({
        index: 1,
        origin: "none",
        args: { signed_message: SignedMessage },
        weight: (a) => 50_000_000n + BigInt(a.signed_message.message.payload.length) * 1_000n,
        docs: ["Accepts a message signed by a pRuntime-held key whose sequence number is the next expected one."],
        handler: (ctx, _none, a) => {
          const signed = a.signed_message;
          let origin: MessageOriginValue;
          try {
            const checked = checkSignedMessage(ctx.state, opts, signed);
            // The pool lets later sequences wait; a block applies only the next one, so none is ever skipped.
            if (signed.sequence !== checked.expected) return moduleError(PHALA_MQ_INDEX, PHALA_MQ_ERRORS, "BadSequence");
            origin = checked.origin;
          } catch (e) {
            if (!(e instanceof TransactionInvalid)) throw e;
            return moduleError(PHALA_MQ_INDEX, PHALA_MQ_ERRORS, e.validity.value.tag === "BadSigner" ? "BadSender" : e.validity.value.tag === "BadProof" ? "BadSignature" : "BadSequence");
          }
          PhalaMqStorage.OffchainIngress.set(ctx.state, origin, signed.sequence + 1n);
          const pushed = pushMessage(ctx, signed.message);
          if (pushed) return pushed;
          const handled = ctx.transactional(() => opts.onOffchainMessage(ctx, signed));
          if (handled) refused(ctx, origin, signed.sequence, handled);
          return undefined;
        },
      }),
    },
  });
}

function refused(ctx: DispatchContext, sender: MessageOriginValue, sequence: bigint, error: DispatchErrorValue): void {
  depositPalletEvent(ctx, PHALA_MQ_INDEX, PhalaMqEvent, { tag: "OffchainMessageRefused", value: { sender, sequence, error } });
}

export { Message };
