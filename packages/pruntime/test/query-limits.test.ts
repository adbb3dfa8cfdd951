import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b256, u32le, utf8 } from "@phala-ts/primitives";
import { NonceCache } from "../src/queries.ts";
import { PruntimeError, httpStatusOf } from "../src/errors.ts";
import { QUERY_NONCES_MAX, QUERY_NONCES_PER_ACCOUNT_MAX } from "../src/limits.ts";

const accountA = blake2b256(utf8("account A"));
const accountB = blake2b256(utf8("account B"));
const nonce = (i: number) => blake2b256(u32le(i)).slice(0, 16);
const refusedWith = (code: string) => (e: unknown) => e instanceof PruntimeError && e.code === code;

test("one account at full speed exhausts its own nonce allowance; another account's queries still go through", () => {
  const cache = new NonceCache();
  const now = 1_000_000;
  const expires = now + 60_000;
  // A sends queries under live certificates as fast as it can: more than the whole shared cache would hold.
  let accepted = 0;
  let refused: unknown;
  for (let i = 0; i < QUERY_NONCES_MAX + 1; i++) {
    try {
      cache.use(accountA, nonce(i), expires, now);
      accepted++;
    } catch (e) {
      refused = e;
      break;
    }
  }
  assert.equal(accepted, QUERY_NONCES_PER_ACCOUNT_MAX, "A got exactly its allowance");
  assert.ok(refusedWith("TOO_MANY_QUERIES")(refused), `A is refused with its own code, got ${String(refused)}`);
  assert.equal(httpStatusOf("TOO_MANY_QUERIES"), 429);
  // A keeps hammering: still refused, and nothing is remembered for it.
  assert.throws(() => cache.use(accountA, nonce(QUERY_NONCES_MAX + 7), expires, now), refusedWith("TOO_MANY_QUERIES"));
  assert.equal(cache.size, QUERY_NONCES_PER_ACCOUNT_MAX);
  // B's query is answered, and so are many more of them.
  cache.use(accountB, nonce(0), expires, now);
  for (let i = 1; i < 1000; i++) cache.use(accountB, nonce(i), expires, now);
  // A's replays are still replays, and once A's certificates expire its allowance returns.
  assert.throws(() => cache.use(accountA, nonce(0), expires, now + 1), refusedWith("NONCE_REPLAYED"));
  cache.use(accountA, nonce(QUERY_NONCES_MAX + 8), expires + 60_000, expires);
});

test("the shared nonce cache stays bounded in all, across accounts", () => {
  const cache = new NonceCache(10, 4);
  for (let a = 0; a < 2; a++) for (let i = 0; i < 4; i++) cache.use(u32le(a), nonce(i), 2_000, 1_000);
  cache.use(u32le(2), nonce(0), 2_000, 1_000);
  cache.use(u32le(2), nonce(1), 2_000, 1_000);
  assert.equal(cache.size, 10);
  assert.throws(() => cache.use(u32le(3), nonce(0), 2_000, 1_000), refusedWith("NONCE_CACHE_FULL"));
  // Expired entries make room again.
  cache.use(u32le(3), nonce(0), 9_000, 2_000);
  assert.equal(cache.size, 1);
});
