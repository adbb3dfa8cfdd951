/** Error for bytes that do not decode; the node answers them as an invalid transaction. */
export class DecodeError extends Error {
  readonly code = "SCALE_DECODE";
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** A bounds-checked cursor for hand-parsed envelopes (extrinsics, headers). */
export class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  u8(): number {
    if (this.offset >= this.bytes.length) throw new DecodeError(`unexpected end of input at byte ${this.offset}`);
    return this.bytes[this.offset++];
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.bytes.length) throw new DecodeError(`need ${n} bytes at ${this.offset}, have ${this.remaining}`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** SCALE compact integer; non-canonical encodings are refused as parity-scale-codec does. */
  compact(): bigint {
    const b0 = this.u8();
    const mode = b0 & 3;
    if (mode === 0) return BigInt(b0 >> 2);
    if (mode === 1) {
      const v = (b0 | (this.u8() << 8)) >> 2;
      if (v < 64) throw new DecodeError("non-canonical compact encoding");
      return BigInt(v);
    }
    if (mode === 2) {
      const v = (b0 | (this.u8() << 8) | (this.u8() << 16) | (this.u8() << 24)) >>> 2;
      if (v < 1 << 14) throw new DecodeError("non-canonical compact encoding");
      return BigInt(v);
    }
    const n = (b0 >> 2) + 4;
    const raw = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (v < 1n << 30n || (n > 4 && raw[n - 1] === 0)) throw new DecodeError("non-canonical compact encoding");
    return v;
  }

  compactNumber(max: number): number {
    const v = this.compact();
    if (v > BigInt(max)) throw new DecodeError(`compact value ${v} exceeds ${max}`);
    return Number(v);
  }
}
