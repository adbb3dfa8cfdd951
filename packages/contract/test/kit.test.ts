import { test } from "node:test";
import assert from "node:assert/strict";
import { ContractError, defineContract, emit, env, random, storage, STORAGE_KEYS_LIMIT_MAX, type Env, type PhalaHost } from "@phala-ts/contract";

type Global = { __phala_host?: PhalaHost };

/** Runs `f` with a recording host installed on this realm's globalThis. */
function withHost<T>(f: (calls: unknown[][], stored: Map<string, string>) => T): T {
  const calls: unknown[][] = [];
  const stored = new Map<string, string>();
  const environment: Env = { blockNumber: 7, timestamp: 1234, contractId: `0x${"11".repeat(32)}`, caller: null, mode: "handle" };
  const host: PhalaHost = {
    storageGet: (k) => (calls.push(["get", k]), stored.get(k)),
    storageSet: (k, v) => (calls.push(["set", k, v]), void stored.set(k, v)),
    storageRemove: (k) => (calls.push(["remove", k]), void stored.delete(k)),
    storageKeys: (p, limit) => (calls.push(["keys", p, limit]), [...stored.keys()].filter((k) => k.startsWith(p)).sort().slice(0, limit)),
    emit: (t, d) => void calls.push(["emit", t, d]),
    env: () => JSON.stringify(environment),
  };
  (globalThis as Global).__phala_host = host;
  try {
    return f(calls, stored);
  } finally {
    delete (globalThis as Global).__phala_host;
  }
}

test("storage stores JSON text and gives back JSON values", () => {
  withHost((calls, stored) => {
    storage.set("a", { n: 1, s: "x", l: [true, null] });
    assert.equal(stored.get("a"), '{"n":1,"s":"x","l":[true,null]}');
    assert.deepEqual(storage.get("a"), { n: 1, s: "x", l: [true, null] });
    assert.equal(storage.get("missing"), undefined);
    storage.set("b", 0);
    assert.equal(storage.get<number>("b"), 0);
    assert.deepEqual(storage.keys("a"), ["a"]);
    assert.deepEqual(calls.at(-1), ["keys", "a", STORAGE_KEYS_LIMIT_MAX], "keys defaults to the largest limit");
    storage.keys("", 1);
    assert.deepEqual(calls.at(-1), ["keys", "", 1]);
    storage.remove("a");
    assert.equal(stored.has("a"), false);
  });
});

test("values with no JSON form are refused before reaching the host", () => {
  withHost((calls) => {
    assert.throws(() => storage.set("k", undefined), TypeError);
    assert.throws(() => storage.set("k", () => 1), /storage\.set: value has no JSON form/);
    assert.throws(() => storage.set("k", 1n), TypeError, "bigint must be encoded by the contract");
    assert.throws(() => emit("t", undefined), /emit: value has no JSON form/);
    assert.equal(calls.length, 0);
  });
});

test("env, emit and random", () => {
  withHost((calls) => {
    assert.deepEqual(env(), { blockNumber: 7, timestamp: 1234, contractId: `0x${"11".repeat(32)}`, caller: null, mode: "handle" });
    emit("topic", { a: 1 });
    assert.deepEqual(calls.at(-1), ["emit", "topic", '{"a":1}']);
    const r = random();
    assert.ok(r >= 0 && r < 1);
  });
});

test("without the VM's host, calls fail loudly", () => {
  assert.throws(() => storage.get("k"), /__phala_host is missing/);
  assert.throws(() => env(), ReferenceError);
});

test("ContractError carries its name and message; defineContract returns the definition", () => {
  const e = new ContractError("insufficient balance");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "ContractError");
  assert.equal(e.message, "insufficient balance");
  const c = { handle: (x: number) => x + 1 };
  assert.equal(defineContract(c), c);
  assert.throws(() => defineContract({ query: 1 } as never), /query must be a function/);
});
