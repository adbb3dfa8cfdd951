import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount, fromHex, toHex, type KeyPair } from "@phala-ts/primitives";
import { BalancesStorage, SystemStorage, createPhalaRuntime, signExtrinsic } from "@phala-ts/runtime";
import { AccountInfo, T } from "@phala-ts/runtime/types";
import { spawnNode } from "./helpers/spawn-node.ts";
import { WsRpc } from "./helpers/ws-rpc.ts";

/** How long the soak keeps the chain busy; SOAK_SECONDS overrides it. */
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const SEED = Number(process.env.SOAK_SEED ?? 20261123);

function xorshift(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test(`soak: ${SOAK_SECONDS}s of random transfers keep total issuance equal to the sum of balances (seed ${SEED})`, async () => {
  const node = await spawnNode();
  const rpc = await WsRpc.connect(node.wsUrl);
  try {
    const rt = createPhalaRuntime();
    const rand = xorshift(SEED);
    const senders: KeyPair[] = (["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"] as const).flatMap((n) => [devAccount(n), devAccount(n, "ed25519")]);
    const genesisHash = fromHex(await rpc.call("chain_getBlockHash", [0]));
    const version = await rpc.call("state_getRuntimeVersion");
    const nonces = await Promise.all(senders.map((s) => rpc.call("system_accountNextIndex", [toHex(s.accountId)])));
    const deadline = Date.now() + SOAK_SECONDS * 1000;
    let sent = 0;
    let checkedBlocks = 0;
    while (Date.now() < deadline) {
      const batch = [];
      for (let i = 0; i < 50; i++) {
        const k = Math.floor(rand() * senders.length);
        const to = senders[Math.floor(rand() * senders.length)].accountId;
        const call = rt.call.codec.enc({ tag: "Balances", value: { tag: rand() < 0.5 ? "transfer_keep_alive" : "transfer_allow_death", value: { dest: { tag: "Id", value: to }, value: BigInt(Math.floor(rand() * 1e12)) } } });
        const tx = signExtrinsic({ signer: senders[k], callBytes: call, nonce: nonces[k]++, specVersion: version.specVersion, transactionVersion: version.transactionVersion, genesisHash });
        batch.push(rpc.call("author_submitExtrinsic", [toHex(tx)]));
      }
      await Promise.all(batch);
      sent += batch.length;
      const head = await rpc.call("chain_getFinalizedHead");
      const keys: string[] = await rpc.call("state_getKeysPaged", [toHex(SystemStorage.Account.prefix), 1000, null, head]);
      const values = await rpc.call("state_queryStorageAt", [keys, head]);
      let sum = 0n;
      for (const [, v] of values[0].changes) {
        const a = AccountInfo.codec.dec(fromHex(v));
        sum += a.data.free + a.data.reserved;
      }
      const issuance = T.u128.codec.dec(fromHex(await rpc.call("state_getStorage", [toHex(BalancesStorage.TotalIssuance.key()), head])));
      assert.equal(sum, issuance, `total issuance equals the sum of balances at ${head} (seed ${SEED})`);
      checkedBlocks++;
    }
    assert.ok(sent > 0 && checkedBlocks > 0);
  } finally {
    rpc.close();
    await node.cleanup();
  }
});
