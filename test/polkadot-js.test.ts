import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ApiPromise, WsProvider } from "@polkadot/api";
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { spawnNode, type SpawnedNode } from "./helpers/spawn-node.ts";

let node: SpawnedNode;
let api: ApiPromise;

before(async () => {
  await cryptoWaitReady();
  node = await spawnNode();
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), noInitWarn: true, throwOnConnect: true });
});

after(async () => {
  await api?.disconnect();
  await node?.cleanup();
});

async function sendAndFinalize(tx: any, signer: any): Promise<{ blockHash: string; events: any[] }> {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, (r: any) => {
      if (r.isError || r.status.isInvalid || r.status.isDropped) reject(new Error(`transaction failed: ${r.status.type}`));
      if (r.status.isFinalized) resolve({ blockHash: r.status.asFinalized.toHex(), events: r.events });
    }).catch(reject);
  });
}

test("polkadot-js reads chain constants and System.Account", async () => {
  const keyring = new Keyring({ type: "sr25519", ss58Format: 30 });
  const alice = keyring.addFromUri("//Alice");
  assert.equal(Number(api.consts.system.ss58Prefix.toString()), 30);
  assert.equal(api.registry.chainDecimals[0], 12);
  assert.equal(api.registry.chainTokens[0], "PHA");
  const acc: any = await api.query.system.account(alice.address);
  assert.ok(acc.data.free.toBigInt() > 0n);
});

for (const type of ["sr25519", "ed25519"] as const) {
  test(`polkadot-js: a ${type}-signed transfer_keep_alive is finalized with exact balances`, async () => {
    const keyring = new Keyring({ type, ss58Format: 30 });
    const from = keyring.addFromUri(type === "sr25519" ? "//Alice" : "//Dave");
    const to = new Keyring({ type: "sr25519", ss58Format: 30 }).addFromUri("//Bob");
    const amount = 1_234_567_890_123n;
    const [fromStart, toBefore]: any[] = await Promise.all([api.query.system.account(from.address), api.query.system.account(to.address)]);
    assert.ok(fromStart.data.free.toBigInt() > amount, `${type} sender is endowed at genesis`);
    const { blockHash, events } = await sendAndFinalize(api.tx.balances.transferKeepAlive(to.address, amount), from);
    const transfer = events.find((e: any) => e.event.section === "balances" && e.event.method === "Transfer");
    assert.ok(transfer, "Balances.Transfer event");
    assert.equal(transfer.event.data[2].toBigInt(), amount);
    const feePaid = events.find((e: any) => e.event.section === "transactionPayment" && e.event.method === "TransactionFeePaid");
    assert.ok(feePaid, "TransactionPayment.TransactionFeePaid event");
    const fee = feePaid.event.data[1].toBigInt();
    assert.ok(events.some((e: any) => e.event.section === "system" && e.event.method === "ExtrinsicSuccess"));
    const at = await api.at(blockHash);
    const [fromAfter, toAfter]: any[] = await Promise.all([at.query.system.account(from.address), at.query.system.account(to.address)]);
    assert.equal(fromAfter.data.free.toBigInt(), fromStart.data.free.toBigInt() - amount - fee);
    assert.equal(toAfter.data.free.toBigInt(), toBefore.data.free.toBigInt() + amount);
    const block = await api.rpc.chain.getBlock(blockHash);
    assert.ok(block.justifications.isSome, "finalized blocks carry their commit certificate");
  });
}
