import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, keyPairFromUri, toHex, utf8, x25519KeyPair } from "@phala-ts/primitives";
import { commandIdOf, contractIdOf, queryIdOf } from "@phala-ts/runtime/phala";
import { SystemStorage } from "@phala-ts/runtime";
import { PhalaClient, PhalaSdkError, type PhalaClientOptions } from "@phala-ts/sdk";
import { FakeCluster } from "./fake-cluster.ts";
import { FakeNode } from "./fake-node.ts";
import type { FakeWorker } from "./fake-worker.ts";
import { commandResult, failure, openCommand, outcome, queryBatchResponse, queryResponse, workerKeys, type WorkerKeys } from "./fake-worker-crypto.ts";

const alice = keyPairFromUri("//Alice");
const bob = keyPairFromUri("//Bob", "ed25519");
const MARKER = "MARKER-c0ffee-do-not-leak";
/** Short timeouts; the fake chain's genesis (set in `before`) is the trust anchor. */
let FAST: PhalaClientOptions = { pollIntervalMs: 20, contractKeyTimeoutMs: 1500, resultTimeoutMs: 1500, workerTimeoutMs: 2000, finalizationTimeoutMs: 5000 };

let fake: FakeCluster;
let client: PhalaClient;
let node: FakeNode;
let w1: FakeWorker;
let w2: FakeWorker;
let w3: FakeWorker;
let clusterId: Uint8Array;
let keylessCluster: Uint8Array;
let contractEcdh: FakeCluster["contractEcdh"];
let clusterEcdh: FakeCluster["clusterEcdh"];
let member1: WorkerKeys;
let member2: WorkerKeys;
let outsider: WorkerKeys;
let salts = 0;

before(async () => {
  fake = await FakeCluster.start();
  ({ node, w1, w2, w3, clusterId, keylessCluster, contractEcdh, clusterEcdh, member1, member2, outsider } = fake);
  FAST = { ...FAST, trust: { genesisHash: node.genesisHash } };
  client = await PhalaClient.connect(node.url, FAST);
});

