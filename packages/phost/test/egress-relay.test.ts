import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyEgressRefusal } from "../src/egress-relay.ts";
import { NodeRpcError } from "../src/errors.ts";

const refusal = (code: number, message: string, data?: string) => new NodeRpcError("author_submitExtrinsic", code, message, data);

test("pool answers that mean 'already there' are told apart from real refusals", () => {
  assert.equal(classifyEgressRefusal(refusal(1013, "Transaction Already Imported")), "known");
  assert.equal(classifyEgressRefusal(refusal(1014, "Priority is too low", "(100 vs 100)")), "known");
  assert.equal(classifyEgressRefusal(refusal(1012, "Transaction is temporarily banned")), "known");
  assert.equal(classifyEgressRefusal(refusal(1010, "Invalid Transaction", "Transaction is outdated")), "known");
  assert.equal(classifyEgressRefusal(refusal(1010, "Invalid Transaction", "Transaction has a bad signature")), "refused");
  assert.equal(classifyEgressRefusal(refusal(1010, "Invalid Transaction", "Invalid signing address")), "refused");
  assert.equal(classifyEgressRefusal(refusal(1011, "Unknown Transaction Validity", "Could not find an unsigned validator")), "refused");
  assert.equal(classifyEgressRefusal(refusal(-32602, "Invalid params")), "refused");
});
