import { test } from "node:test";
import assert from "node:assert/strict";
import { RpcServer } from "./server.ts";
import { deniesUnsafe, UNSAFE_RPC_METHODS, type RpcMethodsPolicy } from "./rpc-methods.ts";

async function serve(t: { after: (fn: () => unknown) => void }, methods: RpcMethodsPolicy | undefined, host = "127.0.0.1") {
  const rpc = new RpcServer({ port: 0, host, ...(methods !== undefined ? { methods } : {}) });
  rpc.register("system_peers", () => []);
  rpc.register("author_rotateKeys", () => "0x01");
  rpc.register("phala_getSyncBatch", () => "0xbatch");
  rpc.register("system_name", () => "phala-ts");
  const { port } = await rpc.listen();
  t.after(() => rpc.close());
  const call = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await res.json()) as any;
  };
  return { rpc, call };
}

const UNSAFE_ERROR = { code: -32601, message: "RPC call is unsafe to be called externally" };

test("--rpc-methods safe refuses Substrate's unsafe methods with Substrate's error, and serves the rest (pHost's sync batches too)", async (t) => {
  const { call } = await serve(t, "safe");
  for (const method of ["system_peers", "author_rotateKeys"]) {
    assert.deepEqual(await call({ jsonrpc: "2.0", id: 1, method, params: [] }), { jsonrpc: "2.0", id: 1, error: UNSAFE_ERROR }, method);
  }
  assert.deepEqual(await call({ jsonrpc: "2.0", id: 2, method: "phala_getSyncBatch", params: [] }), { jsonrpc: "2.0", id: 2, result: "0xbatch" });
  // In a batch each call is judged on its own.
  assert.deepEqual(await call([{ jsonrpc: "2.0", id: 3, method: "system_name" }, { jsonrpc: "2.0", id: 4, method: "author_rotateKeys" }]), [
    { jsonrpc: "2.0", id: 3, result: "phala-ts" },
    { jsonrpc: "2.0", id: 4, error: UNSAFE_ERROR },
  ]);
  // A method this node lacks is "not found" whatever the mode.
  assert.equal((await call({ jsonrpc: "2.0", id: 5, method: "author_insertKey", params: [] })).error.message, "Method not found: author_insertKey");
});

test("--rpc-methods unsafe, and auto on loopback, answer unsafe methods", async (t) => {
  for (const methods of ["unsafe", "auto", undefined] as const) {
    const { call, rpc } = await serve(t, methods);
    assert.equal(rpc.denyUnsafe, false);
    assert.deepEqual(await call({ jsonrpc: "2.0", id: 1, method: "author_rotateKeys", params: [] }), { jsonrpc: "2.0", id: 1, result: "0x01" }, String(methods));
  }
});

test("auto means safe on any interface but loopback, as Substrate's auto", async (t) => {
  assert.equal(deniesUnsafe("auto", "0.0.0.0"), true);
  assert.equal(deniesUnsafe("auto", "::"), true);
  assert.equal(deniesUnsafe("auto", "192.168.1.5"), true);
  assert.equal(deniesUnsafe("auto", "127.0.0.1"), false);
  assert.equal(deniesUnsafe("auto", "::1"), false);
  assert.equal(deniesUnsafe("auto", "localhost"), false);
  assert.equal(deniesUnsafe("unsafe", "0.0.0.0"), false);
  assert.equal(deniesUnsafe("safe", "127.0.0.1"), true);
  // A node listening on all interfaces with the default refuses them (checked over loopback, which 0.0.0.0 includes).
  const { call, rpc } = await serve(t, undefined, "0.0.0.0");
  assert.equal(rpc.denyUnsafe, true);
  assert.deepEqual((await call({ jsonrpc: "2.0", id: 1, method: "system_peers", params: [] })).error, UNSAFE_ERROR);
  for (const name of ["system_peers", "author_rotateKeys", "author_insertKey", "author_removeExtrinsic", "system_addReservedPeer"]) assert.ok(UNSAFE_RPC_METHODS.has(name), name);
  assert.ok(!UNSAFE_RPC_METHODS.has("phala_getSyncBatch"), "pHost's sync batches stay available in every mode");
});
