import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignedMessage } from "@phala-ts/runtime/phala";
import { toHex } from "@phala-ts/primitives";
import { PruntimeCore } from "../src/pruntime.ts";
import { DevSealer } from "../src/sealer.ts";
import { silentLogger } from "../src/logger.ts";
import { ChainFixture } from "./chain-fixture.ts";
import { ChainSim } from "./chain-sim.ts";
import { MemorySealer, seededRandom } from "./memory-sealer.ts";
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_SEALED_NAME, CheckpointV1, loadCheckpoint } from "../src/checkpoint.ts";

function tempDir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "pruntime-checkpoint-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, interval: number, seed = 1): PruntimeCore {
  return PruntimeCore.open({ checkpointIntervalBlocks: interval, beaconIntervalBlocks: 5, logger: silentLogger }, { sealer: new DevSealer(dir), random: seededRandom(seed) });
}

const egressHex = (n: PruntimeCore) => n.pendingEgress().map((m) => toHex(SignedMessage.codec.enc(m)));

test("a restart resumes from the last checkpoint height and the chain re-feeds the rest", async (t) => {
  const dir = tempDir(t);
  const chain = new ChainFixture({ fillerKeys: 16 });
  for (let i = 0; i < 25; i++) chain.addBlock();
  const first = open(dir, 10);
  const identity = first.keys.identityPublicKey;
  first.init(chain.genesisHeader);
  for (let from = 1; from <= 25; from += 5) first.sync(chain.batch(from, from + 4));
  assert.equal(first.status().syncedHeight, 25);
  // Crash: no final checkpoint. The last one was sealed at 20.
  const second = open(dir, 10);
  assert.deepEqual(second.keys.identityPublicKey, identity);
  assert.equal(second.status().syncedHeight, 20);
  assert.deepEqual(second.status().syncedHash, chain.hashAt(20));
  await assert.rejects(second.sync(chain.batch(22, 25)), /starts at block 22/);
  second.sync(chain.batch(21, 25));
  assert.equal(second.status().syncedHeight, 25);
  // A clean stop seals the current height.
  second.checkpoint();
  assert.equal(open(dir, 10).status().syncedHeight, 25);
});

test("re-processing after a crash gives the same egress bytes and keeps the master key", (t) => {
  const dirA = tempDir(t);
  const dirB = tempDir(t);
  const sim = new ChainSim();
  let a = sim.add(open(dirA, 1000, 7));
  let b = sim.add(open(dirB, 1000, 8));
  const reg = (n: PruntimeCore) => ({ pubkey: n.keys.identityPublicKey, ecdh_pubkey: n.keys.ecdhPublicKey });
  sim.block([a, b].map((n) => ({ tag: "WorkerRegistered" as const, value: { ...reg(n), confidence_level: 128 } })));
  sim.block([{ tag: "GatekeeperRegistered", value: reg(a) }]);
  sim.block();
  sim.block([{ tag: "GatekeeperRegistered", value: reg(b) }]);
  sim.runTo(12);
  assert.equal(b.status().holdsMasterKey, true);
  // Nothing is submitted for a while: beacon 15 stays pending (a checkpoint is sealed when it
  // is made), and blocks 16..17 change nothing, so no checkpoint covers them.
  sim.runTo(17, { submitFrom: [] });
  const before = egressHex(a);
  assert.ok(before.length > 0);
  const masterPubkey = a.status().masterPubkey;

  // Both crash and come back from their checkpoints, below the chain's height.
  const reopen = (dir: string, seed: number) => open(dir, 1000, seed);
  a = reopen(dirA, 7);
  b = reopen(dirB, 8);
  assert.ok(a.status().syncedHeight < 17, `A resumed at ${a.status().syncedHeight}`);
  assert.ok(b.status().syncedHeight > 0, "B resumes from its checkpoint, not from genesis");
  assert.equal(a.status().holdsMasterKey, true);
  assert.equal(b.status().holdsMasterKey, true);
  for (const n of [a, b]) n.sync(sim.chain.batch(n.status().syncedHeight + 1, sim.chain.height));
  assert.deepEqual(egressHex(a), before, "the same egress, byte for byte");
  assert.deepEqual(a.status().masterPubkey, masterPubkey);
  sim.nodes.splice(0, 2, a, b);
  sim.runTo(25);
  assert.deepEqual(sim.refused, []);
  assert.equal(a.status().beaconMismatches + b.status().beaconMismatches, 0);
});

test("a format-1 checkpoint (before contracts) loads with an empty contracts state", () => {
  const sealer = new MemorySealer();
  const chain = new ChainFixture({ fillerKeys: 16 });
  for (let i = 0; i < 3; i++) chain.addBlock();
  const first = PruntimeCore.open({ checkpointIntervalBlocks: 1, beaconIntervalBlocks: 5, logger: silentLogger }, { sealer, random: seededRandom(3) });
  first.init(chain.genesisHeader);
  first.sync(chain.batch(1, 2));
  // Rewrite the sealed checkpoint the way issue 3's pRuntime wrote it.
  const v2 = loadCheckpoint(sealer)!;
  const c = v2.chain!;
  sealer.seal(
    CHECKPOINT_SEALED_NAME,
    CheckpointV1.codec.enc({
      version: 1,
      identity_seed: v2.identity_seed,
      ecdh_private_key: v2.ecdh_private_key,
      chain: { genesis_hash: c.genesis_hash, height: c.height, hash: c.hash, validator_set: c.validator_set, egress: c.egress, gatekeeper: c.gatekeeper },
    }),
  );
  const again = PruntimeCore.open({ checkpointIntervalBlocks: 1, beaconIntervalBlocks: 5, logger: silentLogger }, { sealer, random: seededRandom(3) });
  assert.deepEqual(again.keys.identityPublicKey, first.keys.identityPublicKey);
  assert.equal(again.status().syncedHeight, 2);
  again.sync(chain.batch(3, 3));
  assert.equal(loadCheckpoint(sealer)!.version, CHECKPOINT_FORMAT_VERSION);
  assert.deepEqual(again.clusters(), []);
});
