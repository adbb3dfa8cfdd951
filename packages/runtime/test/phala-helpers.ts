/** Shared by the Phala pallet tests: a mock chain with a policy, dev workers and message helpers. */
import assert from "node:assert/strict";
import { blake2b256, devAccount, keyPairFromUri, toHex, utf8, type KeyPair } from "@phala-ts/primitives";
import { DevProvider, devPolicy, encodeEvidence, encodePolicy } from "@phala-ts/attestation";
import { MockChain } from "./mock-chain.ts";
import { encodeUnsignedExtrinsic } from "../src/extrinsic/unchecked.ts";
import { decodeExact } from "../src/types/index.ts";
import { PhalaMqStorage } from "../src/pallets/phala-mq/storage.ts";
import { MessageList, egressSigningPayload, type MessageValue } from "../src/pallets/phala-mq/types.ts";
import { registrationReportData, type WorkerRegistrationInfoValue } from "../src/pallets/phala-registry/types.ts";

export const alice = devAccount("Alice", "sr25519");
export const bob = devAccount("Bob", "sr25519");
export const MEASUREMENT = blake2b256(utf8("pruntime build"));

export function chainWith(policy = devPolicy()): MockChain {
  return new MockChain({ balances: [[alice.accountId, 10n ** 18n], [bob.accountId, 10n ** 18n]], sudoKey: alice.accountId, attestationPolicy: encodePolicy(policy) });
}

export class Nonces {
  #n = new Map<string, number>();
  next(k: KeyPair): number {
    const v = this.#n.get(toHex(k.accountId)) ?? 0;
    this.#n.set(toHex(k.accountId), v + 1);
    return v;
  }
}

export function worker(seedUri: string) {
  const identity = keyPairFromUri(seedUri, "ed25519");
  return { identity, ecdh: blake2b256(identity.publicKey) };
}

export async function registration(chain: MockChain, w: ReturnType<typeof worker>, opts: { bindOtherKey?: boolean; signer?: KeyPair } = {}) {
  const info: WorkerRegistrationInfoValue = {
    version: 1,
    genesis_hash: chain.hashes[0],
    pubkey: w.identity.publicKey,
    ecdh_pubkey: w.ecdh,
    runtime_version: 1,
    operator: bob.accountId,
  };
  const bound = opts.bindOtherKey ? { ...info, ecdh_pubkey: new Uint8Array(32).fill(7) } : info;
  const evidence = await new DevProvider({ signingKey: opts.signer ?? w.identity, measurement: MEASUREMENT }).getEvidence(registrationReportData(bound));
  return { tag: "PhalaRegistry", value: { tag: "register_worker", value: { info, evidence: encodeEvidence(evidence) } } };
}

export const sudo = (inner: unknown) => ({ tag: "Sudo", value: { tag: "sudo", value: { call: inner } } });

export function moduleErrorName(chain: MockChain, outcome: any): string {
  assert.equal(outcome.success, false, "expected the call to fail");
  const e = outcome.error;
  assert.equal(e.tag, "Module");
  const pallet = chain.runtime.pallets.find((p) => p.index === e.value.index)!;
  return (pallet.def.errors as readonly string[])[e.value.error[0]];
}

export function outbound(chain: MockChain): MessageValue[] {
  const raw = chain.backend.get(PhalaMqStorage.OutboundMessages.key());
  return raw ? decodeExact(MessageList, raw) : [];
}

export function signedMessage(chain: MockChain, key: KeyPair, message: MessageValue, sequence: bigint) {
  // Blocks after the first record the real genesis hash in System.BlockHash[0].
  const signature = key.sign(egressSigningPayload(chain.hashes[0], message, sequence));
  return encodeUnsignedExtrinsic(chain.runtime.call.codec.enc({ tag: "PhalaMq", value: { tag: "sync_offchain_message", value: { signed_message: { message, sequence, signature } } } }));
}

