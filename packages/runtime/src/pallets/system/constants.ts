/** Phala's SS58 address prefix. */
export const SS58_PREFIX = 30;
/**
 * Block hashes kept in System.BlockHash; a mortal transaction whose birth block falls
 * out of this window is rejected as AncientBirthBlock. Same figure as Polkadot's.
 */
export const BLOCK_HASH_COUNT = 2400;
/** System is always pallet 0, so other pallets can deposit its events without a reference to it. */
export const SYSTEM_PALLET_INDEX = 0;
