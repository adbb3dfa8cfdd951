/**
 * Fee schedule. An inclusion fee is base + length + weight, as in pallet_transaction_payment,
 * with a fixed multiplier of one (the dev chain does not adjust fees to congestion).
 */
export const EXTRINSIC_BASE_WEIGHT = 100_000_000n;
/** Plancks per byte of encoded extrinsic: 1 µPHA. */
export const TRANSACTION_BYTE_FEE = 1_000_000n;
/** ref_time (picoseconds) per planck of weight fee. */
export const WEIGHT_PER_PLANCK = 100n;
export const OPERATIONAL_FEE_MULTIPLIER = 5;

export function weightToFee(refTime: bigint): bigint {
  return refTime / WEIGHT_PER_PLANCK;
}

export interface FeeDetails {
  baseFee: bigint;
  lenFee: bigint;
  adjustedWeightFee: bigint;
}

export function computeFeeDetails(len: number, callWeight: bigint): FeeDetails {
  return {
    baseFee: weightToFee(EXTRINSIC_BASE_WEIGHT),
    lenFee: BigInt(len) * TRANSACTION_BYTE_FEE,
    adjustedWeightFee: weightToFee(callWeight),
  };
}

/** The fee without tip, `partial_fee` in RuntimeDispatchInfo. */
export function inclusionFee(len: number, callWeight: bigint): bigint {
  const d = computeFeeDetails(len, callWeight);
  return d.baseFee + d.lenFee + d.adjustedWeightFee;
}
