import { fromHex, toHex, type KeyPair } from "@phala-ts/primitives";
import { createPhalaRuntime, signExtrinsic } from "@phala-ts/runtime";

/** Error from the node's JSON-RPC, with its code and message. */
export class NodeRpcError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
    this.name = "NodeRpcError";
  }
}

const runtime = createPhalaRuntime();

/** JSON-RPC over HTTP to a node: enough for the CLI's one-shot requests (no subscriptions). */
export class ChainHttp {
  #id = 0;
  constructor(readonly url: string) {}

  async call<R = any>(method: string, params: unknown[] = []): Promise<R> {
    const r = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.#id, method, params }),
    });
    const body = (await r.json()) as { result?: R; error?: { code: number; message: string; data?: unknown } };
    if (body.error) throw new NodeRpcError(body.error.code, body.error.message + (body.error.data ? ` (${JSON.stringify(body.error.data)})` : ""));
    return body.result as R;
  }

  async storage(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.call<string | null>("state_getStorage", [toHex(key)]);
    return v ? fromHex(v) : undefined;
  }

  /** Signs a RuntimeCall value with `signer` at its next nonce and submits it; returns the tx hash. */
  async signAndSubmit(signer: KeyPair, call: unknown): Promise<string> {
    const [genesis, version, nonce] = await Promise.all([
      this.call<string>("chain_getBlockHash", [0]),
      this.call<{ specVersion: number; transactionVersion: number }>("state_getRuntimeVersion"),
      this.call<number>("system_accountNextIndex", [toHex(signer.accountId)]),
    ]);
    const xt = signExtrinsic({
      signer,
      callBytes: runtime.call.codec.enc(call),
      nonce,
      specVersion: version.specVersion,
      transactionVersion: version.transactionVersion,
      genesisHash: fromHex(genesis),
    });
    return this.call<string>("author_submitExtrinsic", [toHex(xt)]);
  }
}
