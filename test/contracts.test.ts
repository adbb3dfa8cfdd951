/**
 * Confidential contracts end to end, with real processes (issue 4's acceptance): each
 * example contract is deployed from TypeScript, //Alice and //Bob send encrypted commands
 * and ask encrypted queries; each sees only what the contract lets them see; both workers
 * hold identical state; no plaintext leaks to the chain, pHost or disk; forged or stale
 * requests are refused; runaway contracts stop at their limits and the sender pays.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromHex, keyPairFromUri, toHex, utf8, type KeyPair } from "@phala-ts/primitives";
import { buildContract } from "@phala-ts/contract/build";
import { builtinChainSpecJson } from "@phala-ts/node";
import { PhalaClient, PhalaSdkError, createQueryCertificate, openCommandResult, sealCommand, sealQuery } from "@phala-ts/sdk";
import { CommandResult, QueryRequest } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";
import { bundleForBrowser, createPageRealm } from "./helpers/browser-realm.ts";
import { startNetwork, type TestNetwork } from "./helpers/network.ts";
import { waitFor } from "./helpers/wait.ts";

/** The test networks run `--dev`: the SDK trusts that chain spec's genesis validators. */
const DEV_TRUST = { chainSpec: builtinChainSpecJson("dev") };

const EXAMPLES = fileURLToPath(new URL("../packages/contract/examples/", import.meta.url));
const PHA = 10n ** 12n;
const GAS = 20_000_000n;
const MARKERS = { alice: "MARKER-ALICE-7f3a9c", bob: "MARKER-BOB-51e2d8", bid: "31337424242", browser: "MARKER-BROWSER-c0ffee" };

const alice = keyPairFromUri("//Alice", "sr25519");
const bob = keyPairFromUri("//Bob", "sr25519");
const charlie = keyPairFromUri("//Charlie", "ed25519");

let net: TestNetwork;
let client: PhalaClient;
const contracts: Record<string, string> = {};

before(async () => {
  net = await startNetwork();
  client = await PhalaClient.connect(net.node.wsUrl, { trust: DEV_TRUST });
  for (const who of [alice, bob, charlie]) await client.transferToCluster(who, { cluster: net.cluster, amount: 100n * PHA });
});

after(async () => {
  // A process that died during the run is a failure of its own: show why.
  for (const m of net?.members ?? []) {
    for (const p of [m.pruntime, m.phost]) {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) process.stderr.write(`${m.name} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${p.output().slice(-4000)}\n`);
    }
  }
  client?.close();
  await net?.stop();
});

async function deploy(name: string, initArgs: unknown, signer: KeyPair = alice): Promise<string> {
  const { code } = await buildContract(join(EXAMPLES, `${name}.ts`));
  const codeHash = await client.uploadCode(signer, net.cluster, code);
  const id = await client.instantiate(signer, { codeHash, cluster: net.cluster, initArgs, gasLimit: 50_000_000n });
  contracts[name] = id;
  return id;
}

const workerPort = (i: 1 | 2) => net.members[i].pruntime.port;
async function contractState(id: string, i: 1 | 2): Promise<{ stateHash: string; commands: number }> {
  const r = await fetch(`http://127.0.0.1:${workerPort(i)}/contracts/${id}`);
  assert.equal(r.status, 200);
  return (await r.json()) as { stateHash: string; commands: number };
}

test("the note store: each account reads only its own notes", async () => {
  const id = await deploy("notes", {});
  const notes = client.contract(id);
  await notes.send(alice, { op: "add", text: `${MARKERS.alice} buy milk` }, { gasLimit: GAS });
  await notes.send(bob, { op: "add", text: `${MARKERS.bob} call mom` }, { gasLimit: GAS });
  const a = JSON.stringify(await notes.query(alice, { op: "list" }));
  const b = JSON.stringify(await notes.query(bob, { op: "list" }));
  assert.ok(a.includes(MARKERS.alice) && !a.includes(MARKERS.bob), a);
  assert.ok(b.includes(MARKERS.bob) && !b.includes(MARKERS.alice), b);
  // Queries in flight together travel to a worker as one batch; each answer is still its asker's alone.
  const worker = net.members[1].info.identityKey;
  const together = await Promise.all([alice, bob, alice, bob].map((who) => notes.query(who, { op: "list" }, { worker })));
  assert.deepEqual(together.map((o) => JSON.stringify(o)), [a, b, a, b]);
});

