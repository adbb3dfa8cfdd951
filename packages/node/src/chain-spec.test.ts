import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devAccount, encodeSs58 } from "@phala-ts/primitives";
import { ChainSpecError, builtinChainSpecJson, loadChainSpec, parseChainSpec } from "./chain-spec.ts";

test("the dev spec endows the dev accounts, makes Alice sudo and Alice's ed25519 key the validator", () => {
  const spec = loadChainSpec("dev");
  assert.equal(spec.json.properties.ss58Format, 30);
  assert.equal(spec.json.chainType, "Development");
  assert.deepEqual(spec.genesis.sudoKey, devAccount("Alice").accountId);
  assert.deepEqual(spec.validatorSet.validators[0].public_key, devAccount("Alice", "ed25519").publicKey);
  assert.ok(spec.genesis.balances.some(([who]) => encodeSs58(who) === encodeSs58(devAccount("Ferdie").accountId)));
});

test("a chain spec file round-trips through JSON", () => {
  const dir = mkdtempSync(join(tmpdir(), "spec-"));
  const file = join(dir, "spec.json");
  writeFileSync(file, JSON.stringify(builtinChainSpecJson("local")));
  assert.equal(loadChainSpec(file).json.name, "Phala Local Testnet");
});

test("broken chain specs are refused with a message that says what to fix", () => {
  const base = builtinChainSpecJson("dev");
  const bad = (mutate: (s: any) => void, pattern: RegExp) => {
    const s = structuredClone(base);
    mutate(s);
    assert.throws(() => parseChainSpec(s), (e: unknown) => e instanceof ChainSpecError && pattern.test(e.message));
  };
  bad((s) => (s.genesis.runtimeGenesis.patch.balances.balances[0][0] = "not-an-address"), /balances\[0\].*SS58/);
  bad((s) => (s.genesis.runtimeGenesis.patch.balances.balances[0][1] = 1e30), /loses precision/);
  bad((s) => (s.genesis.runtimeGenesis.patch.balances.balances[0][1] = "-5"), /non-negative integer/);
  bad((s) => (s.genesis.runtimeGenesis.patch.validators = []), /at least one validator/);
  bad((s) => (s.genesis.runtimeGenesis.patch.validators[0].power = 0), /positive integer/);
  bad((s) => delete s.genesis, /genesis\.runtimeGenesis\.patch/);
  assert.throws(() => loadChainSpec("/nonexistent/spec.json"), /not a built-in chain/);
});

test("only a spec that says devAttestation accepts dev evidence; an explicit policy must agree with it", async () => {
  const { decodePolicy, devPolicy, encodePolicy } = await import("@phala-ts/attestation");
  const { toHex } = await import("@phala-ts/primitives");
  assert.equal(decodePolicy(loadChainSpec("dev").genesis.attestationPolicy!).allowDev, true);
  const local = decodePolicy(loadChainSpec("local").genesis.attestationPolicy!);
  assert.equal(local.allowDev, false, "a local testnet stands in for production");
  const spec = structuredClone(builtinChainSpecJson("local")) as any;
  spec.genesis.runtimeGenesis.patch.attestationPolicy = toHex(encodePolicy(devPolicy()));
  assert.throws(() => parseChainSpec(spec), (e: unknown) => e instanceof ChainSpecError && /devAttestation/.test(e.message));
  spec.genesis.runtimeGenesis.patch.attestationPolicy = "0x0102";
  assert.throws(() => parseChainSpec(spec), (e: unknown) => e instanceof ChainSpecError && /attestationPolicy/.test(e.message));
});
