import { test } from "node:test";
import assert from "node:assert/strict";
import { createPhalaRuntime } from "@phala-ts/runtime";
import { dispatchErrorName } from "../src/dispatch-outcome.ts";
import { REGISTRATION_REFUSALS_NEEDING_OPERATOR, REGISTRY_REFUSAL_HINTS, registryRefusalHint } from "../src/registry-refusals.ts";

const runtime = createPhalaRuntime();
const registry = runtime.pallet("PhalaRegistry")!;

test("dispatch errors are named Pallet.Error from the runtime's declarations, other kinds by their tag", () => {
  assert.equal(dispatchErrorName(runtime, registry.error("DevAttestationNotAllowed")), "PhalaRegistry.DevAttestationNotAllowed");
  assert.equal(dispatchErrorName(runtime, registry.error("EndpointStale")), "PhalaRegistry.EndpointStale");
  assert.equal(dispatchErrorName(runtime, { tag: "BadOrigin", value: undefined }), "BadOrigin");
  assert.equal(dispatchErrorName(runtime, { tag: "Token", value: { tag: "FundsUnavailable", value: undefined } }), "Token.FundsUnavailable");
  assert.equal(dispatchErrorName(runtime, { tag: "Module", value: { index: 250, error: new Uint8Array([3, 0, 0, 0]) } }), "Module(250, 3)");
  assert.equal(dispatchErrorName(runtime, { tag: "Module", value: { index: registry.index, error: new Uint8Array([255, 0, 0, 0]) } }), `Module(${registry.index}, 255)`);
});

test("every hint and every refusal that needs the operator names an error PhalaRegistry declares", () => {
  const declared = new Set<string>(registry.def.errors);
  for (const name of Object.keys(REGISTRY_REFUSAL_HINTS)) assert.ok(declared.has(name), name);
  for (const full of REGISTRATION_REFUSALS_NEEDING_OPERATOR) {
    assert.ok(declared.has(full.replace(/^PhalaRegistry\./, "")), full);
    assert.ok(registryRefusalHint(full), `${full} has a hint`);
  }
  assert.equal(registryRefusalHint("Balances.InsufficientBalance"), undefined);
  assert.equal(registryRefusalHint("PhalaRegistry.toString"), undefined);
});