test("the confidential token: balances move and only their holder sees them", async () => {
  const id = await deploy("token", { owner: toHex(alice.accountId), supply: "1000000" });
  const token = client.contract(id);
  const sent = await token.send(alice, { op: "transfer", to: toHex(bob.accountId), amount: "2500" }, { gasLimit: GAS });
  assert.ok(sent.gasUsed > 0n);
  // Gas used at the cluster's gas price (1), plus the storage deposit for Bob's new balance entry.
  assert.ok(sent.fee >= sent.gasUsed, `fee ${sent.fee} covers gas ${sent.gasUsed}`);
  assert.deepEqual(JSON.stringify(await token.query(alice, { op: "balance" })).includes("997500"), true);
  assert.deepEqual(JSON.stringify(await token.query(bob, { op: "balance" })).includes("2500"), true);
  await assert.rejects(token.send(bob, { op: "transfer", to: toHex(alice.accountId), amount: "999999" }, { gasLimit: GAS }), (e: unknown) => e instanceof PhalaSdkError && e.where === "contract");
});

test("the sealed-bid auction: bids stay secret, the result appears after closing", async () => {
  const head = parseInt((await net.chain.call<{ number: string }>("chain_getHeader")).number, 16);
  const endBlock = head + 12;
  const id = await deploy("auction", { seller: toHex(alice.accountId), endBlock });
  const auction = client.contract(id);
  await auction.send(bob, { op: "bid", amount: MARKERS.bid }, { gasLimit: GAS });
  await auction.send(charlie, { op: "bid", amount: "1000" }, { gasLimit: GAS });
  assert.ok(JSON.stringify(await auction.query(bob, { op: "myBid" })).includes(MARKERS.bid));
  assert.ok(!JSON.stringify(await auction.query(charlie, { op: "myBid" })).includes(MARKERS.bid));
  assert.ok(!JSON.stringify(await auction.query(alice, { op: "result" })).includes(MARKERS.bid), "no result before closing");
  await waitFor("the auction's end block", async () => (parseInt((await net.chain.call<{ number: string }>("chain_getHeader")).number, 16) >= endBlock ? true : undefined), 60_000);
  await auction.send(alice, { op: "close" }, { gasLimit: GAS });
  const result = JSON.stringify(await auction.query(charlie, { op: "result" }));
  assert.ok(result.includes(toHex(bob.accountId)) && result.includes(MARKERS.bid), result);
});

test("both workers of the cluster hold identical contract state", async () => {
  for (const id of Object.values(contracts)) {
    const [s1, s2] = await Promise.all([contractState(id, 1), contractState(id, 2)]);
    await waitFor("both workers at the same command count", async () => ((await contractState(id, 1)).commands === (await contractState(id, 2)).commands ? true : undefined), 20_000);
    const [t1, t2] = await Promise.all([contractState(id, 1), contractState(id, 2)]);
    assert.equal(t1.stateHash, t2.stateHash, `contract ${id}`);
    void s1, void s2;
  }
});

