/**
 * `sp_runtime::generic::era::Era`: the mortality of a transaction. Immortal is
 * one 0x00 byte; Mortal(period, phase) is two bytes packing log2(period) and the
 * quantized phase, exactly as Substrate's `Encode for Era`.
 */
import { assert } from "@phala-ts/primitives";
import { createCodec } from "scale-ts";
import { decoder, need } from "./codecs.ts";
import { T } from "./dsl.ts";
import { ScaleDecodeError, ScaleEncodeError } from "./errors.ts";
import type { Type, VariantInfo } from "./type.ts";

export type EraValue = { kind: "immortal" } | { kind: "mortal"; period: number; phase: number };

/** Longest mortality Substrate allows: periods are powers of two in [4, 2^16]. */
export const ERA_PERIOD_MAX = 1 << 16;
export const ERA_PERIOD_MIN = 4;

function trailingZeros(x: number): number {
  let n = 0;
  while ((x & 1) === 0 && n < 32) {
    x >>>= 1;
    n++;
  }
  return n;
}

/** Encodes a mortal era; throws ScaleEncodeError unless it is one Substrate could decode back. */
export function encodeEra(era: EraValue): Uint8Array {
  if (era.kind === "immortal") return Uint8Array.of(0);
  const { period, phase } = era;
  const valid =
    era.kind === "mortal" &&
    Number.isInteger(period) && Number.isInteger(phase) &&
    period >= ERA_PERIOD_MIN && period <= ERA_PERIOD_MAX && (period & (period - 1)) === 0 &&
    phase >= 0 && phase < period;
  const quantize = Math.max(period >> 12, 1);
  if (!valid || phase % quantize !== 0) {
    throw new ScaleEncodeError(`invalid mortal era (period ${period}, phase ${phase})`, { details: { period, phase } });
  }
  const low = Math.min(Math.max(trailingZeros(period) - 1, 1), 15);
  const encoded = low | ((phase / quantize) << 4);
  return Uint8Array.of(encoded & 0xff, encoded >> 8);
}

/** Substrate's `Era::mortal(period, current)`: rounds period up to a power of two in [4, 2^16] and quantizes the phase. */
export function mortalEra(period: number, currentBlock: number): EraValue {
  assert(Number.isSafeInteger(period) && period > 0 && Number.isSafeInteger(currentBlock) && currentBlock >= 0);
  let p = 1;
  while (p < period && p < ERA_PERIOD_MAX) p <<= 1;
  p = Math.min(Math.max(p, ERA_PERIOD_MIN), ERA_PERIOD_MAX);
  const phase = currentBlock % p;
  const quantize = Math.max(p >> 12, 1);
  return { kind: "mortal", period: p, phase: Math.floor(phase / quantize) * quantize };
}

/** First block at which the era is valid, given the current block (Substrate's `Era::birth`). */
export function eraBirth(era: EraValue, currentBlock: number): number {
  if (era.kind === "immortal") return 0;
  return Math.floor((Math.max(currentBlock, era.phase) - era.phase) / era.period) * era.period + era.phase;
}

/** First block at which the era is no longer valid (Substrate's `Era::death`); Infinity for immortal. */
export function eraDeath(era: EraValue, currentBlock: number): number {
  if (era.kind === "immortal") return Infinity;
  return eraBirth(era, currentBlock) + era.period;
}

const eraVariants: VariantInfo[] = [{ name: "Immortal", index: 0, fields: [] }];
for (let k = 1; k <= 255; k++) eraVariants.push({ name: `Mortal${k}`, index: k, fields: [{ type: T.u8 }] });

export const Era: Type<EraValue> = T.custom(
  createCodec<EraValue>(
    encodeEra,
    decoder((c) => {
      need(c, 1, "Era");
      const first = c[c.i];
      if (first === 0) {
        c.i += 1;
        return { kind: "immortal" };
      }
      need(c, 2, "Era");
      const encoded = first | (c[c.i + 1] << 8);
      const period = 2 << (encoded % 16);
      const quantize = Math.max(period >> 12, 1);
      const phase = (encoded >> 4) * quantize;
      if (period < ERA_PERIOD_MIN || phase >= period) {
        throw new ScaleDecodeError("invalid period and phase in Era", { details: { offset: c.i } });
      }
      c.i += 2;
      return { kind: "mortal", period, phase };
    }),
  ),
  { path: ["sp_runtime", "generic", "era", "Era"], params: [], def: { tag: "variant", variants: eraVariants }, docs: [] },
);
