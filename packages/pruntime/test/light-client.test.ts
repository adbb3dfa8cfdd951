import { test } from "node:test";
import assert from "node:assert/strict";
import { devAccount, utf8 } from "@phala-ts/primitives";
import { decodeHeader, encodeHeader } from "@phala-ts/runtime/consensus";
import { MessageList, PhalaMqStorage, SyncBatch, type MessageValue, type SyncBatchValue } from "@phala-ts/runtime/phala";
import { SyncError } from "../src/errors.ts";
import { LightClient, decodeSyncBatch, genesisState } from "../src/light-client.ts";
import { ChainFixture, FIXTURE_BLOCK_TIME_MS, FIXTURE_GENESIS_TIME_MS, encodeTimestamp, message } from "./chain-fixture.ts";

const [alice, bob, charlie, dave] = (["Alice", "Bob", "Charlie", "Dave"] as const).map((n) => devAccount(n, "ed25519"));
const registry = { tag: "Pallet" as const, value: utf8("PhalaRegistry") };
const msgs = (n: number, tag = "m"): MessageValue[] => Array.from({ length: n }, (_, i) => message(registry, "test/topic", utf8(`${tag}${i}`)));

function chainWith(blocks: MessageValue[][], validators = [alice]): ChainFixture {
  const c = new ChainFixture({ validators, fillerKeys: 64 });
  for (const m of blocks) c.addBlock(m);
  return c;
}

function expectRefused(lc: LightClient, batch: SyncBatchValue, code: string): void {
  const before = lc.state;
  assert.throws(
    () => lc.verify(batch),
    (e: unknown) => e instanceof SyncError && e.code === code,
    `expected ${code}`,
  );
  assert.equal(lc.state, before, "a refused batch leaves the state untouched");
}