test("forged and stale requests are refused with clear errors", async () => {
  const id = fromHex(contracts.notes);
  const info = await client.contractDetails(contracts.notes);
  const worker = net.members[1];
  const workerEcdh = fromHex(worker.info.ecdhKey);
  const post = async (request: Uint8Array) => {
    const r = await fetch(`http://127.0.0.1:${worker.pruntime.port}/query`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: request });
    return { status: r.status, body: r.status === 200 ? undefined : ((await r.json()) as { error: { code: string; message: string } }) };
  };
  const input = utf8(JSON.stringify({ op: "list" }));

  // A replayed nonce.
  const cert = createQueryCertificate(alice, 60_000, Date.now());
  const q = sealQuery({ contractId: id, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: workerEcdh, input });
  assert.equal((await post(q.request)).status, 200);
  const replay = await post(q.request);
  assert.equal(replay.status, 409);
  assert.equal(replay.body!.error.code, "NONCE_REPLAYED");

  // An expired certificate.
  const old = createQueryCertificate(alice, 1_000, Date.now() - 60_000);
  const expired = await post(sealQuery({ contractId: id, certificate: old.certificate, ephemeralPrivateKey: old.ephemeralPrivateKey, workerEcdhPubkey: workerEcdh, input }).request);
  assert.equal(expired.body?.error.code, "CERT_EXPIRED");

  // A certificate for Alice's account signed by Bob: the query of the wrong account.
  const forged = createQueryCertificate(bob, 60_000, Date.now());
  forged.certificate.body.account = alice.accountId;
  const wrong = await post(sealQuery({ contractId: id, certificate: forged.certificate, ephemeralPrivateKey: forged.ephemeralPrivateKey, workerEcdhPubkey: workerEcdh, input }).request);
  assert.equal(wrong.status, 401);
  assert.match(wrong.body!.error.code, /SIGNATURE|CERT/);

  // A worker outside the cluster: the SDK refuses to ask it, and it refuses to answer.
  await assert.rejects(client.contract(contracts.notes).query(alice, { op: "list" }, { worker: net.members[0].info.identityKey }), PhalaSdkError);
  const gk = net.members[0];
  const toGk = sealQuery({ contractId: id, certificate: cert.certificate, ephemeralPrivateKey: cert.ephemeralPrivateKey, workerEcdhPubkey: fromHex(gk.info.ecdhKey), input });
  const r = await fetch(`http://127.0.0.1:${gk.pruntime.port}/query`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: toGk.request });
  assert.ok(r.status === 403 || r.status === 404, String(r.status));
  assert.match(((await r.json()) as any).error.code, /NOT_IN_CLUSTER|CONTRACT_NOT_FOUND/);

  // Tampered command ciphertext: executed by nobody, reported to its sender as undecryptable.
  const keys = await client.contractKeys(contracts.notes);
  const sealed = sealCommand({ contractEcdhPubkey: keys!.ecdh_pubkey, contractId: id, sender: alice.accountId, gasLimit: GAS, input: utf8(JSON.stringify({ op: "add", text: "tampered" })) });
  const payload = sealed.payload.slice();
  payload[payload.length - 1] ^= 1;
  const cmd = await client.submit(alice, "PhalaPhatContracts", "push_contract_message", { contract: id, payload, deposit: 0n, gas_limit: GAS });
  assert.ok(cmd.blockNumber > 0);
  void info;
  const { commandIdOf } = await import("@phala-ts/runtime/phala");
  const tamperedId = toHex(commandIdOf(alice.accountId, payload));
  const res = await waitFor("the tampered command's result", async () => {
    const x = await fetch(`http://127.0.0.1:${worker.pruntime.port}/contracts/${contracts.notes}/results/${tamperedId}`);
    return x.status === 200 ? ((await x.json()) as { result: string }) : undefined;
  }, 30_000);
  const outcome = openCommandResult({ result: fromHex(res.result), contractId: id, commandId: fromHex(tamperedId), contractEcdhPubkey: keys!.ecdh_pubkey, senderPrivateKey: sealed.senderPrivateKey });
  assert.equal(outcome.ok, false);
  assert.match(outcome.error!.kind, /decrypt/);

  // Alice's command copied and pushed by Bob does not run as Bob: it is bound to its sender.
  const stolen = sealCommand({ contractEcdhPubkey: keys!.ecdh_pubkey, contractId: id, sender: alice.accountId, gasLimit: GAS, input: utf8(JSON.stringify({ op: "add", text: "stolen" })) });
  await client.submit(bob, "PhalaPhatContracts", "push_contract_message", { contract: id, payload: stolen.payload, deposit: 0n, gas_limit: GAS });
  const resultOf = async (commandId: Uint8Array) => {
    const res = await waitFor("a command's result", async () => {
      const x = await fetch(`http://127.0.0.1:${worker.pruntime.port}/contracts/${contracts.notes}/results/${toHex(commandId)}`);
      return x.status === 200 ? ((await x.json()) as { result: string }) : undefined;
    }, 30_000);
    return openCommandResult({ result: fromHex(res.result), contractId: id, commandId, contractEcdhPubkey: keys!.ecdh_pubkey, senderPrivateKey: stolen.senderPrivateKey });
  };
  const stolenOutcome = await resultOf(commandIdOf(bob.accountId, stolen.payload));
  assert.equal(stolenOutcome.ok, false);
  assert.match(stolenOutcome.error!.kind, /decrypt/);
  // …and does not use up Alice's command: hers still runs when she pushes it.
  await client.submit(alice, "PhalaPhatContracts", "push_contract_message", { contract: id, payload: stolen.payload, deposit: 0n, gas_limit: GAS });
  assert.equal((await resultOf(stolen.commandId)).ok, true);
});

