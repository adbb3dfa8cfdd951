/** PHA has 12 decimals; one PHA is 10^12 plancks. */
export const PHA = 1_000_000_000_000n;
/** 0.01 PHA, Phala's existential deposit (1 cent): below it an account is reaped. */
export const EXISTENTIAL_DEPOSIT = PHA / 100n;
/** Weight of a transfer call: storage reads and writes of two accounts plus events. */
export const TRANSFER_WEIGHT = 150_000_000n;
export const FORCE_WEIGHT = 160_000_000n;
export const SET_BALANCE_WEIGHT = 80_000_000n;
