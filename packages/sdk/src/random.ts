/** Random bytes from the platform's CSPRNG (WebCrypto), the same in Node ≥ 19 and browsers. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}
