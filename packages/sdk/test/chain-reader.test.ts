/**
 * The SDK believes no RPC node: the trust anchor, certificates, validator-set changes, read
 * proofs and key provenance, each against a fake chain that is a real certified chain and can
 * be made to lie.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { fromHex, keyPairFromUri, toHex, utf8 } from "@phala-ts/primitives";
import * as certificateTools from "@phala-ts/runtime/consensus";
import { decodeHeader, encodeHeader, headerHash } from "@phala-ts/runtime/consensus";
import { PhalaClient, PhalaSdkError, type PhalaClientOptions } from "@phala-ts/sdk";
import { FakeCluster } from "./fake-cluster.ts";
import { VALIDATOR, type FakeNode } from "./fake-node.ts";

const alice = keyPairFromUri("//Alice");
const FAST: PhalaClientOptions = { pollIntervalMs: 20, contractKeyTimeoutMs: 1500, resultTimeoutMs: 1500, workerTimeoutMs: 2000, finalizationTimeoutMs: 5000 };
const devSpec = { genesis: { runtimeGenesis: { patch: { validators: [{ id: toHex(VALIDATOR.publicKey), power: 1 }] } } } };

let fake: FakeCluster;
let node: FakeNode;
let salts = 0;

before(async () => {
  fake = await FakeCluster.start();
  node = fake.node;
});

after(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
  node.tamper = undefined;
});

function unverifiedAt(link: string) {
  return (e: unknown) => {
    assert.ok(e instanceof PhalaSdkError, `expected a PhalaSdkError, got ${String(e)}`);
    assert.equal(e.code, "CHAIN_UNVERIFIED", e.message);
    assert.equal(e.details?.link, link, e.message);
    return true;
  };
}

const connect = (opts: PhalaClientOptions = {}) => PhalaClient.connect(node.url, { ...FAST, trust: { genesisHash: node.genesisHash }, ...opts });

async function deployed(client: PhalaClient): Promise<string> {
  const codeHash = await client.uploadCode(alice, fake.clusterId, utf8("globalThis.__contract={default:{}}"));
  return client.instantiate(alice, { codeHash, cluster: fake.clusterId, salt: `reader-${++salts}`, gasLimit: 1_000_000 });
}

test("the trust anchor is required, and the node's genesis must be the anchor's", async () => {
  await assert.rejects(PhalaClient.connect(node.url, FAST), (e: unknown) => e instanceof PhalaSdkError && e.code === "INVALID_ARGUMENT" && /say which chain to trust/.test(e.message));
  await assert.rejects(connect({ trust: { genesisHash: new Uint8Array(32).fill(1) } }), unverifiedAt("genesis"));
  const bob = keyPairFromUri("//Bob", "ed25519");
  await assert.rejects(connect({ trust: { chainSpec: { genesis: { runtimeGenesis: { patch: { validators: [{ id: toHex(bob.publicKey), power: 1 }] } } } } } }), unverifiedAt("genesis"));
  const bySpec = await connect({ trust: { chainSpec: JSON.stringify(devSpec) } });
  assert.equal(bySpec.trust, "chain-spec");
  bySpec.close();
  const tofu = await connect({ trust: { trustOnFirstUse: true } });
  assert.equal(tofu.trust, "trust-on-first-use");
  assert.deepEqual(tofu.genesisHash, node.genesisHash);
  tofu.close();
});

test("a storage value changed in its proof, a header that is not the block's, and a certificate by someone else are refused", async () => {
  const client = await connect();
  try {
    const cluster = toHex(fake.clusterId);
    assert.equal((await client.cluster(cluster)).workers.length, 2);
    // The cluster's x25519 key inside a proof node, one bit changed.
    const needle = fake.clusterEcdh.publicKey;
    node.tamper = (method, _p, result: any) => {
      if (method !== "state_getReadProof") return result;
      return { ...result, proof: result.proof.map((n: string) => n.replace(toHex(needle).slice(2), toHex(needle).slice(2, -1) + (needle[31] & 1 ? "e" : "f"))) };
    };
    await assert.rejects(client.cluster(cluster), unverifiedAt("proof"));
    node.tamper = (method, _p, result: any) => {
      if (method !== "phala_proveFinality") return result;
      const h = decodeHeader(fromHex(result.header));
      return { ...result, header: toHex(encodeHeader({ ...h, state_root: new Uint8Array(32).fill(7) })) };
    };
    await assert.rejects(client.cluster(cluster), unverifiedAt("header"));
    // A consistent lie: the header is the block's, but the certificate is signed by a non-validator.
    const mallory = keyPairFromUri("//Mallory", "ed25519");
    node.tamper = (method, _p, result: any) => {
      if (method !== "phala_proveFinality") return result;
      const h = decodeHeader(fromHex(result.header));
      const hash = headerHash(fromHex(result.header));
      const { encodeCertificate, signPrecommit } = certificateTools;
      return { ...result, certificate: toHex(encodeCertificate({ height: h.number, round: 0, block_hash: hash, set_id: 0n, precommits: [{ validator: 0, signature: signPrecommit(mallory, node.genesisHash, h.number, 0, hash) }] })) };
    };
    await assert.rejects(client.cluster(cluster), unverifiedAt("certificate"));
    node.tamper = undefined;
    assert.equal((await client.cluster(cluster)).workers.length, 2);
  } finally {
    client.close();
  }
});


test("validator-set changes are followed from the headers that announce them; a forged change is refused", async () => {
  const client = await connect();
  const later = keyPairFromUri("//Bob", "ed25519");
  const other = keyPairFromUri("//Charlie", "ed25519");
  try {
    const before = client.chain.validatorSet.set_id;
    node.announceValidators([later, other]);
    node.head();
    node.put(utf8("a change after the set change"), utf8("x"));
    assert.equal((await client.cluster(fake.clusterId)).id, toHex(fake.clusterId));
    assert.equal(client.chain.validatorSet.set_id, before + 1n);
    assert.deepEqual(client.chain.validatorSet.validators.map((v) => toHex(v.public_key)), [toHex(later.publicKey), toHex(other.publicKey)]);
    // A fresh client follows the same change from genesis.
    const fresh = await connect();
    assert.equal((await fresh.cluster(fake.clusterId)).workers.length, 2);
    assert.equal(fresh.chain.validatorSet.set_id, before + 1n);
    fresh.close();
    // A node that hides the set change leaves the client with a set that did not sign the head.
    node.tamper = (method, _p, result: any) => (method === "phala_proveFinality" ? { ...result, setChanges: [] } : result);
    const hidden = await connect();
    await assert.rejects(hidden.cluster(fake.clusterId), unverifiedAt("certificate"));
    hidden.close();
    // A node that invents a set change: the announcing header is not certified by the set before it.
    node.tamper = (method, _p, result: any) => {
      if (method !== "phala_proveFinality" || result.setChanges.length === 0) return result;
      const c = result.setChanges[0];
      const h = decodeHeader(fromHex(c.header));
      return { ...result, setChanges: [{ ...c, header: toHex(encodeHeader({ ...h, digest: { logs: [certificateTools.validatorSetDigest({ set_id: 1n, validators: [{ public_key: keyPairFromUri("//Mallory", "ed25519").publicKey, power: 1n }] })] } })) }] };
    };
    const forged = await connect();
    await assert.rejects(forged.cluster(fake.clusterId), unverifiedAt("set-change"));
    forged.close();
  } finally {
    client.close();
  }
});

test("the provenance of a contract key is returned link by link, and a key its cluster did not sign is never used", async () => {
  const client = await connect();
  try {
    const id = await deployed(client);
    const p = await client.keyProvenance({ contract: id });
    assert.equal(p.contract?.id, id);
    assert.equal(p.contract?.pubkey, toHex(fake.contractSigner.publicKey));
    assert.equal(p.contract?.ecdhPubkey, toHex(fake.contractEcdh.publicKey));
    assert.equal(p.cluster.id, toHex(fake.clusterId));
    assert.equal(p.cluster.pubkey, toHex(fake.clusterSigner.publicKey));
    assert.equal(p.cluster.masterRotation, 0);
    assert.deepEqual(p.masterKeys, [{ rotation: 0, pubkey: toHex(fake.master.publicKey) }]);
    assert.equal(p.gatekeeper.worker, toHex(fake.member1.identity));
    assert.equal(p.gatekeeper.tee, "Dev");
    assert.equal(p.gatekeeper.confidenceLevel, 128);
    assert.equal(p.gatekeeper.isGatekeeper, true);

    // The same key published again, signed by a key that is not the cluster's.
    const mallory = keyPairFromUri("//Mallory", "ed25519");
    fake.publishContractKey(fromHex(id), fake.clusterId, { pubkey: fake.contractSigner.publicKey, ecdh_pubkey: fake.contractEcdh.publicKey }, mallory);
    const submitted = node.submitted.length;
    const fresh = await connect();
    try {
      await assert.rejects(fresh.contract(id).send(alice, { text: "never encrypted" }, { gasLimit: 1 }), unverifiedAt("provenance"));
      assert.equal(node.submitted.length, submitted, "a command was submitted to a key without provenance");
      // A cluster key the master key did not sign: nothing is deployed to it.
      fake.publishClusterKeys(fake.clusterId, { pubkey: fake.clusterSigner.publicKey, ecdh_pubkey: fake.clusterEcdh.publicKey }, mallory);
      await assert.rejects(fresh.instantiate(alice, { codeHash: new Uint8Array(32), cluster: fake.clusterId, gasLimit: 1 }), unverifiedAt("provenance"));
      assert.equal(node.submitted.length, submitted);
    } finally {
      fresh.close();
      fake.publishClusterKeys(fake.clusterId, { pubkey: fake.clusterSigner.publicKey, ecdh_pubkey: fake.clusterEcdh.publicKey });
    }
  } finally {
    client.close();
  }
});

test("a finalized block older than maxStalenessMs is refused as stale", async () => {
  const client = await connect({ now: () => Date.now() + 10 * 60_000 });
  try {
    await assert.rejects(client.cluster(fake.clusterId), unverifiedAt("stale"));
  } finally {
    client.close();
  }
});
