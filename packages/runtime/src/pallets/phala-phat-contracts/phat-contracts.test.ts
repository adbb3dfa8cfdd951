import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, keyPairFromUri, utf8 } from "@phala-ts/primitives";
import { decodeExact } from "../../types/index.ts";
import { topic, type MessageValue } from "../phala-mq/types.ts";
import { MasterPubkeyAnnouncement } from "../phala-registry/types.ts";
import { PhalaRegistryStorage } from "../phala-registry/storage.ts";
import { SystemStorage } from "../system/pallet.ts";
import { Nonces, alice, bob, chainWith, moduleErrorName, outbound, registration, signedMessage, sudo, worker } from "../../../test/phala-helpers.ts";
import { ClusterEvent, ClusterKeyPublished, ContractCommand, ContractKeyPublished, ContractTopics, clusterIdOf, contractIdOf } from "./types.ts";
import { CODE_SIZE_MAX, COMMAND_GAS_MAX, PhatContractsStorage, clusterPotAccount } from "./pallet.ts";
import { decAnyMetadata, unifyMetadata } from "@polkadot-api/substrate-bindings";
import { fromHex } from "@phala-ts/primitives";
import { T } from "../../types/index.ts";
import { buildRuntimeMetadata, METADATA_VERSIONS } from "../../metadata-assembly.ts";
import { createPhalaRuntime } from "../../phala-runtime.ts";

const pc = (tag: string, value: unknown) => ({ tag: "PhalaPhatContracts", value: { tag, value } });
const keys = (seed: string) => {
  const k = keyPairFromUri(seed, "ed25519");
  return { pair: k, pub: { pubkey: k.publicKey, ecdh_pubkey: blake2b256(k.publicKey) } };
};

/** A chain with two registered workers, a gatekeeper whose master key is on chain, and a cluster of both workers. */
async function clusterChain() {
  const chain = chainWith();
  const n = new Nonces();
  chain.block([]);
  const gk = worker("//Gk");
  const w1 = worker("//W1");
  const w2 = worker("//W2");
  chain.block([chain.sign(bob, await registration(chain, gk), n.next(bob))]);
  chain.block([chain.sign(bob, await registration(chain, w1), n.next(bob)), chain.sign(bob, await registration(chain, w2), n.next(bob))]);
  chain.block([chain.sign(alice, sudo({ tag: "PhalaRegistry", value: { tag: "register_gatekeeper", value: { pubkey: gk.identity.publicKey } } }), n.next(alice))]);
  const master = keyPairFromUri("//Master", "ed25519");
  const announce: MessageValue = { sender: { tag: "Worker", value: gk.identity.publicKey }, destination: topic("masterPubkey"), payload: MasterPubkeyAnnouncement.codec.enc({ master_pubkey: master.publicKey }) };
  chain.block([signedMessage(chain, gk.identity, announce, 0n)]);
  const add = chain.block([chain.sign(alice, sudo(pc("add_cluster", { owner: alice.accountId, workers: [w1.identity.publicKey, w2.identity.publicKey], gas_price: 1n, deposit_per_byte: 10n, deposit_per_item: 1000n })), n.next(alice))]);
  assert.deepEqual(add.outcomes[0], { success: true });
  const cluster = clusterIdOf(0n);
  const ev = decodeExact(ClusterEvent, outbound(chain)[0].payload);
  assert.equal(ev.tag, "ClusterCreated");
  return { chain, n, master, cluster, w1, w2 };
}

