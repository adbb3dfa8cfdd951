import { T } from "../../types/index.ts";
import { AccountId32 } from "../../types/std.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { definePallet, depositPalletEvent } from "../../pallet/define-pallet.ts";
import type { DispatchContext } from "../../pallet/context.ts";
import { OPERATIONAL_FEE_MULTIPLIER } from "./fees.ts";

export const TRANSACTION_PAYMENT_INDEX = 3;
const ONE_FIXED_U128 = 1_000_000_000_000_000_000n;

export const TransactionPaymentEvent = T.enumeration(["pallet_transaction_payment", "pallet", "Event"], {
  TransactionFeePaid: {
    index: 0,
    fields: { who: AccountId32, actual_fee: T.u128, tip: T.u128 },
    docs: ["A transaction fee `actual_fee`, of which `tip` was added to the minimum inclusion fee, has been paid by `who`."],
  },
});

const FixedU128 = T.newtype(["sp_arithmetic", "fixed_point", "FixedU128"], T.u128);
const s = palletStorage("TransactionPayment");
export const TransactionPaymentStorage = {
  NextFeeMultiplier: s.value("NextFeeMultiplier", FixedU128, { default: ONE_FIXED_U128 }),
};

export const TransactionPayment = definePallet({
  name: "TransactionPayment",
  index: TRANSACTION_PAYMENT_INDEX,
  crate: "pallet_transaction_payment",
  storage: [TransactionPaymentStorage.NextFeeMultiplier],
  events: TransactionPaymentEvent,
  errors: [] as const,
  constants: {
    OperationalFeeMultiplier: { type: T.u8, value: OPERATIONAL_FEE_MULTIPLIER },
  },
  calls: {},
});

export function emitFeePaid(ctx: DispatchContext, who: Uint8Array, actualFee: bigint, tip: bigint): void {
  depositPalletEvent(ctx, TRANSACTION_PAYMENT_INDEX, TransactionPaymentEvent, {
    tag: "TransactionFeePaid",
    value: { who, actual_fee: actualFee, tip },
  });
}
