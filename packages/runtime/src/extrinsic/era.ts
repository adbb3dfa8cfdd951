import { DecodeError } from "./reader.ts";

export type Era = { kind: "immortal" } | { kind: "mortal"; period: number; phase: number };

/** Decodes sp_runtime's Era from its one- or two-byte form. */
export function decodeEra(first: number, next: () => number): Era {
  if (first === 0) return { kind: "immortal" };
  const encoded = first + (next() << 8);
  const period = 2 ** ((encoded % 16) + 1);
  const quantize = Math.max(period >> 12, 1);
  const phase = (encoded >> 4) * quantize;
  if (period < 4 || phase >= period) throw new DecodeError("invalid era: period and phase do not fit");
  return { kind: "mortal", period, phase };
}

export function encodeEra(era: Era): Uint8Array {
  if (era.kind === "immortal") return new Uint8Array([0]);
  const quantize = Math.max(era.period >> 12, 1);
  const low = Math.min(Math.max(Math.log2(era.period) - 1, 1), 15);
  const encoded = low | ((era.phase / quantize) << 4);
  return new Uint8Array([encoded & 0xff, encoded >> 8]);
}

/** A mortal era that starts at `current`, as wallets build it (period rounded to a power of two). */
export function mortalEra(periodHint: number, current: number): Era {
  let period = 4;
  while (period < periodHint && period < 65536) period *= 2;
  const quantize = Math.max(period >> 12, 1);
  const phase = Math.floor((current % period) / quantize) * quantize;
  return { kind: "mortal", period, phase };
}

export function eraBirth(era: Era, current: number): number {
  if (era.kind === "immortal") return 0;
  return Math.floor((Math.max(current, era.phase) - era.phase) / era.period) * era.period + era.phase;
}

export function eraDeath(era: Era, current: number): number {
  if (era.kind === "immortal") return Number.MAX_SAFE_INTEGER;
  return eraBirth(era, current) + era.period;
}
