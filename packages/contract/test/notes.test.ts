import { test } from "node:test";
import assert from "node:assert/strict";
import { buildExample } from "./examples.ts";
import { ALICE, BOB, CHARLIE, contractError, FakeContractHost, ok } from "./fake-host.ts";

async function notes(): Promise<FakeContractHost> {
  return new FakeContractHost((await buildExample("notes")).code);
}

test("each account lists only its own notes", async () => {
  const c = await notes();
  assert.deepEqual(ok(c.handle({ op: "add", text: "alice secret 1" }, ALICE)), { index: 0 });
  assert.deepEqual(ok(c.handle({ op: "add", text: "bob secret" }, BOB)), { index: 0 });
  assert.deepEqual(ok(c.handle({ op: "add", text: "alice secret 2" }, ALICE)), { index: 1 });

  assert.deepEqual(ok(c.query({ op: "list" }, ALICE)), { notes: [{ index: 0, text: "alice secret 1" }, { index: 1, text: "alice secret 2" }] });
  assert.deepEqual(ok(c.query({ op: "list" }, BOB)), { notes: [{ index: 0, text: "bob secret" }] });
  assert.deepEqual(ok(c.query({ op: "list" }, CHARLIE)), { notes: [] });
  // Naming another account does nothing: a query only ever answers for its signer.
  assert.deepEqual(ok(c.query({ op: "list", owner: BOB, account: BOB }, ALICE)), ok(c.query({ op: "list" }, ALICE)));
  assert.ok(!JSON.stringify(ok(c.query({ op: "list", owner: BOB }, ALICE))).includes("bob secret"));
});

test("adding emits an event to the sender only, and queries cannot write", async () => {
  const c = await notes();
  const outcome = c.handle({ op: "add", text: "hello" }, ALICE);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.events, [{ to: ALICE, topic: "noteAdded", data: { index: 0 } }]);
  const before = new Map(c.storage);
  assert.match(contractError(c.query({ op: "add", text: "x" }, BOB)), /unknown query "add"/);
  assert.deepEqual(c.storage, before);
});

test("bad commands are refused with a ContractError and change nothing", async () => {
  const c = await notes();
  assert.match(contractError(c.handle({ op: "add", text: "" }, ALICE)), /text must be a non-empty string/);
  assert.match(contractError(c.handle({ op: "add", text: 5 }, ALICE)), /text must be a non-empty string/);
  assert.match(contractError(c.handle({ op: "add", text: "x".repeat(4097) }, ALICE)), /longer than 4096/);
  assert.match(contractError(c.handle({ op: "delete" }, ALICE)), /unknown command "delete"/);
  assert.match(contractError(c.handle("add", ALICE)), /command must be a JSON object/);
  assert.match(contractError(c.handle({ text: "x" }, ALICE)), /needs a string "op"/);
  assert.equal(c.storage.size, 0);
  ok(c.handle({ op: "add", text: "x".repeat(4096) }, ALICE));
  ok(c.handle({ op: "add", text: "ünïcødé ✓ \u{1F600}" }, ALICE));
  assert.equal((ok(c.query({ op: "list" }, ALICE)) as { notes: unknown[] }).notes.length, 2);
});
