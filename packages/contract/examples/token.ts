/**
 * A confidential PHA-like token.
 *
 * - `init({ owner, supply })` mints the whole `supply` to `owner`.
 * - `handle({ op: "transfer", to, amount })` moves `amount` from the sender to `to` and
 *   answers `{ balance }`, the sender's new balance; it emits `transfer { to, amount }` to the sender.
 * - `query({ op: "balance" })` answers `{ balance }`: the caller's own balance.
 * - `query({ op: "totalSupply" })` answers `{ totalSupply }`: public.
 *
 * Amounts are decimal strings (or JSON integers up to 2^53) from 0 to 2^128 - 1; answers
 * always give decimal strings. Arithmetic is exact (`bigint`); a transfer checks the
 * sender's balance and never lets a balance go negative or past 2^128 - 1, and the sum of
 * all balances always equals the total supply.
 *
 * Confidentiality:
 * - Recipient and amount travel inside a command encrypted to the contract key; balances
 *   live only in the contract's storage, sealed at rest. The chain shows only that an
 *   account sent the contract a command.
 * - `balance` takes no account argument: a query answers only for the account that signed
 *   it, so nobody can read another holder's balance. Only the total supply is public.
 * - Events and answers go to the sender only, encrypted. A recipient is not notified; they
 *   see the new balance when they query it (and, if nothing else moved, can infer the amount).
 * - Balances are stored at a fixed width, so the gas and storage deposit of a transfer do
 *   not depend on the amounts. A first transfer to a new holder creates one storage item,
 *   and that difference in deposit is still visible to whoever sees the sender's payment.
 */
import { ContractError, defineContract, emit, storage } from "@phala-ts/contract";
import { AMOUNT_MAX, decodeAmount, encodeAmount, parseAmount } from "./lib/amount.ts";
import { accountId, asObject, opOf, senderAccount } from "./lib/input.ts";

// Storage layout: "supply" → total supply; "balance/<account>" → balance. Both as fixed-width decimal strings.
const SUPPLY_KEY = "supply";
const balanceKey = (account: string): string => `balance/${account}`;

function balanceOf(account: string): bigint {
  const stored = storage.get<string>(balanceKey(account));
  return stored === undefined ? 0n : decodeAmount(stored);
}

function totalSupply(): bigint {
  const stored = storage.get<string>(SUPPLY_KEY);
  if (stored === undefined) throw new ContractError("the token is not initialised");
  return decodeAmount(stored);
}

export default defineContract({
  init(args: unknown) {
    const fields = asObject(args, "init arguments");
    const owner = accountId(fields.owner, "owner");
    const supply = parseAmount(fields.supply, "supply");
    if (storage.get(SUPPLY_KEY) !== undefined) throw new ContractError("the token is already initialised");
    storage.set(SUPPLY_KEY, encodeAmount(supply));
    storage.set(balanceKey(owner), encodeAmount(supply));
  },

  handle(command: unknown, origin) {
    const sender = senderAccount(origin);
    const { op, fields } = opOf(command, "command");
    if (op !== "transfer") throw new ContractError(`unknown command "${op}"`);
    const to = accountId(fields.to, "to");
    const amount = parseAmount(fields.amount, "amount");
    if (amount === 0n) throw new ContractError("amount must be greater than zero");

    const supply = totalSupply();
    const from = balanceOf(sender);
    if (from < amount) throw new ContractError("insufficient balance");
    if (to !== sender) {
      const received = balanceOf(to) + amount;
      // Balances sum to the supply, which fits in u128, so this cannot overflow; a stored
      // state where it does is corrupt and must not be written over.
      if (received > supply || received > AMOUNT_MAX) throw new RangeError("balance above total supply: corrupt token state");
      storage.set(balanceKey(sender), encodeAmount(from - amount));
      storage.set(balanceKey(to), encodeAmount(received));
    }
    emit("transfer", { to, amount: amount.toString() });
    return { balance: (to === sender ? from : from - amount).toString() };
  },

  query(request: unknown, origin) {
    const caller = senderAccount(origin);
    const { op } = opOf(request, "query");
    if (op === "balance") return { balance: balanceOf(caller).toString() };
    if (op === "totalSupply") return { totalSupply: totalSupply().toString() };
    throw new ContractError(`unknown query "${op}"`);
  },
});
