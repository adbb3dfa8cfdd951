import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { createClient, type PolkadotClient } from "polkadot-api";
import { getWsProvider } from "polkadot-api/ws";
import { getPolkadotSigner } from "polkadot-api/signer";
import { devAccount, encodeSs58, type KeyPair } from "@phala-ts/primitives";
import { spawnNode, type SpawnedNode } from "./helpers/spawn-node.ts";

/** The unsafe API returns unknown; this is the shape our metadata gives System.Account. */
type AccountInfo = { nonce: number; data: { free: bigint; reserved: bigint } };

let node: SpawnedNode;
let client: PolkadotClient;

before(async () => {
  node = await spawnNode();
  // Node 20 has no global WebSocket; polkadot-api takes the class to use.
  client = createClient(getWsProvider(node.wsUrl, { websocketClass: WebSocket as any }));
});

after(async () => {
  client?.destroy();
  await node?.cleanup();
});

function signerOf(k: KeyPair) {
  return getPolkadotSigner(k.publicKey, k.type === "sr25519" ? "Sr25519" : "Ed25519", (payload) => k.sign(payload));
}

test("polkadot-api reads System.Account and the SS58 prefix", async () => {
  const api = client.getUnsafeApi();
  const alice = encodeSs58(devAccount("Alice").accountId, 30);
  const acc = (await api.query.System.Account.getValue(alice)) as AccountInfo;
  assert.ok(acc.data.free > 0n);
  assert.equal(await api.constants.System.SS58Prefix(), 30);
});

for (const type of ["sr25519", "ed25519"] as const) {
  test(`polkadot-api: a ${type}-signed transfer_keep_alive is finalized with exact balances`, async () => {
    const api = client.getUnsafeApi();
    const from = devAccount(type === "sr25519" ? "Eve" : "Ferdie", type);
    const fromAddr = encodeSs58(from.accountId, 30);
    const bob = encodeSs58(devAccount("Bob").accountId, 30);
    const amount = 987_654_321n;
    const fin = await client.getFinalizedBlock();
    const [fromBefore, bobBefore] = (await Promise.all([
      api.query.System.Account.getValue(fromAddr, { at: fin.hash }),
      api.query.System.Account.getValue(bob, { at: fin.hash }),
    ])) as AccountInfo[];
    const tx = api.tx.Balances.transfer_keep_alive({ dest: { type: "Id", value: bob }, value: amount });
    const r = await tx.signAndSubmit(signerOf(from));
    assert.equal(r.ok, true);
    const transfer = r.events.find((e: any) => e.type === "Balances" && e.value.type === "Transfer");
    assert.ok(transfer, "Balances.Transfer event");
    assert.equal((transfer as any).value.value.amount, amount);
    const fee = (r.events.find((e: any) => e.type === "TransactionPayment" && e.value.type === "TransactionFeePaid") as any).value.value.actual_fee;
    const [fromAfter, bobAfter] = (await Promise.all([
      api.query.System.Account.getValue(fromAddr, { at: r.block.hash }),
      api.query.System.Account.getValue(bob, { at: r.block.hash }),
    ])) as AccountInfo[];
    assert.equal(fromAfter.data.free, fromBefore.data.free - amount - fee);
    assert.equal(bobAfter.data.free, bobBefore.data.free + amount);
  });
}
