/**
 * What a user's client does (the SDK's job), written out for tests: encrypt init args to a
 * cluster, commands to a contract, queries to a worker, and open what comes back. Follows
 * wire.ts exactly; nothing here is imported by pRuntime.
 */
import assert from "node:assert/strict";
import { blake2b256, openEnvelope, sealEnvelope, utf8, verifyEd25519, x25519KeyPair, type KeyPair } from "@phala-ts/primitives";
import { decodeExact, type Infer } from "@phala-ts/runtime/types";
import {
  commandAssociatedData,
  CallOutcome,
  ClusterEvent,
  CommandPlaintext,
  CommandResult,
  ContractCommand,
  ContractTopics,
  EncryptedPayload,
  InitPlaintext,
  QueryAnswer,
  QueryBatchAnswers,
  QueryBatchResponse,
  QueryCertificateBody,
  QueryPlaintext,
  QueryRefusal,
  QueryRequest,
  QueryResponse,
  WireLabels,
  commandIdOf,
  queryBatchSigningPayload,
  queryCertificatePayload,
  queryIdOf,
  queryResponseSigningPayload,
  type CallOutcomeValue,
  type ClusterEventValue,
  type MessageValue,
} from "@phala-ts/runtime/phala";

type Bytes = Uint8Array;

const PALLET = { tag: "Pallet" as const, value: utf8("PhalaPhatContracts") };

export function clusterEvent(event: ClusterEventValue): MessageValue {
  return { sender: PALLET, destination: utf8(ContractTopics.clusterEvent), payload: ClusterEvent.codec.enc(event) };
}

/** A deterministic x25519 private key per label, so tests replay. */
export function ephemeral(label: string): Bytes {
  return blake2b256(utf8(`ephemeral ${label}`));
}

function seal(recipient: Bytes, label: Bytes, aad: Bytes, plaintext: Bytes, senderPrivateKey: Bytes): Bytes {
  const env = sealEnvelope({ recipientPublicKey: recipient, label, associatedData: aad, plaintext, senderPrivateKey });
  return EncryptedPayload.codec.enc({ sender_pubkey: env.senderPublicKey, iv: env.nonce, ciphertext: env.ciphertext });
}

export function initArgs(clusterEcdh: Bytes, contract: Bytes, input: unknown, gasLimit: bigint, key: Bytes): Bytes {
  return seal(clusterEcdh, WireLabels.init, contract, InitPlaintext.codec.enc({ gas_limit: gasLimit, input: utf8(JSON.stringify(input)) }), key);
}

export interface SentCommand {
  message: MessageValue;
  payload: Bytes;
  commandId: Bytes;
  key: Bytes;
}

export function command(who: Bytes, contractEcdh: Bytes, contract: Bytes, input: unknown, gasLimit: bigint, label: string): SentCommand {
  const key = ephemeral(label);
  const nonce = blake2b256(utf8(`nonce ${label}`)).slice(0, 16);
  const payload = seal(contractEcdh, WireLabels.command, commandAssociatedData(contract, who), CommandPlaintext.codec.enc({ nonce, gas_limit: gasLimit, input: utf8(JSON.stringify(input)) }), key);
  return { message: commandMessage(who, contract, payload, gasLimit), payload, commandId: commandIdOf(who, payload), key };
}

/** The chain's message for a command; `gasLimit` is the clear limit the chain checked (the sealed one must equal it). */
export function commandMessage(who: Bytes, contract: Bytes, payload: Bytes, gasLimit: bigint): MessageValue {
  return { sender: { tag: "AccountId", value: who }, destination: utf8(ContractTopics.contractCommand), payload: ContractCommand.codec.enc({ contract, payload, gas_limit: gasLimit }) };
}

/** Decrypts a SCALE CommandResult with the command's key; checks it came from `contractEcdh`. */
export function openResult(result: Bytes, key: Bytes, contractEcdh: Bytes): { outcome: CallOutcomeValue; blockNumber: number } {
  const r = decodeExact(CommandResult, result);
  assert.deepEqual(r.outcome.sender_pubkey, contractEcdh, "a result is sealed from the contract's key");
  const plain = openEnvelope({
    recipientPrivateKey: key,
    label: WireLabels.commandResult,
    associatedData: r.command_id,
    envelope: { senderPublicKey: r.outcome.sender_pubkey, nonce: r.outcome.iv, ciphertext: r.outcome.ciphertext },
  });
  return { outcome: decodeExact(CallOutcome, plain), blockNumber: r.block_number };
}

export interface BuiltQuery {
  request: Bytes;
  queryId: Bytes;
  key: Bytes;
  nonce: Bytes;
}

export interface QueryOptions {
  expiresAtMs: bigint;
  nonce?: Bytes;
  /** Signs the certificate; by default `account` itself. */
  signer?: KeyPair;
  /** Encrypt from another key than the certified one. */
  encryptFrom?: Bytes;
}

