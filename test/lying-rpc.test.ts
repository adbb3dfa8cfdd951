/**
 * An RPC node is untrusted (ARCHITECTURE §2, §8): behind a proxy that lies about storage,
 * proofs, headers or certificates, or replays an old state, `phala contract call` submits
 * nothing and `phala contract query` sends nothing, both failing with CHAIN_UNVERIFIED; through
 * the same proxy passing everything on, both work. The provenance of a contract key is
 * returned and every link is checked.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromHex, keyPairFromUri } from "@phala-ts/primitives";
import { buildContract } from "@phala-ts/contract/build";
import { builtinChainSpecJson } from "@phala-ts/node";
import { PhalaClient, PhalaSdkError } from "@phala-ts/sdk";
import { LyingProxy, type LieMode } from "./helpers/lying-proxy.ts";
import { startNetwork, type TestNetwork } from "./helpers/network.ts";

const PHALA_BIN = resolve(import.meta.dirname, "../packages/cli/bin/phala.mjs");
const EXAMPLES = fileURLToPath(new URL("../packages/contract/examples/", import.meta.url));
const DEV_TRUST = { chainSpec: builtinChainSpecJson("dev") };
const PHA = 10n ** 12n;
const alice = keyPairFromUri("//Alice", "sr25519");

let net: TestNetwork;
let proxy: LyingProxy;
let client: PhalaClient;
let contract: string;
let contractEcdh: Uint8Array;

/** Runs the CLI without blocking this process (the proxy lives here). */
function phala(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [PHALA_BIN, ...args], { encoding: "utf8", timeout: 60_000 }, (e, stdout, stderr) => done({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

before(async () => {
  net = await startNetwork();
  client = await PhalaClient.connect(net.node.wsUrl, { trust: DEV_TRUST });
  await client.transferToCluster(alice, { cluster: net.cluster, amount: 10n * PHA });
  const { code } = await buildContract(join(EXAMPLES, "notes.ts"));
  const codeHash = await client.uploadCode(alice, net.cluster, code);
  contract = await client.instantiate(alice, { codeHash, cluster: net.cluster, initArgs: {}, gasLimit: 50_000_000n });
  contractEcdh = fromHex((await client.contractDetails(contract)).publicKeys!.ecdhPubkey);
  proxy = await LyingProxy.start(net.node.wsUrl, net.node.httpUrl);
});

after(async () => {
  client?.close();
  await proxy?.close();
  await net?.stop();
});

function errorOf(stdout: string): { code: string; details?: { link?: string } } {
  const parsed = JSON.parse(stdout) as { error?: { code: string; details?: { link?: string } } };
  assert.ok(parsed.error, stdout);
  return parsed.error;
}

test("through an honest proxy, call and query work", async () => {
  proxy.set("pass");
  const call = await phala("contract", "call", contract, '{"op":"add","text":"through the proxy"}', "--node", proxy.url, "--json");
  assert.equal(call.code, 0, call.stdout + call.stderr);
  assert.ok(proxy.calls.includes("author_submitAndWatchExtrinsic"));
  const query = await phala("contract", "query", contract, '{"op":"list"}', "--node", proxy.url, "--json");
  assert.equal(query.code, 0, query.stdout + query.stderr);
  assert.match(query.stdout, /through the proxy/);
});

const lies: Array<[LieMode, string, string]> = [
  ["flip-value", "a contract key swapped in the storage proof", "proof"],
  ["flip-proof", "a corrupted proof node", "proof"],
  ["flip-header", "a corrupted header", "header"],
  ["forge", "a forged header with a matching forged proof, certified by a non-validator", "certificate"],
];

for (const [mode, what, link] of lies) {
  test(`${what}: call submits nothing and query sends nothing; both fail with CHAIN_UNVERIFIED (${link})`, async () => {
    proxy.set(mode, contractEcdh);
    const call = await phala("contract", "call", contract, '{"op":"add","text":"must not be sent"}', "--node", proxy.url, "--json");
    assert.notEqual(call.code, 0);
    const e = errorOf(call.stdout);
    assert.equal(e.code, "CHAIN_UNVERIFIED", call.stdout);
    assert.equal(e.details?.link, link, call.stdout);
    assert.ok(!proxy.calls.some((m) => m.startsWith("author_submit")), `submitted through a lying node: ${proxy.calls.join(", ")}`);

    // The SDK's own fetch records every request to a worker: none may leave.
    const sent: string[] = [];
    const fetchSpy = ((url: string, init?: unknown) => {
      sent.push(url);
      return fetch(url, init as RequestInit);
    }) as never;
    const viaProxy = await PhalaClient.connect(proxy.url, { trust: DEV_TRUST, fetch: fetchSpy }).catch((err: unknown) => err);
    if (viaProxy instanceof PhalaClient) {
      try {
        await assert.rejects(viaProxy.contract(contract).query(alice, { op: "list" }), (err: unknown) => err instanceof PhalaSdkError && err.code === "CHAIN_UNVERIFIED");
      } finally {
        viaProxy.close();
      }
    } else {
      assert.ok(viaProxy instanceof PhalaSdkError && viaProxy.code === "CHAIN_UNVERIFIED", String(viaProxy));
    }
    assert.deepEqual(sent, [], "a query went to a worker on a lying node's word");
    const query = await phala("contract", "query", contract, '{"op":"list"}', "--node", proxy.url, "--json");
    assert.notEqual(query.code, 0);
    assert.equal(errorOf(query.stdout).code, "CHAIN_UNVERIFIED", query.stdout);
  });
}

test("a genuine but stale state (a node replaying an old finalized block) is refused", async () => {
  proxy.set("stale");
  const first = await PhalaClient.connect(proxy.url, { trust: DEV_TRUST });
  first.close();
  // Time passes for the client, not for the frozen head: ten minutes on, the head is too old.
  const later = await PhalaClient.connect(proxy.url, { trust: DEV_TRUST, now: () => Date.now() + 10 * 60_000 });
  try {
    await assert.rejects(later.contract(contract).query(alice, { op: "list" }), (err: unknown) => err instanceof PhalaSdkError && err.code === "CHAIN_UNVERIFIED" && err.details?.link === "stale");
  } finally {
    later.close();
  }
});

test("the provenance of a contract key: every link back to an attested gatekeeper", async () => {
  const p = await client.keyProvenance({ contract });
  const details = await client.contractDetails(contract);
  const cluster = await client.cluster(net.cluster);
  assert.equal(p.contract?.id, contract);
  assert.equal(p.contract?.ecdhPubkey, details.publicKeys!.ecdhPubkey);
  assert.equal(p.cluster.id, net.cluster);
  assert.equal(p.cluster.pubkey, cluster.publicKeys!.pubkey);
  assert.equal(p.masterKeys.length, p.cluster.masterRotation + 1);
  const gk = net.members.find((m) => m.name === "gatekeeper")!;
  assert.equal(p.gatekeeper.worker, gk.info.identityKey);
  assert.equal(p.gatekeeper.tee, "Dev");
  assert.equal(p.gatekeeper.confidenceLevel, 128);
  assert.equal(p.gatekeeper.isGatekeeper, true);
});
