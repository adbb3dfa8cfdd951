/**
 * Crash durability: a node streaming transfers is killed with SIGKILL and restarted on
 * the same base path. Nothing it had finalized may be lost or changed, its balances must
 * agree with its events, and it must carry on producing blocks and accepting transfers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiPromise, WsProvider } from "@polkadot/api";
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { fromHex, keyPairFromUri, toHex } from "@phala-ts/primitives";
import { createPhalaRuntime, decodeExtrinsic, signExtrinsic, SystemStorage } from "@phala-ts/runtime";
import { waitFor as waitUntil } from "./helpers/wait.ts";
import { spawnNode, rpcCall, type SpawnedNode } from "./helpers/spawn-node.ts";

/** Kill-and-restart cycles on one base path. */
const CRASH_ROUNDS = 2;
/** Before a kill: at least this many finalized blocks in the round and transfers accepted. */
const BLOCKS_BEFORE_KILL_MIN = 6;
const TRANSFERS_BEFORE_KILL_MIN = 15;
const WAIT_TIMEOUT_MS = 20_000;
const TRANSFER_BASE_AMOUNT = 1_000_000_000n;
/** A pruning window much shorter than a round, so crashes land while old states are being released. */
const PRUNED_STATE_BLOCKS = 4;
const PRUNED_CRASH_ROUNDS = 3;

const runtime = createPhalaRuntime();
const alice = keyPairFromUri("//Alice");
const bob = keyPairFromUri("//Bob");
const bobAccountKey = toHex(SystemStorage.Account.key(bob.accountId));


async function call(node: SpawnedNode, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpcCall(node.httpUrl, method, params);
  if (r.error) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
  return r.result;
}

async function finalizedHead(node: SpawnedNode): Promise<{ number: number; hash: string }> {
  const hash: string = await call(node, "chain_getFinalizedHead");
  const header = await call(node, "chain_getHeader", [hash]);
  return { number: parseInt(header.number, 16), hash };
}

async function bobFreeAt(node: SpawnedNode, blockHash: string): Promise<bigint> {
  const raw: string | null = await call(node, "state_getStorage", [bobAccountKey, blockHash]);
  assert.ok(raw, `Bob's account exists at ${blockHash}`);
  return SystemStorage.Account.type.codec.dec(fromHex(raw)).data.free;
}

interface Snapshot {
  number: number;
  hashes: string[];
  bobFree: bigint;
}

/**
 * Streams transfers from Alice to Bob, each awaited until the pool accepts it, until `stop`
 * is set or the node goes away. Records every transfer it got accepted.
 */
function streamTransfers(node: SpawnedNode, ctx: { genesisHash: Uint8Array; specVersion: number; transactionVersion: number }, sent: Map<string, bigint>) {
  const state = { stop: false, accepted: 0, error: undefined as unknown };
  const done = (async () => {
    let nonce: number = await call(node, "system_accountNextIndex", [toHex(alice.accountId)]);
    while (!state.stop) {
      const amount = TRANSFER_BASE_AMOUNT + BigInt(nonce);
      const tx = signExtrinsic({
        signer: alice,
        callBytes: runtime.call.codec.enc({ tag: "Balances", value: { tag: "transfer_keep_alive", value: { dest: { tag: "Id", value: bob.accountId }, value: amount } } }),
        nonce,
        specVersion: ctx.specVersion,
        transactionVersion: ctx.transactionVersion,
        genesisHash: ctx.genesisHash,
      });
      let r;
      try {
        r = await rpcCall(node.httpUrl, "author_submitExtrinsic", [toHex(tx)]);
      } catch (e) {
        state.error = e; // the node was killed under us: expected at the end of a round
        return;
      }
      if (r.error) throw new Error(`transfer with nonce ${nonce} refused: ${JSON.stringify(r.error)}`);
      assert.equal(r.result, toHex(decodeExtrinsic(tx).hash));
      sent.set(toHex(tx), amount);
      state.accepted++;
      nonce++;
    }
  })();
  return { state, done };
}

interface ChainContext {
  genesisHash: Uint8Array;
  specVersion: number;
  transactionVersion: number;
}

/** Sum of the transfers this test sent that blocks 1..=upTo carry; every extrinsic but the timestamp must be one. */
async function transferredUpTo(node: SpawnedNode, upTo: number, sent: Map<string, bigint>): Promise<{ amount: bigint; count: number }> {
  let amount = 0n;
  let count = 0;
  for (let n = 1; n <= upTo; n++) {
    const block = await call(node, "chain_getBlock", [await call(node, "chain_getBlockHash", [n])]);
    for (const x of block.block.extrinsics.slice(1)) {
      const v = sent.get(x);
      assert.ok(v !== undefined, `block #${n} carries an extrinsic this test never sent: ${x}`);
      amount += v;
      count++;
    }
  }
  return { amount, count };
}

/**
 * Runs `rounds` cycles of: stream transfers, snapshot the finalized chain, SIGKILL, restart on
 * the same base path, check nothing finalized was lost or changed. Returns the running node.
 */
