import type { KeyPair } from "@phala-ts/primitives";
import { encodeExtra, encodeSignedExtrinsic, signingPayload } from "./unchecked.ts";
import type { EraValue as Era } from "../types/era.ts";

export interface SignParams {
  signer: KeyPair;
  callBytes: Uint8Array;
  nonce: number;
  tip?: bigint;
  era?: Era;
  specVersion: number;
  transactionVersion: number;
  genesisHash: Uint8Array;
  /** Hash of the era's birth block; the genesis hash for immortal transactions. */
  eraBlockHash?: Uint8Array;
}

/** Builds a signed v4 extrinsic as wallets do (used by the CLI, tests and benchmarks). */
export function signExtrinsic(p: SignParams): Uint8Array {
  const era = p.era ?? { kind: "immortal" };
  const extra = encodeExtra(era, p.nonce, p.tip ?? 0n);
  const payload = signingPayload(p.callBytes, extra, {
    specVersion: p.specVersion,
    transactionVersion: p.transactionVersion,
    genesisHash: p.genesisHash,
    eraBlockHash: p.eraBlockHash ?? p.genesisHash,
  });
  return encodeSignedExtrinsic(p.signer.accountId, { type: p.signer.type, signature: p.signer.sign(payload) }, extra, p.callBytes);
}