test("a cluster gets its key from the gatekeeper, code and instances, and each contract's key from the cluster", async () => {
  const { chain, n, master, cluster } = await clusterChain();
  const code = utf8("var __contract = { default: {} };");
  const codeHash = blake2b256(code);
  assert.deepEqual(chain.block([chain.sign(bob, pc("upload_code", { cluster, code }), n.next(bob))]).outcomes[0], { success: true });
  const uploaded = decodeExact(ClusterEvent, outbound(chain)[0].payload);
  assert.equal(uploaded.tag, "CodeUploaded");
  assert.deepEqual((uploaded.value as any).code, code, "the bundle travels to the workers through the queue");

  const inst = (salt: string) => chain.sign(bob, pc("instantiate_contract", { code_hash: codeHash, cluster, salt: utf8(salt), init_args: new Uint8Array([1, 2, 3]) }), n.next(bob));
  assert.equal(moduleErrorName(chain, chain.block([inst("a")]).outcomes[0]), "ClusterKeyMissing", "nothing can be encrypted to a cluster before its key exists");

  const clusterKeys = keys("//ClusterKey");
  const published: MessageValue = { sender: { tag: "Gatekeeper" }, destination: utf8(ContractTopics.clusterKey), payload: ClusterKeyPublished.codec.enc({ cluster, keys: clusterKeys.pub, shares: [] }) };
  assert.deepEqual(chain.block([signedMessage(chain, master, published, 0n)]).outcomes[0], { success: true });
  assert.deepEqual(PhalaRegistryStorage.ClusterKeys.get(chain.backend as any, cluster), clusterKeys.pub);

  assert.deepEqual(chain.block([inst("a")]).outcomes[0], { success: true });
  const contract = contractIdOf(bob.accountId, codeHash, cluster, utf8("a"));
  assert.ok(PhatContractsStorage.Contracts.get(chain.backend as any, contract));
  assert.equal(moduleErrorName(chain, chain.block([inst("a")]).outcomes[0]), "ContractExists");
  const missing = chain.sign(bob, pc("instantiate_contract", { code_hash: new Uint8Array(32), cluster, salt: utf8("b"), init_args: new Uint8Array() }), n.next(bob));
  assert.equal(moduleErrorName(chain, chain.block([missing]).outcomes[0]), "CodeNotFound");

  // The cluster publishes the contract's key, signed with the cluster key; a forged one is refused by the pool.
  const contractKeys = keys("//ContractKey");
  const contractKeyMsg: MessageValue = { sender: { tag: "Cluster", value: cluster }, destination: utf8(ContractTopics.contractKey), payload: ContractKeyPublished.codec.enc({ contract, keys: contractKeys.pub }) };
  assert.throws(() => chain.validator().validate(signedMessage(chain, master, contractKeyMsg, 0n)));
  assert.deepEqual(chain.block([signedMessage(chain, clusterKeys.pair, contractKeyMsg, 0n)]).outcomes[0], { success: true });
  assert.deepEqual(PhalaRegistryStorage.ContractKeys.get(chain.backend as any, contract), contractKeys.pub);

  // Commands: the ciphertext goes to the queue as is, with the deposit locked on chain.
  // A gas limit above CommandGasMax (or 0) is refused before anything moves: no deposit, no message.
  const freeBefore = SystemStorage.Account.get(chain.backend as any, alice.accountId).data.free;
  for (const gas_limit of [COMMAND_GAS_MAX + 1n, 0n]) {
    const tooMuch = chain.block([chain.sign(alice, pc("push_contract_message", { contract, payload: utf8("ciphertext"), deposit: 10n ** 12n, gas_limit }), n.next(alice))]);
    assert.equal(moduleErrorName(chain, tooMuch.outcomes[0]), "GasLimitTooHigh");
    assert.equal(outbound(chain).length, 0);
  }
  assert.ok(SystemStorage.Account.get(chain.backend as any, alice.accountId).data.free > freeBefore - 10n ** 12n, "the deposit stayed with the sender");
  assert.equal(PhatContractsStorage.ClusterLocked.get(chain.backend as any, cluster), 0n);
  const before = SystemStorage.Account.get(chain.backend as any, alice.accountId).data.free;
  const push = chain.block([chain.sign(alice, pc("push_contract_message", { contract, payload: utf8("ciphertext"), deposit: 10n ** 12n, gas_limit: COMMAND_GAS_MAX }), n.next(alice))]);
  assert.deepEqual(push.outcomes[0], { success: true });
  const msgs = outbound(chain);
  const deposit = decodeExact(ClusterEvent, msgs[0].payload);
  assert.equal(deposit.tag, "Deposit");
  const cmd = decodeExact(ContractCommand, msgs[1].payload);
  assert.deepEqual(cmd.contract, contract);
  assert.equal(cmd.gas_limit, COMMAND_GAS_MAX);
  assert.deepEqual(msgs[1].sender, { tag: "AccountId", value: alice.accountId });
  assert.ok(SystemStorage.Account.get(chain.backend as any, alice.accountId).data.free <= before - 10n ** 12n);
  assert.equal(SystemStorage.Account.get(chain.backend as any, clusterPotAccount(cluster)).data.free, 10n ** 12n);
  assert.equal(PhatContractsStorage.ClusterLocked.get(chain.backend as any, cluster), 10n ** 12n);
});