async function crashRounds(
  t: { diagnostic(msg: string): void },
  opts: { basePath: string; args?: string[]; rounds: number; stateKept: (snapshotNumber: number, headNumber: number) => boolean },
  ctx: ChainContext,
  sent: Map<string, bigint>,
  startNode: SpawnedNode,
  onRestart: (node: SpawnedNode) => void,
): Promise<{ node: SpawnedNode; snapshot: Snapshot }> {
  let node = startNode;
  let snapshot: Snapshot | undefined;
  for (let round = 1; round <= opts.rounds; round++) {
    const startNumber = (await finalizedHead(node)).number;
    const stream = streamTransfers(node, ctx, sent);
    await waitFor(`round ${round}: ${BLOCKS_BEFORE_KILL_MIN} blocks and ${TRANSFERS_BEFORE_KILL_MIN} transfers`, async () => {
      if (stream.state.error) throw stream.state.error;
      const head = await finalizedHead(node);
      return head.number >= startNumber + BLOCKS_BEFORE_KILL_MIN && stream.state.accepted >= TRANSFERS_BEFORE_KILL_MIN ? true : undefined;
    });

    // Right before the kill, with transfers still streaming: what is final now must survive.
    // One state_queryStorageAt reads Bob's account and names its block atomically, before a
    // short pruning window can drop that state.
    const [{ block: headHash, changes }] = await call(node, "state_queryStorageAt", [[bobAccountKey]]);
    const bobFree = SystemStorage.Account.type.codec.dec(fromHex(changes[0][1])).data.free;
    const headNumber = parseInt((await call(node, "chain_getHeader", [headHash])).number, 16);
    const hashes: string[] = [];
    for (let n = 0; n <= headNumber; n++) hashes.push(await call(node, "chain_getBlockHash", [n]));
    assert.equal(hashes[headNumber], headHash);
    snapshot = { number: headNumber, hashes, bobFree };
    const acceptedAtKill = stream.state.accepted;
    await node.kill("SIGKILL");
    stream.state.stop = true;
    await stream.done;
    assert.equal(node.proc.signalCode, "SIGKILL", "the node died by SIGKILL");

    node = await spawnNode({ basePath: opts.basePath, args: opts.args });
    onRestart(node);
    const after = await finalizedHead(node);
    t.diagnostic(`round ${round}: killed at finalized #${snapshot.number} (or later) after ${acceptedAtKill} transfers accepted; restarted at #${after.number}`);
    assert.ok(after.number >= snapshot.number, `round ${round}: finalized #${after.number} after restart, #${snapshot.number} before the kill`);
    for (let n = 0; n <= snapshot.number; n++) {
      assert.equal(await call(node, "chain_getBlockHash", [n]), snapshot.hashes[n], `round ${round}: block #${n} changed across the crash`);
    }
    // Blocks finalized between the snapshot and the kill must chain onto it too.
    for (let n = 1; n <= after.number; n++) {
      const header = await call(node, "chain_getHeader", [await call(node, "chain_getBlockHash", [n])]);
      assert.equal(header.parentHash, await call(node, "chain_getBlockHash", [n - 1]), `round ${round}: block #${n} does not extend #${n - 1}`);
    }
    if (opts.stateKept(snapshot.number, after.number)) {
      assert.equal(await bobFreeAt(node, snapshot.hashes[snapshot.number]), snapshot.bobFree, `round ${round}: Bob's balance at #${snapshot.number} changed`);
    }
  }
  assert.ok(snapshot);
  return { node, snapshot };
}

async function chainContext(node: SpawnedNode): Promise<ChainContext> {
  const version = await call(node, "state_getRuntimeVersion");
  return { genesisHash: fromHex(await call(node, "chain_getBlockHash", [0])), specVersion: version.specVersion, transactionVersion: version.transactionVersion };
}

