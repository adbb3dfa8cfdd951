/** Byte helpers shared by every package: hex with 0x prefix, concatenation, equality. */

const HEX = "0123456789abcdef";

export function toHex(bytes: Uint8Array): `0x${string}` {
  let s = "0x";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s as `0x${string}`;
}

export class HexError extends Error {
  readonly code = "INVALID_HEX";
  constructor(message: string) {
    super(message);
    this.name = "HexError";
  }
}

/** Parses `0x`-prefixed (or bare) hex; throws HexError with a readable reason. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string") throw new HexError("expected a hex string");
  const s = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (s.length % 2 !== 0) throw new HexError(`hex string has odd length ${s.length}`);
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new HexError("hex string contains non-hex characters");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order, as Substrate orders storage keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
