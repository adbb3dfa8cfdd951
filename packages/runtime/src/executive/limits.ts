/** Two seconds of execution per block, Substrate's usual budget (ref_time is in picoseconds). */
export const MAX_BLOCK_REF_TIME = 2_000_000_000_000n;
/** Normal transactions may fill 75% of a block; the rest is kept for operational ones. */
export const NORMAL_DISPATCH_RATIO_PERCENT = 75n;
export const MAX_NORMAL_REF_TIME = (MAX_BLOCK_REF_TIME * NORMAL_DISPATCH_RATIO_PERCENT) / 100n;
/** 5 MiB of extrinsics per block, 75% of it for normal transactions. */
export const MAX_BLOCK_LENGTH_BYTES = 5 * 1024 * 1024;
export const MAX_NORMAL_LENGTH_BYTES = Math.floor((MAX_BLOCK_LENGTH_BYTES * 3) / 4);