test("runaway contracts stop at their limits with the same gas on both workers; the sender pays; workers keep serving", async () => {
  // Filling the 16 MiB heap with Array fill is charged per element (~25M gas, contract-vm/prelude.ts
  // BUILTIN_GAS): the allocating case gets CommandGasMax so that it reaches the memory limit first.
  const cases: Array<[string, unknown, RegExp, bigint]> = [
    ["infinite-loop", { op: "loop" }, /gas/, GAS],
    ["unbounded-alloc", { op: "catching" }, /memory/, 50_000_000n],
    ["catastrophic-regex", { op: "match", n: 40 }, /gas/, GAS],
  ];
  for (const [name, command, kind, gasLimit] of cases) {
    const { code } = await buildContract(join(EXAMPLES, "adversarial", `${name}.ts`));
    const codeHash = await client.uploadCode(bob, net.cluster, code);
    const id = await client.instantiate(bob, { codeHash, cluster: net.cluster, initArgs: {}, gasLimit: 50_000_000n });
    const keys = await client.contractKeys(id);
    const sealed = sealCommand({ contractEcdhPubkey: keys!.ecdh_pubkey, contractId: fromHex(id), sender: bob.accountId, gasLimit, input: utf8(JSON.stringify(command)) });
    await client.submit(bob, "PhalaPhatContracts", "push_contract_message", { contract: fromHex(id), payload: sealed.payload, deposit: 0n, gas_limit: gasLimit });
    const outcomes = await Promise.all(([1, 2] as const).map(async (i) => {
      const res = await waitFor(`${name}'s result on worker ${i}`, async () => {
        const x = await fetch(`http://127.0.0.1:${workerPort(i)}/contracts/${id}/results/${toHex(sealed.commandId)}`);
        return x.status === 200 ? ((await x.json()) as { result: string }) : undefined;
      }, 60_000);
      decodeExact(CommandResult, fromHex(res.result));
      return openCommandResult({ result: fromHex(res.result), contractId: fromHex(id), commandId: sealed.commandId, contractEcdhPubkey: keys!.ecdh_pubkey, senderPrivateKey: sealed.senderPrivateKey });
    }));
    for (const o of outcomes) {
      assert.equal(o.ok, false, name);
      assert.match(o.error!.kind, kind, `${name}: ${o.error!.kind} ${o.error!.message}`);
      assert.ok(o.fee > 0n, `${name}: the sender pays for the gas used`);
    }
    assert.equal(outcomes[0].gas_used, outcomes[1].gas_used, `${name}: same gas on both workers`);
  }
  // Still serving: the note store answers as before.
  assert.ok(JSON.stringify(await client.contract(contracts.notes).query(alice, { op: "list" })).includes(MARKERS.alice));
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

test("the SDK bundled for browsers deploys, sends and queries from a page realm without Node built-ins", async () => {
  const sdk = await bundleForBrowser('export * from "@phala-ts/sdk"; export { keyPairFromUri, utf8 } from "@phala-ts/primitives";', "PhalaBrowser");
  const page = createPageRealm([sdk]);
  const { code } = await buildContract(join(EXAMPLES, "notes.ts"));
  const args = JSON.stringify({ url: net.node.wsUrl, spec: DEV_TRUST.chainSpec, cluster: net.cluster, code: new TextDecoder().decode(code), marker: MARKERS.browser, gas: GAS.toString() });
  const out = await page.run<string>(`(async () => {
    const a = ${args};
    const seen = { noNode: typeof process === "undefined" && typeof Buffer === "undefined" && typeof require === "undefined" };
    const { PhalaClient, keyPairFromUri, utf8 } = await PhalaBrowser;
    const alice = keyPairFromUri("//Alice", "sr25519");
    const bob = keyPairFromUri("//Bob", "sr25519");
    const client = await PhalaClient.connect(a.url, { trust: { chainSpec: a.spec } });
    try {
      const codeHash = await client.uploadCode(alice, a.cluster, utf8(a.code));
      const id = await client.instantiate(alice, { codeHash, cluster: a.cluster, initArgs: {}, gasLimit: 50000000n, salt: "from a browser" });
      const notes = client.contract(id);
      const sent = await notes.send(alice, { op: "add", text: a.marker + " from the page" }, { gasLimit: BigInt(a.gas) });
      seen.gasUsed = String(sent.gasUsed);
      seen.alice = JSON.stringify(await notes.query(alice, { op: "list" }));
      seen.bob = JSON.stringify(await notes.query(bob, { op: "list" }));
      // Queries in flight together go as one POST /queries, across origins like the single ones.
      seen.together = (await Promise.all([alice, bob, alice].map((who) => notes.query(who, { op: "list" })))).map((o) => JSON.stringify(o));
      try {
        await notes.send(alice, { op: "add", text: "x" }, { gasLimit: 0n });
      } catch (e) {
        seen.refused = { name: e.name, code: e.code, where: e.where };
      }
      return JSON.stringify(seen);
    } finally {
      client.close();
    }
  })()`);
  const seen = JSON.parse(out) as { noNode: boolean; gasUsed: string; alice: string; bob: string; together: string[]; refused?: { name: string; code: string; where: string } };
  assert.equal(seen.noNode, true);
  assert.ok(BigInt(seen.gasUsed) > 0n);
  assert.ok(seen.alice.includes(MARKERS.browser), seen.alice);
  assert.ok(!seen.bob.includes(MARKERS.browser), seen.bob);
  assert.deepEqual(seen.together, [seen.alice, seen.bob, seen.alice]);
  assert.equal(seen.refused?.name, "PhalaSdkError");
});

test("leak test: the markers appear nowhere outside the TEE and the senders", async () => {
  const needles = Object.values(MARKERS).map((m) => Buffer.from(m));
  const leaks: string[] = [];
  const scan = (what: string, bytes: Uint8Array) => {
    for (const n of needles) if (Buffer.from(bytes).indexOf(n) >= 0) leaks.push(`${n} in ${what}`);
  };
  // The node's database files, and every block as RPC returns it.
  for (const f of filesUnder(join(net.base, "node"))) scan(f, readFileSync(f));
  const head = parseInt((await net.chain.call<{ number: string }>("chain_getHeader")).number, 16);
  for (let n = 1; n <= head; n++) {
    const hash = await net.chain.call<string>("chain_getBlockHash", [n]);
    scan(`block #${n}`, utf8(JSON.stringify(await net.chain.call("chain_getBlock", [hash]))));
    const block = (await net.chain.call<{ block: { extrinsics: string[] } }>("chain_getBlock", [hash])).block;
    for (const x of block.extrinsics) scan(`block #${n} extrinsic`, fromHex(x));
  }
  // pHost's output, and pRuntime's data directory (sealed).
  for (const m of net.members) {
    scan(`${m.name} pHost output`, utf8(m.phost.output()));
    scan(`${m.name} pRuntime output`, utf8(m.pruntime.output()));
    for (const f of filesUnder(m.dir)) scan(f, readFileSync(f));
  }
  assert.deepEqual(leaks, []);
  void QueryRequest;
});
