import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, bytesEqual, keyPairFromUri, openEnvelope, toHex, utf8, verifyMultiSignature, x25519KeyPair } from "@phala-ts/primitives";
import { CommandResult, EncryptedPayload, InitPlaintext, QueryResponse, WireLabels, commandIdOf, initIdOf, queryCertificatePayload } from "@phala-ts/runtime/phala";

const SENDER = new Uint8Array(32).fill(0xa1);
import { decodeExact } from "@phala-ts/runtime/types";
import { PhalaSdkError, QUERY_CERT_TTL_MAX_MS, QueryCertificateCache, callResult, createQueryCertificate, openCommandResult, openQueryBatchAnswer, openQueryResponse, readQueryBatchResponse, sealCommand, sealInitArgs, sealQuery } from "@phala-ts/sdk";
import { commandResult, failure, openCommand, openQuery, outcome, queryBatchResponse, queryResponse, workerInfo, workerKeys } from "./fake-worker-crypto.ts";

const contractId = blake2b256(utf8("contract"));
const contractEcdh = x25519KeyPair(new Uint8Array(32).fill(7));
const clusterEcdh = x25519KeyPair(new Uint8Array(32).fill(9));
const MARKER = "MARKER-7f3a-secret-note";

function refused(code: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof PhalaSdkError, `expected a PhalaSdkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

test("init args are sealed to the cluster key with label init and the contract id as AAD", () => {
  const input = utf8(JSON.stringify({ owner: MARKER }));
  const init = sealInitArgs({ clusterEcdhPubkey: clusterEcdh.publicKey, contractId, gasLimit: 5000n, input });
  const sealed = init.payload;
  assert.deepEqual(init.commandId, initIdOf(sealed), "the init's outcome is served under the hash of init_args");
  assert.ok(!toHex(sealed).includes(Buffer.from(MARKER).toString("hex")), "the marker is not in the sealed bytes");
  const p = decodeExact(EncryptedPayload, sealed);
  const open = (aad: Uint8Array, label = WireLabels.init) =>
    openEnvelope({ recipientPrivateKey: clusterEcdh.privateKey, label, associatedData: aad, envelope: { senderPublicKey: p.sender_pubkey, nonce: p.iv, ciphertext: p.ciphertext } });
  const plain = decodeExact(InitPlaintext, open(contractId));
  assert.equal(plain.gas_limit, 5000n);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(plain.input)), { owner: MARKER });
  assert.deepEqual(p.sender_pubkey, x25519KeyPair(init.senderPrivateKey).publicKey);
  assert.throws(() => open(blake2b256(utf8("other"))), /does not authenticate/);
  assert.throws(() => open(contractId, WireLabels.command), /does not authenticate/);
});

test("a command is sealed to the contract key with a fresh ephemeral key; its id is the hash of the payload", () => {
  const input = utf8(JSON.stringify({ op: "add", text: MARKER }));
  const a = sealCommand({ contractEcdhPubkey: contractEcdh.publicKey, contractId, sender: SENDER, gasLimit: 100n, input });
  const b = sealCommand({ contractEcdhPubkey: contractEcdh.publicKey, contractId, sender: SENDER, gasLimit: 100n, input });
  assert.ok(!bytesEqual(a.senderPrivateKey, b.senderPrivateKey), "each command has its own ephemeral key");
  assert.ok(!bytesEqual(a.commandId, b.commandId));
  assert.deepEqual(a.commandId, commandIdOf(SENDER, a.payload));
  assert.ok(!toHex(a.payload).includes(Buffer.from(MARKER).toString("hex")));
  const opened = openCommand(a.payload, contractEcdh, contractId, SENDER);
  assert.deepEqual(opened.senderPubkey, x25519KeyPair(a.senderPrivateKey).publicKey);
  assert.equal(opened.plaintext.gas_limit, 100n);
  assert.equal(opened.plaintext.nonce.length, 16);
  assert.equal(new TextDecoder().decode(opened.plaintext.input), JSON.stringify({ op: "add", text: MARKER }));
});

test("without a key there is nothing to encrypt to, and nothing is sealed", () => {
  assert.throws(() => sealCommand({ contractEcdhPubkey: undefined as unknown as Uint8Array, contractId, sender: SENDER, gasLimit: 1n, input: utf8("1") }), refused("INVALID_ARGUMENT", /never sends contract input in plaintext/));
  assert.throws(() => sealInitArgs({ clusterEcdhPubkey: new Uint8Array(5), contractId, gasLimit: 1n, input: utf8("1") }), refused("INVALID_ARGUMENT", /plaintext/));
});

test("a command result opens only with the sender's key, from the contract's key, for this command", () => {
  const sealed = sealCommand({ contractEcdhPubkey: contractEcdh.publicKey, contractId, sender: SENDER, gasLimit: 100n, input: utf8("{}") });
  const senderPubkey = x25519KeyPair(sealed.senderPrivateKey).publicKey;
  const o = outcome({ index: 3 }, { events: [{ topic: "noteAdded", data: '{"index":3}' }] });
  const served = commandResult(o, { contractId, commandId: sealed.commandId, senderPubkey, contractEcdh });
  const params = { contractId, commandId: sealed.commandId, contractEcdhPubkey: contractEcdh.publicKey, senderPrivateKey: sealed.senderPrivateKey };
  const opened = openCommandResult({ ...params, result: served });
  assert.deepEqual(callResult(opened, "command"), { output: { index: 3 }, gasUsed: 1234n, fee: 6170n, events: [{ topic: "noteAdded", data: { index: 3 } }] });

  // Tampered ciphertext.
  const r = decodeExact(CommandResult, served);
  const flipped = r.outcome.ciphertext.slice();
  flipped[0] ^= 1;
  const tampered = CommandResult.codec.enc({ ...r, outcome: { ...r.outcome, ciphertext: flipped } });
  assert.throws(() => openCommandResult({ ...params, result: tampered }), refused("RESPONSE_UNVERIFIED", /altered/));
  // Made by someone without the contract key (their own x25519 key as sender).
  const impostor = commandResult(o, { contractId, commandId: sealed.commandId, senderPubkey, contractEcdh: x25519KeyPair(new Uint8Array(32).fill(66)) });
  assert.throws(() => openCommandResult({ ...params, result: impostor }), refused("RESPONSE_UNVERIFIED", /not encrypted by the contract's on-chain key/));
  // Another command's result.
  const other = commandResult(o, { contractId, commandId: blake2b256(utf8("x")), senderPubkey, contractEcdh });
  assert.throws(() => openCommandResult({ ...params, result: other }), refused("RESPONSE_UNVERIFIED", /another contract or command/));
  // Garbage.
  assert.throws(() => openCommandResult({ ...params, result: new Uint8Array([1, 2, 3]) }), refused("WORKER_BAD_RESPONSE", /does not decode/));
});

test("outcomes become typed errors that say where: contract, gas or worker", () => {
  assert.throws(() => callResult(failure("contract", "text must be a non-empty string"), "command"), (e: unknown) => e instanceof PhalaSdkError && e.where === "contract" && e.code === "CONTRACT_ERROR" && /non-empty string/.test(e.message));
  assert.throws(() => callResult(failure("gas", "out of gas", 500n), "command"), (e: unknown) => e instanceof PhalaSdkError && e.where === "gas" && e.code === "OUT_OF_GAS" && /higher gas limit/.test(e.message) && e.details?.gasUsed === 500n);
  assert.throws(() => callResult(failure("insufficient-balance", "balance 0"), "command"), (e: unknown) => e instanceof PhalaSdkError && e.where === "gas" && /deposit PHA/.test(e.message));
  assert.throws(() => callResult(failure("memory", "out of memory"), "command"), (e: unknown) => e instanceof PhalaSdkError && e.where === "contract" && e.code === "CONTRACT_LIMIT");
  assert.throws(() => callResult(failure("internal", "boom"), "query"), (e: unknown) => e instanceof PhalaSdkError && e.where === "worker");
  assert.throws(() => callResult({ ...outcome(1), output: "{not json" }, "query"), (e: unknown) => e instanceof PhalaSdkError && e.code === "CONTRACT_BAD_OUTPUT");
});

for (const type of ["sr25519", "ed25519", "ecdsa"] as const) {
  test(`a ${type} account certifies an ephemeral key that the worker can verify`, () => {
    const signer = keyPairFromUri("//Alice", type);
    const cert = createQueryCertificate(signer, 60_000, 1_000_000);
    assert.equal(cert.certificate.body.expires_at, 1_060_000n);
    assert.deepEqual(cert.certificate.body.account, signer.accountId);
    assert.deepEqual(cert.certificate.body.ephemeral_pubkey, x25519KeyPair(cert.ephemeralPrivateKey).publicKey);
    const sig = { type, signature: cert.certificate.signature.value };
    assert.ok(verifyMultiSignature(sig, queryCertificatePayload(cert.certificate.body), signer.accountId));
    assert.ok(!verifyMultiSignature(sig, queryCertificatePayload({ ...cert.certificate.body, expires_at: 1_060_001n }), signer.accountId), "the lifetime is signed");
  });
}

test("certificates are cached per signer until close to expiry", () => {
  let now = 1_000_000;
  const cache = new QueryCertificateCache(() => now);
  const alice = keyPairFromUri("//Alice");
  const bob = keyPairFromUri("//Bob");
  const first = cache.get(alice, 60_000);
  now += 30_000;
  assert.equal(cache.get(alice, 60_000), first, "reused while most of its lifetime is left");
  assert.notEqual(cache.get(bob, 60_000), first, "one per signer");
  now += 20_000;
  const renewed = cache.get(alice, 60_000);
  assert.notEqual(renewed, first, "renewed when under a fifth of its lifetime is left");
  assert.equal(renewed.expiresAtMs, now + 60_000);
});

test("the SDK signs query certificates of at most 10 minutes, within what workers accept, and renews them", () => {
  const alice = keyPairFromUri("//Alice");
  assert.equal(QUERY_CERT_TTL_MAX_MS, 10 * 60_000);
  const longest = createQueryCertificate(alice, QUERY_CERT_TTL_MAX_MS, 1_000_000);
  assert.equal(longest.certificate.body.expires_at, BigInt(1_000_000 + QUERY_CERT_TTL_MAX_MS));
  for (const ttl of [QUERY_CERT_TTL_MAX_MS + 1, 365 * 86_400_000]) {
    assert.throws(() => createQueryCertificate(alice, ttl, 1_000_000), refused("INVALID_ARGUMENT", /ttlMs must be an integer from 1 to 600000/));
  }
  let now = 1_000_000;
  const cache = new QueryCertificateCache(() => now);
  assert.throws(() => cache.get(alice, 365 * 86_400_000), refused("INVALID_ARGUMENT", /workers refuse longer ones/));
  const first = cache.get(alice, QUERY_CERT_TTL_MAX_MS);
  now += QUERY_CERT_TTL_MAX_MS;
  const renewed = cache.get(alice, QUERY_CERT_TTL_MAX_MS);
  assert.notEqual(renewed, first);
  assert.equal(renewed.expiresAtMs, now + QUERY_CERT_TTL_MAX_MS);
});

function queryFixture() {
  const member = workerKeys(11);
  const other = workerKeys(21);
  const outsider = workerKeys(31);
  const stranger = workerKeys(41);
  const cert = createQueryCertificate(keyPairFromUri("//Bob"), 60_000, 5_000);
  const input = utf8(JSON.stringify({ op: "list", secret: MARKER }));
  const sealed = sealQuery({ contractId, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: member.ecdh.publicKey, input });
  const q = openQuery(sealed.request, member);
  const registry = new Map([member, other, outsider].map((k) => [toHex(k.identity), workerInfo(k)]));
  const verify = (bytes: Uint8Array, clusterWorkers = [member.identity, other.identity]) => {
    const response = decodeExact(QueryResponse, bytes);
    return openQueryResponse({ response, queryId: sealed.queryId, nonce: sealed.nonce, ephemeralPrivateKey: cert.ephemeralPrivateKey, registeredWorker: registry.get(toHex(response.worker)), clusterWorkers });
  };
  return { member, outsider, stranger, cert, sealed, q, verify, input };
}

test("a query reaches the worker encrypted, certified and with a nonce; a good answer is accepted", () => {
  const { member, q, sealed, verify } = queryFixture();
  assert.ok(q.certificateValid);
  assert.deepEqual(q.contract, contractId);
  assert.deepEqual(q.account, keyPairFromUri("//Bob").accountId);
  assert.equal(q.input, JSON.stringify({ op: "list", secret: MARKER }));
  assert.ok(!toHex(sealed.request).includes(Buffer.from(MARKER).toString("hex")));
  assert.deepEqual(q.nonce, sealed.nonce);
  const o = verify(queryResponse(q, outcome({ notes: ["a"] }), member));
  assert.deepEqual(callResult(o, "query").output, { notes: ["a"] });
});

test("a query answer is refused when forged, from outside the cluster, from an unregistered worker, or for another nonce or query", () => {
  const { member, outsider, stranger, q, verify } = queryFixture();
  const o = outcome({ notes: [] });
  // Signed by another key than the claimed worker's registered identity key.
  assert.throws(() => verify(queryResponse(q, o, member, { signWith: new Uint8Array(32).fill(99) })), refused("RESPONSE_UNVERIFIED", /signature does not verify .* forged/));
  // A registered worker that is not a member of the contract's cluster.
  assert.throws(() => verify(queryResponse(q, o, outsider)), refused("RESPONSE_UNVERIFIED", /not a member of the contract's cluster/));
  // A worker the chain does not know.
  assert.throws(() => verify(queryResponse(q, o, stranger)), refused("RESPONSE_UNVERIFIED", /not registered on chain/));
  // A wrong nonce echo (a replayed answer).
  assert.throws(() => verify(queryResponse(q, o, member, { nonce: new Uint8Array(16).fill(1) })), refused("RESPONSE_UNVERIFIED", /does not echo this query's nonce/));
  // An answer to another query.
  assert.throws(() => verify(queryResponse(q, o, member, { queryId: blake2b256(utf8("q2")) })), refused("RESPONSE_UNVERIFIED", /another query/));
  // Encrypted from a key that is not the worker's registered x25519 key.
  assert.throws(() => verify(queryResponse(q, o, member, { senderPrivateKey: new Uint8Array(32).fill(5) })), refused("RESPONSE_UNVERIFIED", /registered x25519 key/));
  // Tampered ciphertext (signature no longer matches).
  const r = decodeExact(QueryResponse, queryResponse(q, o, member));
  const c = r.encrypted.ciphertext.slice();
  c[c.length - 1] ^= 0x80;
  assert.throws(() => verify(QueryResponse.codec.enc({ ...r, encrypted: { ...r.encrypted, ciphertext: c } })), refused("RESPONSE_UNVERIFIED", /forged or altered/));
  // The genuine answer, once the worker left the cluster on chain.
  assert.throws(() => verify(queryResponse(q, o, member), []), refused("RESPONSE_UNVERIFIED", /not a member/));
});

test("a batch answer is signed once for all its answers; each is accepted only for its own query", () => {
  const { member, outsider, cert, sealed, q } = queryFixture();
  const other = sealQuery({ contractId, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: member.ecdh.publicKey, input: utf8("{}") });
  const q2 = openQuery(other.request, member);
  const refusal = { status: 409, code: "NONCE_REPLAYED", message: "this query nonce was already used" };
  const bytes = queryBatchResponse([{ q, outcome: outcome({ n: 1 }) }, { queryId: q2.queryId, refusal }], member);
  const receipt = readQueryBatchResponse(bytes)!;
  assert.equal(receipt.signatureValid, true);
  const open = (r = receipt, index = 0, s = sealed, clusterWorkers = [member.identity]) =>
    openQueryBatchAnswer({ receipt: r, index, queryId: s.queryId, nonce: s.nonce, ephemeralPrivateKey: cert.ephemeralPrivateKey, registeredWorker: workerInfo(member), clusterWorkers });
  assert.deepEqual(open(), { ok: true, outcome: outcome({ n: 1 }) });
  assert.deepEqual(open(receipt, 1, other), { ok: false, refusal });
  // Each answer belongs to its own query: not to another one's, refused or not.
  assert.throws(() => open(receipt, 1), refused("RESPONSE_UNVERIFIED", /refuses another query/));
  assert.throws(() => open(receipt, 0, other), refused("RESPONSE_UNVERIFIED", /another query/));
  assert.throws(() => open(receipt, 2), refused("RESPONSE_UNVERIFIED", /no answer for this query/));
  assert.throws(() => open(receipt, 0, sealed, [outsider.identity]), refused("RESPONSE_UNVERIFIED", /not a member/));
  // One byte changed anywhere in the answers breaks the one signature.
  // Byte 40 is in the first answer's query id, the other in the refusal's message: both still decode.
  for (const at of [40, bytes.length - 70]) {
    const altered = bytes.slice();
    altered[at] ^= 0x01;
    const r = readQueryBatchResponse(altered);
    assert.ok(r !== undefined, `byte ${at}`);
    assert.equal(r.signatureValid, false, `byte ${at}`);
    assert.throws(() => open(r), (e: unknown) => e instanceof PhalaSdkError && e.code === "RESPONSE_UNVERIFIED");
  }
  assert.equal(readQueryBatchResponse(bytes.subarray(0, bytes.length - 1)), undefined);
  assert.equal(readQueryBatchResponse(utf8("not a batch")), undefined);
});

test("a refusal inside a batch counts only under the signature of a registered member, like an answer", () => {
  const { member, outsider, cert, q } = queryFixture();
  const other = sealQuery({ contractId, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: member.ecdh.publicKey, input: utf8("{}") });
  const refusal = { status: 401, code: "CERT_EXPIRED", message: "the query certificate has expired" };
  const items = [{ q, outcome: outcome({ n: 1 }) }, { queryId: other.queryId, refusal }];
  const openRefusal = (bytes: Uint8Array, registered = workerInfo(member), clusterWorkers = [member.identity]) =>
    openQueryBatchAnswer({ receipt: readQueryBatchResponse(bytes)!, index: 1, queryId: other.queryId, nonce: other.nonce, ephemeralPrivateKey: cert.ephemeralPrivateKey, registeredWorker: registered, clusterWorkers });
  assert.deepEqual(openRefusal(queryBatchResponse(items, member)), { ok: false, refusal }, "the member's signed refusal");
  // Signed by another key than the worker it names: unsigned as far as anyone can tell.
  assert.throws(() => openRefusal(queryBatchResponse(items, member, { signWith: new Uint8Array(32).fill(99) })), refused("RESPONSE_UNVERIFIED", /signature does not verify/));
  // Its bytes changed after signing (here the refusal's code).
  const genuine = queryBatchResponse(items, member);
  const at = Buffer.from(genuine).indexOf(Buffer.from("CERT_EXPIRED"));
  const altered = genuine.slice();
  altered[at] = "X".charCodeAt(0);
  assert.throws(() => openRefusal(altered), refused("RESPONSE_UNVERIFIED", /forged or altered/));
  // Signed by a worker outside the cluster, or by one not registered on chain.
  assert.throws(() => openRefusal(queryBatchResponse(items, outsider), workerInfo(outsider)), refused("RESPONSE_UNVERIFIED", /not a member/));
  const unregistered = () =>
    openQueryBatchAnswer({ receipt: readQueryBatchResponse(queryBatchResponse(items, member))!, index: 1, queryId: other.queryId, nonce: other.nonce, ephemeralPrivateKey: cert.ephemeralPrivateKey, registeredWorker: undefined, clusterWorkers: [member.identity] });
  assert.throws(unregistered, refused("RESPONSE_UNVERIFIED", /not registered on chain/));
});