after(async () => {
  client?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

function refusedWith(code: string, where: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof PhalaSdkError, `expected a PhalaSdkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.where, where, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

async function deploy(salt = `salt-${++salts}`): Promise<string> {
  const codeHash = await client.uploadCode(alice, clusterId, utf8("globalThis.__contract={default:{}}"));
  return client.instantiate(alice, { codeHash, cluster: clusterId, salt, initArgs: { owner: MARKER }, gasLimit: 1_000_000 });
}

test("clusters and their workers, registrations and endpoints come from chain state", async () => {
  const list = await client.clusters();
  assert.deepEqual(list.map((c) => c.id).sort(), [toHex(clusterId), toHex(keylessCluster)].sort());
  const c = await client.cluster(clusterId);
  assert.equal(c.gasPrice, 5n);
  assert.equal(c.publicKeys?.ecdhPubkey, toHex(clusterEcdh.publicKey));
  assert.deepEqual(c.workers.map((w) => [w.pubkey, w.endpoint?.url, w.info?.confidence_level]), [
    [toHex(member1.identity), w1.url, 128],
    [toHex(member2.identity), w2.url, 128],
  ]);
  assert.equal((await client.cluster(keylessCluster)).publicKeys, undefined);
  await assert.rejects(client.cluster(new Uint8Array(32)), refusedWith("CLUSTER_NOT_FOUND", "chain", /no cluster/));
});

test("deploy: upload, then instantiate with init args only the cluster can read, returning once the contract key is on chain", async () => {
  const code = utf8("globalThis.__contract={default:{}}");
  const codeHash = await client.uploadCode(alice, clusterId, code);
  assert.equal(codeHash, toHex(blake2b256(code)));
  const contractId = await client.instantiate(alice, { codeHash, cluster: clusterId, salt: "one", initArgs: { owner: MARKER }, gasLimit: 1_000_000 });
  assert.equal(contractId, toHex(contractIdOf(alice.accountId, blake2b256(code), clusterId, utf8("one"))));
  assert.deepEqual(fake.initSeen, [{ owner: MARKER }]);
  const onChain = node.submitted.at(-1)!;
  assert.equal(onChain.name, "instantiate_contract");
  assert.ok(!toHex(onChain.args.init_args).includes(Buffer.from(MARKER).toString("hex")), "init args are not on chain in clear");
  const details = await client.contract(contractId).details();
  assert.equal(details.publicKeys?.ecdhPubkey, toHex(contractEcdh.publicKey));
  const again = await client.instantiateDetailed(alice, { codeHash, cluster: clusterId, salt: "two", initArgs: [1], gasLimit: 10 });
  assert.deepEqual(again.init, { output: null, gasUsed: 77n, fee: 0n, events: [] });
});

test("a failed init is reported with the contract id and where it failed", async () => {
  fake.initOutcome = failure("contract", "owner must be an account");
  await assert.rejects(deploy(), (e: unknown) => {
    assert.ok(e instanceof PhalaSdkError);
    assert.equal(e.where, "contract");
    assert.match(e.message, /^contract 0x[0-9a-f]{64} exists on chain, but the init failed: the contract refused the input: owner must be an account/);
    assert.match(String(e.details?.contract), /^0x[0-9a-f]{64}$/);
    return true;
  });
});

test("instantiate refuses a cluster without a key on chain and submits nothing", async () => {
  const before = node.submitted.length;
  await assert.rejects(
    client.instantiate(alice, { codeHash: new Uint8Array(32), cluster: keylessCluster, initArgs: { owner: MARKER }, gasLimit: 1 }),
    refusedWith("CLUSTER_KEY_MISSING", "chain", /no public key on chain yet.*never sent in plaintext/),
  );
  assert.equal(node.submitted.length, before);
});

test("instantiate times out with a clear error when the cluster never publishes the contract key", async () => {
  fake.publishContractKeys = false;
  await assert.rejects(deploy(), refusedWith("CONTRACT_KEY_TIMEOUT", "worker", /public key did not appear on chain within 1500 ms/));
});

test("after a send, queries on the same handle go first to the worker that served its result (it has executed the write)", async () => {
  const contract = client.contract(await deploy());
  fake.serving = [w2];
  const sent = await contract.send(alice, { op: "add" }, { gasLimit: 50_000 });
  assert.equal(sent.worker, toHex(member2.identity));
  for (let i = 0; i < 8; i++) assert.equal((await contract.queryDetailed(alice, { op: "list", i })).worker, toHex(member2.identity));
  // A handle that sent nothing spreads its queries over the members.
  const fresh = client.contract(contract.id);
  const seen = new Set<string>();
  for (let i = 0; i < 32 && seen.size < 2; i++) seen.add((await fresh.queryDetailed(alice, { op: "list", i })).worker);
  assert.equal(seen.size, 2);
});

test("send: the command is encrypted on chain, the result is read from a worker and decrypted", async () => {
  const contract = client.contract(await deploy());
  fake.execute = (command, sender) => {
    assert.deepEqual(sender, alice.accountId);
    return outcome({ index: 0, got: command }, { events: [{ topic: "noteAdded", data: JSON.stringify({ index: 0 }) }] });
  };
  const r = await contract.send(alice, { op: "add", text: MARKER }, { gasLimit: 50_000, deposit: 10n ** 12n });
  assert.deepEqual(r.output, { index: 0, got: { op: "add", text: MARKER } });
  assert.equal(r.gasUsed, 1234n);
  assert.equal(r.fee, 6170n);
  assert.deepEqual(r.events, [{ topic: "noteAdded", data: { index: 0 } }]);
  const pushed = node.submitted.at(-1)!;
  assert.equal(pushed.name, "push_contract_message");
  assert.equal(pushed.args.deposit, 10n ** 12n);
  assert.equal(r.commandId, toHex(commandIdOf(alice.accountId, pushed.args.payload)));
  assert.ok(!toHex(pushed.args.payload).includes(Buffer.from(MARKER).toString("hex")), "the command is not on chain in clear");
  assert.ok([toHex(member1.identity), toHex(member2.identity)].includes(r.worker));
});

test("send skips a worker that serves a forged result and reads the genuine one from another", async () => {
  const contract = client.contract(await deploy());
  fake.serving = [w2];
  // Worker 1 serves, for every command, a result made without the contract key.
  const origServe = w1.serve.bind(w1);
  const forger = x25519KeyPair(new Uint8Array(32).fill(77));
  const prevOnCall = node.onCall;
  node.onCall = (c) => {
    const v = prevOnCall(c);
    if (c.name === "push_contract_message") {
      const { senderPubkey } = openCommand(c.args.payload, contractEcdh, c.args.contract, c.signer);
      const id = commandIdOf(c.signer, c.args.payload);
      origServe(c.args.contract, id, commandResult(outcome({ forged: true }), { contractId: c.args.contract, commandId: id, senderPubkey, contractEcdh: forger }));
    }
    return v;
  };
  const r = await contract.send(alice, { op: "x" }, { gasLimit: 10 });
  assert.deepEqual(r.output, { echo: { op: "x" } });
  assert.equal(r.worker, toHex(member2.identity));
});

test("results served as JSON hex are read too", async () => {
  const contract = client.contract(await deploy());
  w1.jsonResults = w2.jsonResults = true;
  try {
    assert.deepEqual((await contract.send(alice, 42, { gasLimit: 10 })).output, { echo: 42 });
  } finally {
    w1.jsonResults = w2.jsonResults = false;
  }
});

test("send reports a contract error, out of gas and a missing cluster balance with where and what to do", async () => {
  const contract = client.contract(await deploy());
  fake.execute = () => failure("contract", "text must be a non-empty string", 7n);
  await assert.rejects(contract.send(alice, { op: "add" }, { gasLimit: 10 }), refusedWith("CONTRACT_ERROR", "contract", /refused the input: text must be a non-empty string/));
  fake.execute = () => failure("gas", "out of gas", 10n);
  await assert.rejects(contract.send(alice, { op: "loop" }, { gasLimit: 10 }), refusedWith("OUT_OF_GAS", "gas", /higher gas limit/));
  fake.execute = () => failure("insufficient-balance", "cluster balance 0");
  await assert.rejects(contract.send(alice, { op: "add" }, { gasLimit: 10 }), refusedWith("INSUFFICIENT_BALANCE", "gas", /deposit PHA into the cluster/));
});

test("send refuses a contract whose key is not on chain and submits nothing", async () => {
  fake.publishContractKeys = false;
  const codeHash = await client.uploadCode(alice, clusterId, utf8("code"));
  const id = await client.instantiate(alice, { codeHash, cluster: clusterId, gasLimit: 1 }).catch((e: PhalaSdkError) => {
    assert.equal(e.code, "CONTRACT_KEY_TIMEOUT");
    return e.details!.contract as string;
  });
  const before = node.submitted.length;
  await assert.rejects(client.contract(id).send(alice, { text: MARKER }, { gasLimit: 1 }), refusedWith("CONTRACT_KEY_MISSING", "chain", /never sent in plaintext/));
  await assert.rejects(client.contract(new Uint8Array(32)).send(alice, {}, { gasLimit: 1 }), refusedWith("CONTRACT_NOT_FOUND", "chain", /no contract/));
  assert.equal(node.submitted.length, before);
});

test("a result no worker serves ends in RESULT_TIMEOUT, which says the command is not lost", async () => {
  const contract = client.contract(await deploy());
  fake.serving = [];
  await assert.rejects(contract.send(alice, {}, { gasLimit: 1, resultTimeoutMs: 300 }), refusedWith("RESULT_TIMEOUT", "worker", /no worker of the cluster served its result within 300 ms.*not lost/));
});

test("a failed dispatch names Pallet.Error; a fee the account cannot pay is a gas error", async () => {
  node.onCall = () => ({ ok: false, error: { tag: "Module", value: { index: 88, error: new Uint8Array([10, 0, 0, 0]) } } });
  await assert.rejects(client.uploadCode(alice, clusterId, utf8("x")), refusedWith("DISPATCH_FAILED", "chain", /PhalaPhatContracts\.PayloadTooLarge: send a smaller input/));
  node.onCall = () => ({ ok: false, error: { tag: "Module", value: { index: 2, error: new Uint8Array([2, 0, 0, 0]) } } });
  await assert.rejects(client.transferToCluster(alice, { cluster: clusterId, amount: 5n }), refusedWith("INSUFFICIENT_BALANCE", "gas", /Balances\.InsufficientBalance/));
  node.onCall = () => ({ refuse: { code: 1010, message: "Invalid Transaction", data: "Inability to pay some fees (e.g. account balance too low)" } });
  await assert.rejects(client.uploadCode(alice, clusterId, utf8("x")), refusedWith("INSUFFICIENT_BALANCE", "gas", /cannot pay the transaction fee/));
});

test("sends from one account in parallel take consecutive nonces", async () => {
  const contract = client.contract(await deploy());
  const outs = await Promise.all([1, 2, 3, 4].map((n) => contract.send(alice, n, { gasLimit: 5 })));
  assert.deepEqual(outs.map((o) => o.output), [1, 2, 3, 4].map((n) => ({ echo: n })));
});

test("query: certified by the account, encrypted to a member worker, answer verified against chain state", async () => {
  const contract = client.contract(await deploy());
  const out = await contract.query(bob, { op: "list" });
  assert.deepEqual(out, { for: toHex(bob.accountId), input: { op: "list" } });
  const detailed = await contract.queryDetailed(bob, { op: "list" }, { worker: member2.identity });
  assert.equal(detailed.worker, toHex(member2.identity));
  assert.equal(detailed.gasUsed, 1234n);
});

test("query answers that are forged, from outside the cluster, unregistered or with a wrong nonce are refused", async () => {
  const contract = client.contract(await deploy());
  const ask = () => contract.query(bob, { op: "list" }, { worker: member1.identity });
  const o = outcome({ notes: [] });
  w1.onQuery = fake.answering(member1, (q) => queryResponse(q, o, member1, { signWith: new Uint8Array(32).fill(99) }));
  await assert.rejects(ask(), refusedWith("RESPONSE_UNVERIFIED", "worker", /signature does not verify/));
  w1.onQuery = fake.answering(member1, (q) => queryResponse(q, o, outsider));
  await assert.rejects(ask(), refusedWith("RESPONSE_UNVERIFIED", "worker", /not a member of the contract's cluster/));
  w1.onQuery = fake.answering(member1, (q) => queryResponse(q, o, workerKeys(51)));
  await assert.rejects(ask(), refusedWith("RESPONSE_UNVERIFIED", "worker", /not registered on chain/));
  w1.onQuery = fake.answering(member1, (q) => queryResponse(q, o, member1, { nonce: new Uint8Array(16) }));
  await assert.rejects(ask(), refusedWith("RESPONSE_UNVERIFIED", "worker", /nonce/));
  w1.onQuery = () => ({ status: 400, code: "CERT_EXPIRED", message: "the query certificate expired" });
  await assert.rejects(ask(), refusedWith("WORKER_HTTP_ERROR", "worker", /HTTP 400: \[CERT_EXPIRED\] the query certificate expired/));
  // A worker outside the cluster is never asked.
  const asked = w3.queries;
  await assert.rejects(contract.query(bob, {}, { worker: outsider.identity }), refusedWith("INVALID_ARGUMENT", "sdk", /not a member of the contract's cluster/));
  assert.equal(w3.queries, asked);
});

test("queries in flight together to one worker travel as one batch under one signature, each answer checked for its own query", async () => {
  const contract = client.contract(await deploy());
  const asks = [alice, bob, alice, bob, alice].map((who, i) => contract.query(who, { op: "list", i }, { worker: member1.identity }));
  const singles = w1.queries;
  const outs = await Promise.all(asks);
  assert.deepEqual(outs, [alice, bob, alice, bob, alice].map((who, i) => ({ for: toHex(who.accountId), input: { op: "list", i } })));
  assert.deepEqual(w1.batches, [5]);
  assert.equal(w1.queries, singles);
  // A query alone is sent on its own, without waiting for company.
  assert.deepEqual(await contract.query(bob, { op: "alone" }, { worker: member1.identity }), { for: toHex(bob.accountId), input: { op: "alone" } });
  assert.equal(w1.queries, singles + 1);
  assert.deepEqual(w1.batches, [5]);

  // At most queryBatchMax per batch; the rest go in further batches of the same turn.
  const small = await PhalaClient.connect(node.url, { ...FAST, queryBatchMax: 2 });
  try {
    const c = small.contract(contract.id);
    await Promise.all([1, 2, 3, 4, 5].map((i) => c.query(bob, { i }, { worker: member1.identity })));
    assert.deepEqual(w1.batches, [5, 2, 2]);
    assert.equal(w1.queries, singles + 2);
  } finally {
    small.close();
  }
  await assert.rejects(PhalaClient.connect(node.url, { ...FAST, queryBatchMax: 0 }), refusedWith("INVALID_ARGUMENT", "sdk", /queryBatchMax must be an integer from 1/));
});

test("a batch answer that is forged, misordered or short is refused for every query in it; a refused query fails alone", async () => {
  const contract = client.contract(await deploy());
  const askThree = () => Promise.allSettled([1, 2, 3].map((i) => contract.query(bob, { i }, { worker: member1.identity })));
  const reasons = (settled: PromiseSettledResult<unknown>[]) => settled.map((r) => (r.status === "rejected" ? r.reason : r.value));
  const allRefused = async (code: string, pattern: RegExp) => {
    for (const e of reasons(await askThree())) assert.ok(refusedWith(code, "worker", pattern)(e));
  };
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) => queryBatchResponse(qs.map((q) => ({ q, outcome: outcome(1) })), member1, { signWith: new Uint8Array(32).fill(99) }));
  await allRefused("RESPONSE_UNVERIFIED", /signature does not verify/);
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) => queryBatchResponse(qs.map((q) => ({ q, outcome: outcome(1) })), outsider));
  await allRefused("RESPONSE_UNVERIFIED", /not a member of the contract's cluster/);
  // The same genuine answers in another order: each is some other query's.
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) => queryBatchResponse([...qs].reverse().map((q) => ({ q, outcome: outcome(1) })), member1));
  const misordered = reasons(await askThree());
  assert.ok(refusedWith("RESPONSE_UNVERIFIED", "worker", /another query/)(misordered[0]));
  assert.ok(refusedWith("RESPONSE_UNVERIFIED", "worker", /another query/)(misordered[2]));
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) => queryBatchResponse(qs.slice(1).map((q) => ({ q, outcome: outcome(1) })), member1));
  await allRefused("WORKER_BAD_RESPONSE", /answered 2 of a batch of 3 queries/);
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) => queryBatchResponse(qs.map((q, i) => ({ q, outcome: outcome(1), tweaks: i === 1 ? { nonce: new Uint8Array(16) } : {} })), member1));
  const oneReplayed = reasons(await askThree());
  assert.deepEqual([oneReplayed[0], oneReplayed[2]], [1, 1]);
  assert.ok(refusedWith("RESPONSE_UNVERIFIED", "worker", /nonce/)(oneReplayed[1]));
  // A refusal inside a batch reads as the same refusal of POST /query.
  w1.onQueryBatch = fake.answeringBatch(member1, (qs) =>
    queryBatchResponse(qs.map((q, i) => (i === 2 ? { queryId: q.queryId, refusal: { status: 409, code: "NONCE_REPLAYED", message: "this query nonce was already used" } } : { q, outcome: outcome(i) })), member1),
  );
  const oneRefused = reasons(await askThree());
  assert.deepEqual(oneRefused.slice(0, 2), [0, 1]);
  assert.ok(refusedWith("WORKER_HTTP_ERROR", "worker", /\/queries answered HTTP 409: \[NONCE_REPLAYED\] this query nonce was already used/)(oneRefused[2]));
  assert.equal((oneRefused[2] as PhalaSdkError).details?.workerCode, "NONCE_REPLAYED");
  assert.equal((oneRefused[2] as PhalaSdkError).details?.signedBy, toHex(member1.identity), "reported as the worker's signed refusal");
  // Refusals are covered by the signature like answers: forged ones are never reported as the worker's.
  const replayed = { status: 409, code: "NONCE_REPLAYED", message: "this query nonce was already used" };
  w1.onQueryBatch = (requests) => queryBatchResponse(requests.map((r) => ({ queryId: queryIdOf(r), refusal: replayed })), member1, { signWith: new Uint8Array(32).fill(99) });
  await allRefused("RESPONSE_UNVERIFIED", /signature does not verify/);
  w1.onQueryBatch = (requests) => queryBatchResponse(requests.map((r) => ({ queryId: queryIdOf(r), refusal: replayed })), outsider);
  await allRefused("RESPONSE_UNVERIFIED", /not a member of the contract's cluster/);
  // Genuinely signed by another member of the cluster, replayed by w1: not w1's verdict.
  w1.onQueryBatch = (requests) => queryBatchResponse(requests.map((r) => ({ queryId: queryIdOf(r), refusal: replayed })), member2);
  await allRefused("RESPONSE_UNVERIFIED", /not by .* that the query was encrypted to/);
  // A whole-batch refusal is an HTTP status: unsigned, and reported as such.
  w1.onQueryBatch = () => ({ status: 400, code: "BAD_REQUEST", message: "not a batch" });
  await allRefused("WORKER_HTTP_ERROR", /HTTP 400: \[BAD_REQUEST\] not a batch \(unsigned\)/);
  const whole = reasons(await askThree());
  assert.equal((whole[0] as PhalaSdkError).details?.signedBy, undefined);
});

test("a worker without batches (an older pRuntime) gets the same queries one by one", async () => {
  const contract = client.contract(await deploy());
  w1.onQueryBatch = undefined;
  const singles = w1.queries;
  const outs = await Promise.all([1, 2, 3].map((i) => contract.query(bob, { i }, { worker: member1.identity })));
  assert.deepEqual(outs.map((o) => (o as { input: unknown }).input), [{ i: 1 }, { i: 2 }, { i: 3 }]);
  assert.equal(w1.queries, singles + 3);
  // Remembered: the next burst goes one by one straight away.
  await Promise.all([4, 5].map((i) => contract.query(bob, { i }, { worker: member1.identity })));
  assert.equal(w1.queries, singles + 5);
});

test("queries that one worker refuses in a batch as not synced yet go to the cluster's next worker", async () => {
  const contract = client.contract(await deploy());
  const notSynced = { status: 404, code: "CONTRACT_NOT_FOUND", message: "not synced yet" };
  w1.onQuery = () => notSynced;
  w1.onQueryBatch = (requests) => queryBatchResponse(requests.map((r) => ({ queryId: queryIdOf(r), refusal: notSynced })), member1);
  const singles = w1.queries;
  // Without a chosen worker each query starts at a random member: about half of these at w1 (all 16 miss it once in 65,536 runs).
  const outs = await Promise.all(Array.from({ length: 16 }, () => contract.queryDetailed(bob, { op: "list" })));
  assert.deepEqual(outs.map((o) => o.worker), Array(16).fill(toHex(member2.identity)));
  assert.ok(w1.batches.reduce((a, b) => a + b, 0) + w1.queries - singles > 0, "no query started at w1");
});

test("a contract error in a query is a contract error", async () => {
  const contract = client.contract(await deploy());
  w1.onQuery = fake.answering(member1, (q) => queryResponse(q, failure("contract", "unknown query \"x\""), member1));
  await assert.rejects(contract.query(bob, { op: "x" }, { worker: member1.identity }), refusedWith("CONTRACT_ERROR", "contract", /unknown query "x"/));
});

test("inputs that are not JSON are refused before anything is sent", async () => {
  const contract = client.contract(await deploy());
  const before = node.submitted.length;
  await assert.rejects(contract.send(alice, undefined, { gasLimit: 1 }), refusedWith("INVALID_ARGUMENT", "sdk", /not JSON/));
  await assert.rejects(contract.send(alice, { n: 1n }, { gasLimit: 1 }), refusedWith("INVALID_ARGUMENT", "sdk", /not JSON/));
  await assert.rejects(contract.send(alice, {}, { gasLimit: 0 }), refusedWith("INVALID_ARGUMENT", "sdk", /gasLimit/));
  assert.equal(node.submitted.length, before);
});

test("an unreachable node is a chain error that says what to check", async () => {
  const dead = await FakeNode.start();
  const url = dead.url;
  await dead.close();
  await assert.rejects(PhalaClient.connect(url, { requestTimeoutMs: 2000 }), refusedWith("NODE_UNAVAILABLE", "chain", /is the node running/));
  await assert.rejects(PhalaClient.connect("http://127.0.0.1:9944"), refusedWith("INVALID_ARGUMENT", "sdk", /ws:\/\//));
});

test("account balances are read from System.Account", async () => {
  assert.deepEqual(await client.account(new Uint8Array(32).fill(200)), { nonce: 0, free: 0n, reserved: 0n, frozen: 0n });
  const info = { nonce: 3, consumers: 0, providers: 1, sufficients: 0, data: { free: 7n * 10n ** 12n, reserved: 2n, frozen: 0n, flags: 0n } };
  node.put(SystemStorage.Account.key(bob.accountId), SystemStorage.Account.type.codec.enc(info));
  assert.deepEqual(await client.account(bob.accountId), { nonce: 3, free: 7n * 10n ** 12n, reserved: 2n, frozen: 0n });
});
