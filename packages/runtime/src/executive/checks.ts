import { bytesEqual, toHex, verifyMultiSignature, writeU32le } from "@phala-ts/primitives";
import type { StateAccess } from "../state/storage-item.ts";
import { SystemStorage } from "../pallets/system/pallet.ts";
import { lookupAddress, canWithdrawKeepAlive } from "../pallets/balances/logic.ts";
import { inclusionFee, EXTRINSIC_BASE_WEIGHT } from "../pallets/transaction-payment/fees.ts";
import { eraBirth, eraDeath } from "../types/era.ts";
import { signingPayload, type DecodedExtrinsic, type SignedPart } from "../extrinsic/unchecked.ts";
import { MAX_NORMAL_LENGTH_BYTES, MAX_NORMAL_REF_TIME } from "./limits.ts";
import { TransactionInvalid, invalid, unknown, type ValidTransactionValue } from "./validity.ts";

export interface CheckEnv {
  state: StateAccess;
  /** Number of the block the transaction is checked for (best + 1 in the pool). */
  current: number;
  specVersion: number;
  transactionVersion: number;
}

export interface CheckedSigned {
  who: Uint8Array;
  signed: SignedPart;
  accountNonce: number;
  callWeight: bigint;
  fee: bigint;
  len: number;
  valid: ValidTransactionValue;
}

const ZERO = new Uint8Array(32);
const U64_MAX = (1n << 64n) - 1n;

function blockHashAt(s: StateAccess, n: number): Uint8Array | undefined {
  const raw = s.get(SystemStorage.BlockHash.key(n));
  return raw === undefined ? undefined : SystemStorage.BlockHash.type.codec.dec(raw);
}

/** `who ++ nonce` as the tag CheckNonce provides and requires. */
export function nonceTag(who: Uint8Array, nonce: number): Uint8Array {
  const out = new Uint8Array(36);
  out.set(who);
  writeU32le(out, 32, nonce);
  return out;
}

/** The signer and the exact bytes its signature must cover, for checking here or on another thread. */
export interface SignatureCheck {
  who: Uint8Array;
  signature: SignedPart["signature"];
  payload: Uint8Array;
}

/**
 * Resolves the signer and builds the signed payload (call ++ extra ++ additional signed):
 * CheckNonZeroSender, CheckSpecVersion, CheckTxVersion, CheckGenesis and CheckMortality.
 */
export function signatureCheckFor(env: CheckEnv, x: DecodedExtrinsic): SignatureCheck & { genesisHash: Uint8Array; birth: number } {
  const s = signerOf(env, x);
  return { who: s.who, signature: x.signed!.signature, payload: payloadOf(env, x, s), genesisHash: s.genesisHash, birth: s.birth };
}

interface Signer {
  who: Uint8Array;
  genesisHash: Uint8Array;
  birth: number;
  eraHash: Uint8Array;
}

/** The checks behind signatureCheckFor, without building the payload (which a signature already verified does not need). */
function signerOf(env: CheckEnv, x: DecodedExtrinsic): Signer {
  const signed = x.signed!;
  const who = lookupAddress(signed.address);
  if (who === undefined) throw new TransactionInvalid(unknown("CannotLookup"), "only MultiAddress::Id addresses exist on this chain");
  if (bytesEqual(who, ZERO)) throw new TransactionInvalid(invalid("BadSigner"));
  const genesisHash = blockHashAt(env.state, 0);
  if (genesisHash === undefined) throw new Error("System.BlockHash[0] is missing: the block was not initialized");
  const birth = eraBirth(signed.era, env.current);
  const eraHash = birth === 0 ? genesisHash : blockHashAt(env.state, birth);
  if (eraHash === undefined) throw new TransactionInvalid(invalid("AncientBirthBlock"), `no hash for birth block #${birth}`);
  return { who, genesisHash, birth, eraHash };
}

function payloadOf(env: CheckEnv, x: DecodedExtrinsic, s: Signer): Uint8Array {
  return signingPayload(x.callBytes, x.signed!.extra, {
    specVersion: env.specVersion,
    transactionVersion: env.transactionVersion,
    genesisHash: s.genesisHash,
    eraBlockHash: s.eraHash,
  });
}

/**
 * The signed extensions' checks in order: CheckNonZeroSender, CheckSpecVersion,
 * CheckTxVersion, CheckGenesis, CheckMortality, CheckNonce, CheckWeight,
 * ChargeTransactionPayment. Throws TransactionInvalid; reads state, never writes it.
 */
export function checkSigned(
  env: CheckEnv,
  x: DecodedExtrinsic,
  callWeight: bigint,
  opts: { verifySignature: boolean },
): CheckedSigned {
  const signed = x.signed!;
  const signer = signerOf(env, x);
  const { who, genesisHash, birth } = signer;
  if (opts.verifySignature && !verifyMultiSignature(signed.signature, payloadOf(env, x, signer), who)) {
    // A signature over the previous era window means the transaction outlived its era:
    // say so instead of the bare "bad signature" Substrate gives.
    if (signed.era.kind === "mortal" && birth >= signed.era.period) {
      const older = blockHashAt(env.state, birth - signed.era.period);
      const add = { specVersion: env.specVersion, transactionVersion: env.transactionVersion, genesisHash };
      if (older && verifyMultiSignature(signed.signature, signingPayload(x.callBytes, signed.extra, { ...add, eraBlockHash: older }), who)) {
        throw new TransactionInvalid(invalid("AncientBirthBlock"), "the transaction's mortality era has expired");
      }
    }
    throw new TransactionInvalid(invalid("BadProof"));
  }

  const account = SystemStorage.Account.get(env.state, who);
  if (signed.nonce < account.nonce) throw new TransactionInvalid(invalid("Stale"), `nonce ${signed.nonce} is below the account's next nonce ${account.nonce}`);

  const len = x.bytes.length;
  if (EXTRINSIC_BASE_WEIGHT + callWeight > MAX_NORMAL_REF_TIME || len > MAX_NORMAL_LENGTH_BYTES) {
    throw new TransactionInvalid(invalid("ExhaustsResources"));
  }

  const fee = inclusionFee(len, callWeight) + signed.tip;
  if (!canWithdrawKeepAlive(env.state, who, fee)) {
    throw new TransactionInvalid(invalid("Payment"), `the fee of ${fee} plancks cannot be paid from ${toHex(who)}`);
  }

  const requires = signed.nonce > account.nonce ? [nonceTag(who, signed.nonce - 1)] : [];
  const longevity = signed.era.kind === "immortal" ? U64_MAX : BigInt(eraDeath(signed.era, env.current) - env.current);
  // Priority grows with the tip per unit of the block it uses, like Substrate's.
  const priority = signed.tip > U64_MAX ? U64_MAX : signed.tip;
  return {
    who,
    signed,
    accountNonce: account.nonce,
    callWeight,
    fee,
    len,
    valid: { priority, requires, provides: [nonceTag(who, signed.nonce)], longevity, propagate: true },
  };
}

