import type { KeyPair } from "@phala-ts/primitives";
import { signExtrinsic } from "@phala-ts/runtime";
import type { ChainClient } from "./chain-client.ts";

export interface SignedForChain {
  extrinsic: Uint8Array;
  nonce: number;
}

/**
 * Signs a call as the operator for the chain the node serves: nonce from
 * `system_accountNextIndex` (which counts the operator's transactions already in the pool),
 * genesis hash from `chain_getBlockHash(0)`, spec and transaction version from
 * `state_getRuntimeVersion`, immortal era, no tip. Everything is read fresh, so a runtime
 * upgrade or a restarted pHost signs correctly.
 */
export async function signAsOperator(chain: ChainClient, operator: KeyPair, callBytes: Uint8Array): Promise<SignedForChain> {
  const [genesisHash, version, nonce] = await Promise.all([chain.genesisHash(), chain.runtimeVersion(), chain.accountNextIndex(operator.accountId)]);
  const extrinsic = signExtrinsic({
    signer: operator,
    callBytes,
    nonce,
    specVersion: version.specVersion,
    transactionVersion: version.transactionVersion,
    genesisHash,
  });
  return { extrinsic, nonce };
}