export function query(account: KeyPair, workerEcdh: Bytes, contract: Bytes, input: unknown, label: string, opts: QueryOptions): BuiltQuery {
  const key = ephemeral(label);
  const nonce = opts.nonce ?? blake2b256(utf8(`query nonce ${label}`)).slice(0, 16);
  const body: Infer<typeof QueryCertificateBody> = { account: account.accountId, ephemeral_pubkey: x25519KeyPair(key).publicKey, expires_at: opts.expiresAtMs };
  const signer = opts.signer ?? account;
  const raw = signer.sign(queryCertificatePayload(body));
  const tag = signer.type === "sr25519" ? "Sr25519" : signer.type === "ed25519" ? "Ed25519" : "Ecdsa";
  const env = sealEnvelope({
    recipientPublicKey: workerEcdh,
    label: WireLabels.query,
    associatedData: contract,
    plaintext: QueryPlaintext.codec.enc({ nonce, input: utf8(JSON.stringify(input)) }),
    senderPrivateKey: opts.encryptFrom ?? key,
  });
  const request = QueryRequest.codec.enc({
    contract,
    certificate: { body, signature: { tag, value: raw } as Infer<typeof QueryRequest>["certificate"]["signature"] },
    encrypted: { sender_pubkey: env.senderPublicKey, iv: env.nonce, ciphertext: env.ciphertext },
  });
  return { request, queryId: queryIdOf(request), key, nonce };
}

/** Checks the worker's signature and opens the answer. */
export function openQueryResponse(response: Bytes, q: BuiltQuery, workerIdentity: Bytes): Infer<typeof QueryAnswer> {
  const r = decodeExact(QueryResponse, response);
  assert.deepEqual(r.query_id, q.queryId);
  assert.deepEqual(r.worker, workerIdentity);
  assert.ok(verifyEd25519(workerIdentity, queryResponseSigningPayload(r.query_id, EncryptedPayload.codec.enc(r.encrypted)), r.signature), "the answer is signed by the worker");
  const plain = openEnvelope({
    recipientPrivateKey: q.key,
    label: WireLabels.queryResponse,
    associatedData: q.queryId,
    envelope: { senderPublicKey: r.encrypted.sender_pubkey, nonce: r.encrypted.iv, ciphertext: r.encrypted.ciphertext },
  });
  return decodeExact(QueryAnswer, plain);
}

/** Checks the one signature of a batch answer and opens its answer number `index` (undefined: refused, with why). */
export function openQueryBatchAnswer(response: Bytes, index: number, q: BuiltQuery, workerIdentity: Bytes): { answer?: Infer<typeof QueryAnswer>; refusal?: Infer<typeof QueryRefusal> } {
  const r = decodeExact(QueryBatchResponse, response);
  assert.deepEqual(r.worker, workerIdentity);
  assert.ok(verifyEd25519(workerIdentity, queryBatchSigningPayload(QueryBatchAnswers.codec.enc(r.answers)), r.signature), "the batch is signed by the worker");
  const a = r.answers[index];
  assert.deepEqual(a.query_id, q.queryId);
  if (a.result.tag === "Err") return { refusal: a.result.value };
  const e = a.result.value;
  const plain = openEnvelope({ recipientPrivateKey: q.key, label: WireLabels.queryResponse, associatedData: q.queryId, envelope: { senderPublicKey: e.sender_pubkey, nonce: e.iv, ciphertext: e.ciphertext } });
  return { answer: decodeExact(QueryAnswer, plain) };
}

/**
 * A contract bundle as the kit would emit it (an IIFE assigning `__contract`), written by
 * hand so these tests depend on the VM only. A counter with per-account totals and notes.
 */
export const LEDGER_CONTRACT = `var __contract = (() => {
  const h = globalThis.__phala_host;
  const get = (k) => { const v = h.storageGet(k); return v === undefined ? undefined : JSON.parse(v); };
  const set = (k, v) => h.storageSet(k, JSON.stringify(v));
  return { default: {
    init(args) { set("owner", args.owner); set("count", 0); },
    handle(cmd, origin) {
      const env = JSON.parse(h.env());
      if (cmd.op === "add") {
        const n = get("count") + cmd.n;
        set("count", n);
        set("by/" + origin.id, (get("by/" + origin.id) || 0) + cmd.n);
        set("last", { block: env.blockNumber, time: env.timestamp, caller: env.caller, r: Math.random() });
        h.emit("added", JSON.stringify({ n: cmd.n }));
        return { count: n };
      }
      if (cmd.op === "note") { set("note/" + origin.id, cmd.text); return null; }
      if (cmd.op === "erase") { h.storageRemove("note/" + origin.id); return null; }
      if (cmd.op === "fail") { set("count", -1); throw new Error("refused on purpose"); }
      throw new Error("unknown op " + cmd.op);
    },
    query(req, origin) {
      const env = JSON.parse(h.env());
      if (req.op === "count") return { count: get("count"), mine: get("by/" + origin.id) || 0, block: env.blockNumber, time: env.timestamp };
      if (req.op === "note") return get("note/" + origin.id) || null;
      if (req.op === "write") { set("count", 0); return null; }
      if (req.op === "spin") { for (;;) {} }
      throw new Error("unknown query " + req.op);
    },
  } };
})();
`;
