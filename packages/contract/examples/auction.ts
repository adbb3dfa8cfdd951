/**
 * A sealed-bid, first-price auction.
 *
 * - `init({ seller, endBlock })` opens the auction until block `endBlock`.
 * - `handle({ op: "bid", amount })`, while `env().blockNumber < endBlock`, records or
 *   replaces the sender's bid and answers `{ amount }`. The seller cannot bid.
 * - `handle({ op: "close" })`, by anyone once `blockNumber >= endBlock`, picks the winner:
 *   the highest bid, ties going to the bid placed first (replacing a bid with a different
 *   amount counts as placing it anew). It answers `{ winner, price }`, both `null` without bids.
 * - `query({ op: "myBid" })` answers `{ amount }`: the caller's own bid, or `null`.
 * - `query({ op: "result" })` answers `{ closed: false, endBlock }` until the auction is
 *   closed, then `{ closed: true, winner, price }`.
 *
 * Confidentiality:
 * - Bids travel inside commands encrypted to the contract key and live only in the
 *   contract's storage, sealed at rest; the chain shows only that an account sent a command.
 * - No operation reveals another account's bid: `myBid` answers for the account that
 *   signed the query, and after closing only the winner and the winning price are
 *   published — losing bids stay secret for good.
 * - The result is computed inside the TEE, so the seller cannot peek at bids and then
 *   place a shill bid just above the best one; and no bid can be added after `endBlock`.
 * - Amounts are stored at a fixed width, so a bid's gas and storage deposit do not depend
 *   on its amount. Still visible: who sent commands, when, and the ciphertext sizes (pad
 *   amounts on the client to hide their length); a first bid costs one more storage
 *   item than a replaced one.
 */
import { ContractError, defineContract, emit, env, storage, STORAGE_KEYS_LIMIT_MAX } from "@phala-ts/contract";
import { decodeAmount, encodeAmount, parseAmount } from "./lib/amount.ts";
import { accountId, asObject, opOf, senderAccount } from "./lib/input.ts";

/** Most distinct bidders: `close` reads every bid with a single `storage.keys` call. */
export const BIDDERS_MAX = STORAGE_KEYS_LIMIT_MAX;

interface Config {
  seller: string;
  endBlock: number;
}
/** A stored bid: fixed-width amount and the order in which it was placed (for ties). */
interface StoredBid {
  amount: string;
  seq: number;
}
interface Result {
  winner: string | null;
  price: string | null;
}

// Storage layout: "config" → Config; "bid/<account>" → StoredBid; "bidders" → count of
// bidders; "seq" → next bid sequence number; "result" → Result once closed.
const CONFIG_KEY = "config";
const BIDDERS_KEY = "bidders";
const SEQ_KEY = "seq";
const RESULT_KEY = "result";
const BID_PREFIX = "bid/";
const bidKey = (account: string): string => BID_PREFIX + account;

function config(): Config {
  const c = storage.get<Config>(CONFIG_KEY);
  if (c === undefined) throw new ContractError("the auction is not initialised");
  return c;
}

function bid(sender: string, fields: Record<string, unknown>): { amount: string } {
  const { seller, endBlock } = config();
  const { blockNumber } = env();
  if (storage.get(RESULT_KEY) !== undefined || blockNumber >= endBlock) throw new ContractError(`bidding ended at block ${endBlock}`);
  if (sender === seller) throw new ContractError("the seller cannot bid");
  const amount = parseAmount(fields.amount, "amount");
  if (amount === 0n) throw new ContractError("amount must be greater than zero");

  const previous = storage.get<StoredBid>(bidKey(sender));
  const encoded = encodeAmount(amount);
  if (previous?.amount === encoded) return { amount: amount.toString() }; // unchanged: keeps its place for ties
  if (previous === undefined) {
    const bidders = storage.get<number>(BIDDERS_KEY) ?? 0;
    if (bidders >= BIDDERS_MAX) throw new ContractError(`the auction already has ${BIDDERS_MAX} bidders`);
    storage.set(BIDDERS_KEY, bidders + 1);
  }
  const seq = storage.get<number>(SEQ_KEY) ?? 0;
  storage.set(SEQ_KEY, seq + 1);
  storage.set(bidKey(sender), { amount: encoded, seq } satisfies StoredBid);
  return { amount: amount.toString() };
}

function close(): Result {
  const { endBlock } = config();
  if (storage.get(RESULT_KEY) !== undefined) throw new ContractError("the auction is already closed");
  if (env().blockNumber < endBlock) throw new ContractError(`bidding is open until block ${endBlock}`);

  let best: { account: string; amount: bigint; seq: number } | undefined;
  for (const key of storage.keys(BID_PREFIX, BIDDERS_MAX)) {
    const stored = storage.get<StoredBid>(key);
    if (stored === undefined) continue;
    const amount = decodeAmount(stored.amount);
    if (best === undefined || amount > best.amount || (amount === best.amount && stored.seq < best.seq)) {
      best = { account: key.slice(BID_PREFIX.length), amount, seq: stored.seq };
    }
  }
  const result: Result = best === undefined ? { winner: null, price: null } : { winner: best.account, price: best.amount.toString() };
  storage.set(RESULT_KEY, result);
  emit("closed", result);
  return result;
}

export default defineContract({
  init(args: unknown) {
    const fields = asObject(args, "init arguments");
    const seller = accountId(fields.seller, "seller");
    const endBlock = fields.endBlock;
    if (typeof endBlock !== "number" || !Number.isSafeInteger(endBlock)) throw new ContractError("endBlock must be a block number");
    if (endBlock <= env().blockNumber) throw new ContractError("endBlock must be in the future");
    if (storage.get(CONFIG_KEY) !== undefined) throw new ContractError("the auction is already initialised");
    storage.set(CONFIG_KEY, { seller, endBlock } satisfies Config);
  },

  handle(command: unknown, origin) {
    const sender = senderAccount(origin);
    const { op, fields } = opOf(command, "command");
    if (op === "bid") return bid(sender, fields);
    if (op === "close") return close();
    throw new ContractError(`unknown command "${op}"`);
  },

  query(request: unknown, origin) {
    const caller = senderAccount(origin);
    const { op } = opOf(request, "query");
    if (op === "myBid") {
      const stored = storage.get<StoredBid>(bidKey(caller));
      return { amount: stored === undefined ? null : decodeAmount(stored.amount).toString() };
    }
    if (op === "result") {
      const result = storage.get<Result>(RESULT_KEY);
      return result === undefined ? { closed: false, endBlock: config().endBlock } : { closed: true, ...result };
    }
    throw new ContractError(`unknown query "${op}"`);
  },
});