test("a proven, certified batch is accepted and its messages come out decoded", () => {
  const chain = chainWith([[], msgs(3), [], msgs(1, "x")]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  const v = lc.verify(chain.batch(1, 4));
  assert.equal(lc.state.height, 0, "verify alone changes nothing");
  lc.commit(v);
  assert.equal(lc.state.height, 4);
  assert.deepEqual(lc.state.hash, chain.hashAt(4));
  assert.deepEqual(v.blocks.map((b) => b.messages.length), [0, 3, 0, 1]);
  assert.deepEqual(v.blocks[1].messages[2].payload, utf8("m2"));
  assert.deepEqual(
    v.blocks.map((b) => b.timestampMs),
    [1n, 2n, 3n, 4n].map((n) => FIXTURE_GENESIS_TIME_MS + n * FIXTURE_BLOCK_TIME_MS),
    "every block carries its proven timestamp",
  );
  assert.equal(lc.state.timestampMs, FIXTURE_GENESIS_TIME_MS + 4n * FIXTURE_BLOCK_TIME_MS);
  // The next batch continues from there.
  chain.addBlock(msgs(2));
  lc.commit(lc.verify(chain.batch(5, 5)));
  assert.equal(lc.state.height, 5);
});

test("a header with a bad parent link is refused", () => {
  const chain = chainWith([[], [], []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  const batch = chain.batch(1, 3);
  const h = decodeHeader(batch.blocks[1].header);
  h.parent_hash = h.parent_hash.slice();
  h.parent_hash[0] ^= 1;
  batch.blocks[1] = { ...batch.blocks[1], header: encodeHeader(h) };
  expectRefused(lc, batch, "BAD_LINK");
  // Skipping a block breaks the link too.
  expectRefused(lc, { blocks: [chain.batch(1, 1).blocks[0], chain.batch(3, 3).blocks[0]], certificate: chain.certificate(3) }, "BAD_LINK");
});

test("a batch that does not start right after the synced block is refused", () => {
  const chain = chainWith([[], [], []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  expectRefused(lc, chain.batch(2, 3), "NOT_NEXT");
  lc.commit(lc.verify(chain.batch(1, 2)));
  expectRefused(lc, chain.batch(1, 3), "NOT_NEXT");
});

test("a certificate signed by a non-validator is refused", () => {
  const chain = chainWith([[], []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  expectRefused(lc, chain.batch(1, 2, chain.certificate(2, { keys: [bob] })), "BAD_CERTIFICATE");
  // A certificate for another block, or garbage, is no better.
  expectRefused(lc, chain.batch(1, 2, chain.certificate(1)), "BAD_CERTIFICATE");
  expectRefused(lc, chain.batch(1, 2, new Uint8Array([1, 2, 3])), "BAD_CERTIFICATE");
});

test("a certificate below the 2/3 threshold is refused", () => {
  const chain = chainWith([[], []], [alice, bob, charlie]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  expectRefused(lc, chain.batch(1, 2, chain.certificate(2, { signers: [0] })), "BAD_CERTIFICATE");
  expectRefused(lc, chain.batch(1, 2, chain.certificate(2, { signers: [0, 2] })), "BAD_CERTIFICATE");
  lc.commit(lc.verify(chain.batch(1, 2, chain.certificate(2, { signers: [0, 1, 2] }))));
  assert.equal(lc.state.height, 2);
});

test("a proof made against another state root is refused", () => {
  const chain = chainWith([msgs(1), msgs(1, "y"), []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  const batch = chain.batch(1, 3);
  batch.blocks[2] = { ...batch.blocks[2], proof: batch.blocks[1].proof };
  expectRefused(lc, batch, "BAD_PROOF");
  const empty = chain.batch(1, 3);
  empty.blocks[0] = { ...empty.blocks[0], proof: [] };
  expectRefused(lc, empty, "BAD_PROOF");
});

test("a message list with an extra or a missing message is refused", () => {
  const chain = chainWith([msgs(3), []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  const extra = chain.batch(1, 2);
  extra.blocks[0] = { ...extra.blocks[0], messages: MessageList.codec.enc([...msgs(3), message(registry, "test/topic", utf8("forged"))]) };
  expectRefused(lc, extra, "MESSAGES_MISMATCH");
  const missing = chain.batch(1, 2);
  missing.blocks[0] = { ...missing.blocks[0], messages: MessageList.codec.enc(msgs(3).slice(0, 2)) };
  expectRefused(lc, missing, "MESSAGES_MISMATCH");
  const hidden = chain.batch(1, 2);
  hidden.blocks[0] = { ...hidden.blocks[0], messages: Uint8Array.of(0) };
  expectRefused(lc, hidden, "MESSAGES_MISMATCH");
  const invented = chain.batch(1, 2);
  invented.blocks[1] = { ...invented.blocks[1], messages: MessageList.codec.enc(msgs(1)) };
  expectRefused(lc, invented, "MESSAGES_MISMATCH");
});

test("a validator-set change announced in the last header is followed", () => {
  const chain = new ChainFixture({ validators: [alice], fillerKeys: 64 });
  chain.addBlock();
  chain.addBlock([], [bob, charlie, dave]);
  chain.addBlock(msgs(2));
  chain.addBlock();
  const lc = new LightClient(genesisState(chain.genesisHeader));
  lc.commit(lc.verify(chain.batch(1, 2)));
  assert.equal(lc.state.validatorSet.set_id, 1n);
  assert.equal(lc.state.validatorSet.validators.length, 3);
  // Alice no longer certifies; the new set does.
  expectRefused(lc, chain.batch(3, 4, chain.certificate(4, { keys: [alice], set: chain.certifying(1).set })), "BAD_CERTIFICATE");
  lc.commit(lc.verify(chain.batch(3, 4)));
  assert.equal(lc.state.height, 4);
});

test("an announcement in the middle of a batch is refused", () => {
  const chain = new ChainFixture({ validators: [alice], fillerKeys: 64 });
  chain.addBlock();
  chain.addBlock([], [bob]);
  chain.addBlock();
  const lc = new LightClient(genesisState(chain.genesisHeader));
  // Certified by the set that is current at block 3 (Bob) or the old one (Alice): refused either way.
  expectRefused(lc, chain.batch(1, 3), "MALFORMED");
  expectRefused(lc, chain.batch(1, 3, chain.certificate(3, { keys: [alice], set: chain.certifying(1).set })), "MALFORMED");
});

test("malformed input is refused with MALFORMED", () => {
  const chain = chainWith([[]]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  assert.throws(() => decodeSyncBatch(new Uint8Array([9, 9, 9])), (e: unknown) => e instanceof SyncError && e.code === "MALFORMED");
  const bytes = SyncBatch.codec.enc(chain.batch(1, 1));
  assert.deepEqual(decodeSyncBatch(bytes).blocks.length, 1);
  assert.throws(() => decodeSyncBatch(bytes.subarray(0, bytes.length - 1)), (e: unknown) => e instanceof SyncError && e.code === "MALFORMED");
  expectRefused(lc, { blocks: [], certificate: chain.certificate(1) }, "MALFORMED");
  const garbled = chain.batch(1, 1);
  garbled.blocks[0] = { ...garbled.blocks[0], header: new Uint8Array(5) };
  expectRefused(lc, garbled, "MALFORMED");
  assert.throws(() => genesisState(chain.blocks[0].header), (e: unknown) => e instanceof SyncError && e.code === "MALFORMED");
});

test("a timestamp other than the proven Timestamp.Now is refused", () => {
  const chain = chainWith([msgs(2), []]);
  const lc = new LightClient(genesisState(chain.genesisHeader));
  const later = chain.batch(1, 2);
  later.blocks[1] = { ...later.blocks[1], timestamp: encodeTimestamp(chain.blocks[1].timestampMs + 1n) };
  expectRefused(lc, later, "TIMESTAMP_MISMATCH");
  const swapped = chain.batch(1, 2);
  swapped.blocks[0] = { ...swapped.blocks[0], timestamp: chain.blocks[1].timestamp };
  expectRefused(lc, swapped, "TIMESTAMP_MISMATCH");
  const short = chain.batch(1, 2);
  short.blocks[0] = { ...short.blocks[0], timestamp: chain.blocks[0].timestamp.subarray(0, 4) };
  expectRefused(lc, short, "TIMESTAMP_MISMATCH");
  // A proof of the messages alone does not prove the timestamp.
  const partial = chain.batch(1, 2);
  const messagesOnly = chain.store.prove(chain.blocks[1].stateRoot, [PhalaMqStorage.OutboundMessages.key()]);
  partial.blocks[1] = { ...partial.blocks[1], proof: messagesOnly };
  expectRefused(lc, partial, "BAD_PROOF");
  lc.commit(lc.verify(chain.batch(1, 2)));
  assert.equal(lc.state.timestampMs, chain.blocks[1].timestampMs);
});
