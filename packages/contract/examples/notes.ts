/**
 * A private note store.
 *
 * - `handle({ op: "add", text })` stores `text` as a new note of the sender and answers
 *   `{ index }`; it also emits `noteAdded { index }` to the sender.
 * - `query({ op: "list" })` answers `{ notes: [{ index, text }] }`: the caller's notes, oldest first.
 *
 * Confidentiality:
 * - The text travels inside a command encrypted to the contract key, so the chain, pHost
 *   and the block explorer see only ciphertext; the worker stores it in the contract's
 *   storage, sealed at rest.
 * - Notes are filed under the sender's account (`origin.id`), which the VM takes from the
 *   chain (for commands) or from the signed query certificate (for queries); a caller
 *   cannot claim to be someone else.
 * - No operation takes an account as an argument: the only notes a query can reach are the
 *   caller's own, so nobody — not the deployer, not another user — can read another's notes.
 * - What stays visible: that an account sent a command to this contract, and the size of
 *   its ciphertext (roughly the note's length).
 */
import { ContractError, defineContract, emit, storage, STORAGE_KEYS_LIMIT_MAX } from "@phala-ts/contract";
import { opOf, senderAccount } from "./lib/input.ts";

/** Longest note, in UTF-16 code units: even fully escaped as JSON it stays far below the 64 KiB value limit. */
export const NOTE_LENGTH_MAX = 4096;
/** Most notes per account: `list` reads them all with a single `storage.keys` call. */
export const NOTES_PER_ACCOUNT_MAX = STORAGE_KEYS_LIMIT_MAX;
/** Digits of a note's index in its key, so keys sort in the order the notes were added. */
const INDEX_DIGITS = 4;

// Storage layout: "count/<account>" → number of notes; "note/<account>/<index>" → text.
// The trailing "/" and fixed-length ids keep one account's prefix from matching another's.
const countKey = (account: string): string => `count/${account}`;
const notePrefix = (account: string): string => `note/${account}/`;
const noteKey = (account: string, index: number): string => notePrefix(account) + String(index).padStart(INDEX_DIGITS, "0");

export default defineContract({
  handle(command: unknown, origin) {
    const sender = senderAccount(origin);
    const { op, fields } = opOf(command, "command");
    if (op !== "add") throw new ContractError(`unknown command "${op}"`);
    const text = fields.text;
    if (typeof text !== "string" || text.length === 0) throw new ContractError("text must be a non-empty string");
    if (text.length > NOTE_LENGTH_MAX) throw new ContractError(`text is longer than ${NOTE_LENGTH_MAX} characters`);

    const index = storage.get<number>(countKey(sender)) ?? 0;
    if (index >= NOTES_PER_ACCOUNT_MAX) throw new ContractError(`you already have ${NOTES_PER_ACCOUNT_MAX} notes`);
    storage.set(noteKey(sender, index), text);
    storage.set(countKey(sender), index + 1);
    emit("noteAdded", { index });
    return { index };
  },

  query(request: unknown, origin) {
    const caller = senderAccount(origin);
    const { op } = opOf(request, "query");
    if (op !== "list") throw new ContractError(`unknown query "${op}"`);
    const prefix = notePrefix(caller);
    const notes = storage.keys(prefix, NOTES_PER_ACCOUNT_MAX).map((key) => ({
      index: Number(key.slice(prefix.length)),
      text: storage.get<string>(key) ?? "",
    }));
    return { notes };
  },
});
