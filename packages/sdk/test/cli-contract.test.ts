/**
 * `phala contract …` and `phala account …` as separate processes against the fake chain and
 * workers: flags, JSON output on stdout, exit codes, and the SDK path underneath.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blake2b256, keyPairFromUri, toHex } from "@phala-ts/primitives";
import { PHA } from "@phala-ts/runtime";
import { FakeCluster } from "./fake-cluster.ts";
import { failure } from "./fake-worker-crypto.ts";

const PHALA = resolve(import.meta.dirname, "../../cli/bin/phala.mjs");
const NOTES = resolve(import.meta.dirname, "../../contract/examples/notes.ts");
/** A CLI run that takes longer than this is stuck. */
const RUN_TIMEOUT_MS = 60_000;

let fake: FakeCluster;
let dir: string;

before(async () => {
  fake = await FakeCluster.start();
  dir = mkdtempSync(join(tmpdir(), "phala-cli-contract-"));
});

after(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => fake.reset());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `phala …args` without blocking this process, which serves the fake node and workers. */
function phala(...args: string[]): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [PHALA, ...args], { timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

function json(r: Run): any {
  assert.doesNotThrow(() => JSON.parse(r.stdout), `stdout is one JSON value:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

test("build, deploy, call, query and deposit through the CLI, with --json on stdout", async () => {
  const node = ["--node", fake.node.url];
  const out = join(dir, "notes.js");
  const built = await phala("contract", "build", NOTES, "--out", out, "--json");
  assert.equal(built.code, 0, built.stderr);
  const b = json(built);
  assert.equal(b.codeHash, toHex(blake2b256(readFileSync(out))));
  assert.equal(b.sizeBytes, readFileSync(out).length);

  // Two clusters on chain: deploy must be told which.
  const ambiguous = await phala("contract", "deploy", out, ...node);
  assert.equal(ambiguous.code, 2, ambiguous.stderr);
  assert.match(ambiguous.stderr, /say which cluster: --cluster <id>, one of 0x/);

  const cluster = toHex(fake.clusterId);
  const deployed = await phala("contract", "deploy", out, "--cluster", cluster, "--init", '{"owner":"alice"}', "--salt", "cli-1", ...node, "--json");
  assert.equal(deployed.code, 0, deployed.stderr);
  const d = json(deployed);
  assert.match(d.contractId, /^0x[0-9a-f]{64}$/);
  assert.equal(d.codeHash, b.codeHash);
  assert.equal(d.salt, "cli-1");
  assert.deepEqual(fake.initSeen, [{ owner: "alice" }]);

  const called = await phala("contract", "call", d.contractId, '{"op":"add","text":"hello"}', "--deposit", "0.5", ...node, "--json");
  assert.equal(called.code, 0, called.stderr);
  const c = json(called);
  assert.deepEqual(c.output, { echo: { op: "add", text: "hello" } });
  assert.equal(c.gasUsed, "1234");
  const pushed = fake.node.submitted.at(-1)!;
  assert.equal(pushed.name, "push_contract_message");
  assert.equal(pushed.args.deposit, PHA / 2n);

  const bob = keyPairFromUri("//Bob");
  const queried = await phala("contract", "query", d.contractId, '{"op":"list"}', "--suri", "//Bob", ...node, "--json");
  assert.equal(queried.code, 0, queried.stderr);
  assert.deepEqual(json(queried).output, { for: toHex(bob.accountId), input: { op: "list" } });

  const human = await phala("contract", "query", d.contractId, '{"op":"list"}', ...node);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /answered and signed by worker 0x/);

  const deposited = await phala("account", "deposit", "--cluster", cluster, "--amount", "1.5", ...node, "--json");
  assert.equal(deposited.code, 0, deposited.stderr);
  const t = fake.node.submitted.at(-1)!;
  assert.equal(t.name, "transfer_to_cluster");
  assert.equal(t.args.amount, (3n * PHA) / 2n);
  assert.equal(json(deposited).amount, String((3n * PHA) / 2n));
});

test("a failing call exits 1, names where it failed, and under --json prints the error as JSON", async () => {
  const node = ["--node", fake.node.url];
  const deployed = await phala("contract", "deploy", NOTES, "--cluster", toHex(fake.clusterId), "--salt", "cli-2", ...node, "--json");
  assert.equal(deployed.code, 0, deployed.stderr);
  const id = json(deployed).contractId;
  fake.execute = () => failure("gas", "out of gas", 10n);
  const r = await phala("contract", "call", id, '{"op":"loop"}', "--gas", "10", ...node, "--json");
  assert.equal(r.code, 1);
  assert.deepEqual({ code: json(r).error.code, where: json(r).error.where }, { code: "OUT_OF_GAS", where: "gas" });
  assert.match(r.stderr, /error \[OUT_OF_GAS\]: \(gas\) the command failed: it ran out of gas/);
});

test("accounts: dev keys with Phala addresses and balances", async () => {
  const r = await phala("account", "--node", fake.node.url, "--json");
  assert.equal(r.code, 0, r.stderr);
  const accounts = json(r).accounts as Array<{ name: string; address: string; accountId: string; free: string }>;
  assert.deepEqual(accounts.map((a) => a.name), ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"]);
  assert.equal(accounts[0].accountId, toHex(keyPairFromUri("//Alice").accountId));
  assert.match(accounts[0].address, /^4/, "SS58 prefix 30 addresses start with 4");
  const one = await phala("account", "--suri", "//Bob", "--key-type", "ed25519", "--node", fake.node.url);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^\/\/Bob \(ed25519\)  4\w+\n  free 0 PHA, reserved 0 PHA, nonce 0\n$/);
});

test("usage errors exit 2 and say what to do", async () => {
  // One process each costs seconds (tsx loads every command), so a few representative cases.
  const cases: Array<[string[], RegExp]> = [
    [["contract"], /say what to do: phala contract build \| deploy/],
    [["contract", "call", "0x1234", "{}"], /contract id .*0x followed by 64 hex digits/],
    [["contract", "call", `0x${"ab".repeat(32)}`, "{oops"], /not valid JSON.*quote it for the shell/],
    [["contract", "query", `0x${"ab".repeat(32)}`, "1", "--key-type", "rsa"], /--key-type must be one of sr25519, ed25519, ecdsa/],
    [["account", "deposit", "--cluster", `0x${"ab".repeat(32)}`, "--amount", "1.0000000000001"], /at most 12 decimals/],
  ];
  const runs = await Promise.all(cases.map(([args]) => phala(...args)));
  for (const [i, r] of runs.entries()) {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.equal(r.stdout, "");
  }
});
