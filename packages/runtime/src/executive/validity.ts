import { T, type Infer } from "../types/index.ts";

/** sp_runtime::transaction_validity::InvalidTransaction, with Substrate's variant order. */
export const InvalidTransaction = T.enumeration(["sp_runtime", "transaction_validity", "InvalidTransaction"], {
  Call: { index: 0 },
  Payment: { index: 1 },
  Future: { index: 2 },
  Stale: { index: 3 },
  BadProof: { index: 4 },
  AncientBirthBlock: { index: 5 },
  ExhaustsResources: { index: 6 },
  Custom: { index: 7, fields: [T.u8] },
  BadMandatory: { index: 8 },
  MandatoryValidation: { index: 9 },
  BadSigner: { index: 10 },
});

export const UnknownTransaction = T.enumeration(["sp_runtime", "transaction_validity", "UnknownTransaction"], {
  CannotLookup: { index: 0 },
  NoUnsignedValidator: { index: 1 },
  Custom: { index: 2, fields: [T.u8] },
});

export const TransactionValidityError = T.enumeration(["sp_runtime", "transaction_validity", "TransactionValidityError"], {
  Invalid: { index: 0, fields: [InvalidTransaction] },
  Unknown: { index: 1, fields: [UnknownTransaction] },
});
export type TransactionValidityErrorValue = Infer<typeof TransactionValidityError>;

export const ValidTransaction = T.struct(["sp_runtime", "transaction_validity", "ValidTransaction"], {
  priority: T.u64,
  requires: T.vec(T.bytes),
  provides: T.vec(T.bytes),
  longevity: T.u64,
  propagate: T.bool,
});
export type ValidTransactionValue = Infer<typeof ValidTransaction>;

export const TransactionValidity = T.result(ValidTransaction, TransactionValidityError);

export const TransactionSource = T.enumeration(["sp_runtime", "transaction_validity", "TransactionSource"], {
  InBlock: { index: 0 },
  Local: { index: 1 },
  External: { index: 2 },
});

/** A typed reason a transaction is refused, with the text Substrate nodes show for it. */
export class TransactionInvalid extends Error {
  readonly code = "INVALID_TRANSACTION";
  constructor(readonly validity: TransactionValidityErrorValue, detail?: string) {
    super(describeValidityError(validity) + (detail ? `: ${detail}` : ""));
    this.name = "TransactionInvalid";
  }
}

export function invalid(tag: Exclude<Infer<typeof InvalidTransaction>["tag"], "Custom">): TransactionValidityErrorValue {
  return { tag: "Invalid", value: { tag, value: undefined } } as TransactionValidityErrorValue;
}

export function unknown(tag: "CannotLookup" | "NoUnsignedValidator"): TransactionValidityErrorValue {
  return { tag: "Unknown", value: { tag, value: undefined } } as TransactionValidityErrorValue;
}

const INVALID_TEXT: Record<string, string> = {
  Call: "Transaction call is not expected",
  Payment: "Inability to pay some fees (e.g. account balance too low)",
  Future: "Transaction will be valid in the future",
  Stale: "Transaction is outdated",
  BadProof: "Transaction has a bad signature",
  AncientBirthBlock: "Transaction has an ancient birth block",
  ExhaustsResources: "Transaction would exhaust the block limits",
  BadMandatory: "A call was labelled as mandatory, but resulted in an Error.",
  MandatoryValidation: "Transaction dispatch is mandatory; transactions must not be validated.",
  BadSigner: "Invalid signing address",
};

const UNKNOWN_TEXT: Record<string, string> = {
  CannotLookup: "Could not lookup information required to validate the transaction",
  NoUnsignedValidator: "Could not find an unsigned validator for the unsigned transaction",
};

export function describeValidityError(e: TransactionValidityErrorValue): string {
  if (e.tag === "Invalid") {
    const inner = e.value as { tag: string; value: unknown };
    return inner.tag === "Custom" ? `Custom error: ${inner.value}` : INVALID_TEXT[inner.tag];
  }
  const inner = e.value as { tag: string; value: unknown };
  return inner.tag === "Custom" ? `Custom error: ${inner.value}` : UNKNOWN_TEXT[inner.tag];
}
