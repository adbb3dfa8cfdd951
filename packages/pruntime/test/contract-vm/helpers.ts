/** Shared pieces of the contract VM tests: request builders and small contract bundles. */
import { blake2b256, utf8 } from "@phala-ts/primitives";
import { MemoryContractStorage, type CallMode, type CallOutcome, type CallRequest, type ContractStorage } from "../../src/contract-vm/index.ts";

export const ALICE = "0x" + "aa".repeat(32);
export const BOB = "0x" + "bb".repeat(32);
export const CONTRACT_ID = "0x" + "cc".repeat(32);
export const GAS_LIMIT = 2_000_000_000n;

/** A bundle in the shape the kit's esbuild step produces: `var __contract = { default: ... }`. */
export function bundle(contractObject: string): { code: Uint8Array; codeHash: Uint8Array } {
  return raw(`"use strict";var __contract = (() => { return { default: ${contractObject} }; })();`);
}

/** Arbitrary bundle text. */
export function raw(source: string): { code: Uint8Array; codeHash: Uint8Array } {
  const code = utf8(source);
  return { code, codeHash: blake2b256(code) };
}

export function seed(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

export interface RequestOptions {
  origin?: string | null;
  storage?: ContractStorage;
  gasLimit?: bigint;
  seed?: Uint8Array;
  blockNumber?: number;
  rawInput?: string;
}

export function request(code: { code: Uint8Array; codeHash: Uint8Array }, mode: CallMode, input: unknown, options: RequestOptions = {}): CallRequest {
  const origin = options.origin === undefined ? ALICE : options.origin;
  return {
    code: code.code,
    codeHash: code.codeHash,
    mode,
    input: options.rawInput ?? JSON.stringify(input),
    origin: origin === null ? null : { kind: "account", id: origin },
    env: { blockNumber: options.blockNumber ?? 7, timestamp: 1_700_000_000_000, contractId: CONTRACT_ID, caller: origin },
    seed: options.seed ?? seed(1),
    gasLimit: options.gasLimit ?? GAS_LIMIT,
    storage: options.storage ?? new MemoryContractStorage(),
  };
}

/** The outcome's error kind, or "ok". */
export function kindOf(outcome: CallOutcome): string {
  return outcome.ok ? "ok" : outcome.error.kind;
}

export function outputOf(outcome: CallOutcome): unknown {
  if (!outcome.ok) throw new Error(`call failed: ${outcome.error.kind}: ${outcome.error.message}`);
  return JSON.parse(outcome.output);
}

/** A counter with storage, events, env and keys: the round-trip contract of the tests. */
export const COUNTER = bundle(`{
  init(args) {
    __phala_host.storageSet("count", JSON.stringify(args.start));
    __phala_host.storageSet("owner", JSON.stringify(args.owner));
  },
  handle(command, origin) {
    const h = __phala_host;
    if (command.op === "add") {
      const n = JSON.parse(h.storageGet("count")) + command.by;
      h.storageSet("count", JSON.stringify(n));
      h.storageSet("by/" + origin.id, JSON.stringify(n));
      h.emit("added", JSON.stringify({ n: n, by: origin.id }));
      return { count: n };
    }
    if (command.op === "reset") {
      if (origin.id !== JSON.parse(h.storageGet("owner"))) throw new Error("not the owner");
      h.storageRemove("count");
      return null;
    }
    throw new Error("unknown op " + command.op);
  },
  query(request, origin) {
    const h = __phala_host;
    if (request.op === "count") { const v = h.storageGet("count"); return v === undefined ? null : JSON.parse(v); }
    if (request.op === "keys") return h.storageKeys(request.prefix, request.limit);
    if (request.op === "env") return JSON.parse(h.env());
    if (request.op === "whoami") return origin;
    throw new Error("unknown query " + request.op);
  },
}`);
