import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const PHALA_BIN = resolve(import.meta.dirname, "../packages/cli/bin/phala.mjs");
const phala = (...args: string[]) => spawnSync(process.execPath, [PHALA_BIN, ...args], { encoding: "utf8", timeout: 30_000 });

test("phala --help and phala node --help describe the commands and flags", () => {
  const top = phala("--help");
  assert.equal(top.status, 0);
  for (const cmd of ["phala node", "phala pruntime", "phala phost", "phala dev"]) assert.match(top.stdout, new RegExp(cmd));
  for (const [cmd, flag] of [["pruntime", "--data-dir"], ["phost", "--operator"], ["dev", "--base-path"]]) {
    const r = phala(cmd, "--help");
    assert.equal(r.status, 0);
    assert.ok(r.stdout.includes(flag), `${cmd} --help names ${flag}`);
  }
  const node = phala("node", "--help");
  assert.equal(node.status, 0);
  for (const flag of ["--dev", "--chain", "--base-path", "--tmp", "--rpc-port", "--rpc-methods", "--rpc-max-connections", "--validator", "--key-file", "--alice"]) assert.ok(node.stdout.includes(flag), flag);
  const pruntime = phala("pruntime", "--help");
  for (const flag of ["--max-connections", "--max-connections-per-ip", "--headers-timeout", "--request-timeout", "--keep-alive-timeout"]) assert.ok(pruntime.stdout.includes(flag), flag);
});

test("usage mistakes exit with status 2 and a message that says what to do", () => {
  const cases: Array<[string[], RegExp]> = [
    [["node"], /--dev, or --chain/],
    [["node", "--dev", "--bogus"], /unknown flag --bogus/],
    [["node", "--dev", "--rpc-port", "99999"], /--rpc-port must be an integer/],
    [["node", "--chain", "dev"], /--base-path <dir>, or --tmp/],
    [["node", "--dev", "--tmp", "--base-path", "/tmp/x"], /exclude each other/],
    [["node", "--chain", "dev", "--tmp", "--validator"], /--validator needs a key/],
    [["frobnicate"], /unknown command frobnicate/],
    [["pruntime"], /--data-dir <dir>/],
    [["pruntime", "--data-dir", "/tmp/x", "--tee", "magic"], /--tee must be one of/],
    [["pruntime", "--data-dir", "/tmp/x", "--max-connections", "0"], /--max-connections must be an integer from 1/],
    [["pruntime", "--data-dir", "/tmp/x", "--headers-timeout", "20", "--request-timeout", "10"], /--request-timeout must be at least --headers-timeout/],
    [["node", "--dev", "--rpc-methods", "sometimes"], /--rpc-methods must be one of safe, unsafe, auto/],
    [["node", "--dev", "--rpc-max-connections", "0"], /--rpc-max-connections must be an integer from 1/],
    [["phost"], /--operator \/\/Alice/],
    [["phost", "--operator", "//Bob", "--operator-type", "ecdsa"], /--operator-type must be sr25519 or ed25519/],
    [["dev", "--tmp", "--base-path", "/tmp/x"], /exclude each other/],
  ];
  for (const [args, pattern] of cases) {
    const r = phala(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test("phala build-spec prints the chain spec clients trust, and refuses a chain it cannot read", () => {
  const r = phala("build-spec", "--chain", "dev");
  assert.equal(r.status, 0, r.stderr);
  const spec = JSON.parse(r.stdout) as { id: string; genesis: { runtimeGenesis: { patch: { validators: unknown[] } } } };
  assert.equal(spec.id, "dev");
  assert.equal(spec.genesis.runtimeGenesis.patch.validators.length, 1);
  const bad = phala("build-spec", "--chain", "/nonexistent/spec.json");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a built-in chain/);
});

test("a chain spec that cannot be read is an operating error, not a crash", () => {
  const r = phala("node", "--chain", "/nonexistent/spec.json", "--tmp");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /INVALID_CHAIN_SPEC.*not a built-in chain/);
});

test("phala dev runs its processes from one bundle of the CLI, built once per state of the sources", async () => {
  const { devBundle } = await import("../packages/cli/src/dev-bundle.ts");
  const warnings: string[] = [];
  const first = await devBundle((l) => warnings.push(l));
  assert.ok(first !== undefined && existsSync(first), warnings.join("\n"));
  assert.equal(await devBundle((l) => warnings.push(l)), first, "the same sources reuse the bundle");
  assert.deepEqual(warnings, []);
  const viaBundle = spawnSync(process.execPath, [first, "--help"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(viaBundle.status, 0, viaBundle.stderr);
  assert.equal(viaBundle.stdout, phala("--help").stdout);
  // Modules still find what lies beside their sources (pRuntime measures its own source files).
  const attestation = pathToFileURL(resolve(import.meta.dirname, "../packages/pruntime/src/attestation.ts")).href;
  assert.ok(readFileSync(first, "utf8").includes(JSON.stringify(attestation)));
});