test("cluster membership and limits are enforced", async () => {
  const { chain, n, cluster, w1 } = await clusterChain();
  const dup = chain.block([chain.sign(alice, sudo(pc("add_worker_to_cluster", { cluster, worker: w1.identity.publicKey })), n.next(alice))]);
  // Sudo succeeds; its inner result is in the Sudid event. Read the cluster instead.
  assert.deepEqual(dup.outcomes[0], { success: true });
  assert.equal(PhatContractsStorage.Clusters.get(chain.backend as any, cluster)!.workers.length, 2);
  chain.block([chain.sign(alice, sudo(pc("remove_worker_from_cluster", { cluster, worker: w1.identity.publicKey })), n.next(alice))]);
  assert.equal(PhatContractsStorage.Clusters.get(chain.backend as any, cluster)!.workers.length, 1);
  assert.equal(decodeExact(ClusterEvent, outbound(chain)[0].payload).tag, "WorkerRemoved");
  const big = chain.sign(bob, pc("upload_code", { cluster, code: new Uint8Array(CODE_SIZE_MAX + 1) }), n.next(bob));
  assert.equal(moduleErrorName(chain, chain.block([big]).outcomes[0]), "CodeTooLarge");
  const notRoot = chain.sign(bob, pc("add_cluster", { owner: bob.accountId, workers: [], gas_price: 1n, deposit_per_byte: 1n, deposit_per_item: 1n }), n.next(bob));
  assert.deepEqual((chain.block([notRoot]).outcomes[0] as any).error, { tag: "BadOrigin", value: undefined });
  const toNowhere = chain.sign(bob, pc("transfer_to_cluster", { amount: 1n, cluster: new Uint8Array(32), dest_account: bob.accountId }), n.next(bob));
  assert.equal(moduleErrorName(chain, chain.block([toNowhere]).outcomes[0]), "ClusterNotFound");
});

test("runtime metadata carries PhalaPhatContracts.CommandGasMax as a u64, so wallets and the SDK can read the cap", () => {
  const runtime = createPhalaRuntime();
  for (const version of METADATA_VERSIONS) {
    const metadata = unifyMetadata(decAnyMetadata(buildRuntimeMetadata(runtime, version)));
    const pallet = metadata.pallets.find((p) => p.name === "PhalaPhatContracts");
    const constant = pallet?.constants.find((c) => c.name === "CommandGasMax");
    assert.ok(constant, `v${version}: PhalaPhatContracts.CommandGasMax is in the metadata`);
    const type = metadata.lookup[constant.type];
    assert.deepEqual(type.def, { tag: "primitive", value: { tag: "u64", value: undefined } }, `v${version}: a u64`);
    const value = typeof constant.value === "string" ? fromHex(constant.value) : constant.value;
    assert.equal(T.u64.codec.dec(value), COMMAND_GAS_MAX);
  }
});