test("SIGKILL while transfers stream loses nothing finalized; the node restarts and carries on", { timeout: 120_000 }, async (t) => {
  await cryptoWaitReady();
  const basePath = mkdtempSync(join(tmpdir(), "phala-durability-"));
  let node = await spawnNode({ basePath });
  let api: ApiPromise | undefined;
  t.after(async () => {
    await api?.disconnect();
    await node.cleanup();
    rmSync(basePath, { recursive: true, force: true });
  });

  const ctx = await chainContext(node);
  const bobGenesis = await bobFreeAt(node, toHex(ctx.genesisHash));
  /** Every transfer the pool accepted, by extrinsic hex; only some are ever finalized. */
  const sent = new Map<string, bigint>();
  const crashed = await crashRounds(t, { basePath, rounds: CRASH_ROUNDS, stateKept: () => true }, ctx, sent, node, (n) => (node = n));
  const snapshot = crashed.snapshot;

  // Bob's balance is exactly genesis plus the Balances.Transfer events to him up to the snapshot,
  // and each of those is one of the transfers this test sent.
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), noInitWarn: true, throwOnConnect: true });
  const bobAddress = api.createType("AccountId32", bob.accountId).toString();
  let received = 0n;
  let transfers = 0;
  for (let n = 1; n <= snapshot.number; n++) {
    const events: any = await (await api.at(snapshot.hashes[n])).query.system.events();
    for (const { event } of events) {
      if (event.section !== "balances" || event.method !== "Transfer" || event.data[1].toString() !== bobAddress) continue;
      received += event.data[2].toBigInt();
      transfers++;
    }
  }
  const carried = await transferredUpTo(node, snapshot.number, sent);
  assert.equal(transfers, carried.count, "one Balances.Transfer event per transfer the blocks carry");
  assert.equal(received, carried.amount, "the events' amounts are the transfers' amounts");
  assert.ok(transfers >= TRANSFERS_BEFORE_KILL_MIN, `only ${transfers} transfers to Bob were finalized by #${snapshot.number}`);
  assert.equal(snapshot.bobFree, bobGenesis + received, `Bob's balance is genesis + ${transfers} transfers`);

  // The restarted node carries on: blocks keep coming and a new transfer finalizes.
  const restartedAt = (await finalizedHead(node)).number;
  await waitFor("the head to grow after the restart", async () => ((await finalizedHead(node)).number > restartedAt ? true : undefined));
  const keyring = new Keyring({ type: "sr25519", ss58Format: 30 });
  const amount = 4_242_424_242n;
  const bobBefore = (await api.query.system.account(bob.accountId) as any).data.free.toBigInt();
  const blockHash = await new Promise<string>((resolve, reject) => {
    api.tx.balances
      .transferKeepAlive(bobAddress, amount)
      .signAndSend(keyring.addFromUri("//Alice"), (r: any) => {
        if (r.isError || r.status.isInvalid || r.status.isDropped || r.status.isUsurped) reject(new Error(`transfer after restart: ${r.status.type}`));
        if (r.status.isFinalized) resolve(r.status.asFinalized.toHex());
      })
      .catch(reject);
  });
  assert.equal(await bobFreeAt(node, blockHash), bobBefore + amount, "the transfer after the restart moved the exact amount");
  assert.doesNotMatch(node.output(), /rpc method failed|CORRUPT|uncaught/i, "the restarted node logged no failures");
});

test("with --state-pruning 4, SIGKILL and restart keep recent state consistent and the chain growing", { timeout: 120_000 }, async (t) => {
  const basePath = mkdtempSync(join(tmpdir(), "phala-durability-pruned-"));
  const args = ["--dev", "--base-path", basePath, "--rpc-port", "0", "--block-interval-ms", "500", "--log", "info", "--state-pruning", String(PRUNED_STATE_BLOCKS)];
  let node = await spawnNode({ basePath, args });
  t.after(async () => {
    await node.cleanup();
    rmSync(basePath, { recursive: true, force: true });
  });
  const ctx = await chainContext(node);
  const bobGenesis = await bobFreeAt(node, toHex(ctx.genesisHash));
  const sent = new Map<string, bigint>();
  const { snapshot } = await crashRounds(
    t,
    { basePath, args, rounds: PRUNED_CRASH_ROUNDS, stateKept: (snap, head) => head - snap < PRUNED_STATE_BLOCKS },
    ctx,
    sent,
    node,
    (n) => (node = n),
  );
  // Block bodies outlive pruned state: the transfers they carry account for Bob's balance,
  // at the snapshot and at the restarted head.
  const atSnapshot = await transferredUpTo(node, snapshot.number, sent);
  assert.equal(snapshot.bobFree, bobGenesis + atSnapshot.amount, `Bob's balance at #${snapshot.number} is genesis + ${atSnapshot.count} transfers`);

  // The restarted node keeps building on its pruned state and a new transfer lands.
  const restartedAt = await finalizedHead(node);
  await waitFor("the head to grow after the restart", async () => ((await finalizedHead(node)).number > restartedAt.number ? true : undefined));
  const stream = streamTransfers(node, ctx, sent);
  await waitFor("a transfer after the restart to be finalized", async () => {
    if (stream.state.error) throw stream.state.error;
    const head = await finalizedHead(node);
    const carried = await transferredUpTo(node, head.number, sent);
    return carried.count > 0 && stream.state.accepted > 0 && head.number > restartedAt.number + PRUNED_STATE_BLOCKS ? { head, carried } : undefined;
  });
  stream.state.stop = true;
  await stream.done;
  const head = await finalizedHead(node);
  const carried = await transferredUpTo(node, head.number, sent);
  assert.equal(await bobFreeAt(node, head.hash), bobGenesis + carried.amount, `Bob's balance at #${head.number} is genesis + ${carried.count} transfers`);
  // State older than the window is gone with a clear error; the window itself is readable.
  const old = await rpcCall(node.httpUrl, "state_getStorage", [bobAccountKey, snapshot.hashes[1]]);
  assert.equal(old.error?.code, 4003, `state of #1 should be pruned: ${JSON.stringify(old)}`);
  assert.match(old.error.message, /pruned/);
  assert.doesNotMatch(node.output(), /rpc method failed|CORRUPT|uncaught|AssertionError/i, "the restarted node logged no failures");
});

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  return waitUntil(what, probe, timeoutMs);
}
