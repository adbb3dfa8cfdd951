import { blake2b64, utf8 } from "@phala-ts/primitives";
import { createSystemPallet } from "./pallets/system/pallet.ts";
import { Timestamp } from "./pallets/timestamp/pallet.ts";
import { Balances } from "./pallets/balances/pallet.ts";
import { TransactionPayment } from "./pallets/transaction-payment/pallet.ts";
import { createSudoPallet } from "./pallets/sudo/pallet.ts";
import { createPhalaMqPallet } from "./pallets/phala-mq/pallet.ts";
import { createPhalaRegistryPallet, registryOnOffchainMessage, registrySignerOf } from "./pallets/phala-registry/pallet.ts";
import { createPhatContractsPallet, phatContractsOnOffchainMessage } from "./pallets/phala-phat-contracts/pallet.ts";
import type { DispatchContext } from "./pallet/context.ts";
import type { SignedMessageValue } from "./pallets/phala-mq/types.ts";
import { recordKeyPublication } from "./key-publications.ts";

/**
 * Offchain messages go to the contracts pallet's topics first, then the registry's; an
 * accepted key publication is kept as signed.
 */
function onOffchainMessage(ctx: DispatchContext, signed: SignedMessageValue) {
  const message = signed.message;
  const r = phatContractsOnOffchainMessage(ctx, message);
  const result = r === "unhandled" ? registryOnOffchainMessage(ctx, message) : r;
  if (result === undefined) recordKeyPublication(ctx, signed);
  return result;
}
import { composeRuntime, forwardType, type ComposedRuntime, type RuntimeVersionValue } from "./executive/composed-runtime.ts";

/** Runtime APIs this runtime answers through `state_call`, with the versions Substrate gives them. */
export const RUNTIME_APIS: Array<[string, number]> = [
  ["Core", 4],
  ["Metadata", 2],
  ["BlockBuilder", 6],
  ["TaggedTransactionQueue", 3],
  ["AccountNonceApi", 1],
  ["TransactionPaymentApi", 4],
];

export const RUNTIME_VERSION: RuntimeVersionValue = {
  spec_name: "phala",
  impl_name: "phala-ts",
  authoring_version: 1,
  spec_version: 1,
  impl_version: 0,
  apis: RUNTIME_APIS.map(([name, v]) => [blake2b64(utf8(name)), v] as [Uint8Array, number]),
  transaction_version: 1,
  system_version: 1,
} as RuntimeVersionValue;

/** The Phala runtime: System, Timestamp, Balances, TransactionPayment, Sudo, PhalaMq, PhalaRegistry and PhalaPhatContracts. */
export function createPhalaRuntime(): ComposedRuntime {
  const callRef = forwardType<any>();
  const eventRef = forwardType<any>();
  const { pallet: System, Events } = createSystemPallet({ runtimeEvent: eventRef.type, version: RUNTIME_VERSION });
  let rt: ComposedRuntime | undefined;
  const Sudo = createSudoPallet({ runtimeCall: callRef.type, weightOf: (c) => rt!.weightOf(c) });
  rt = composeRuntime({
    version: RUNTIME_VERSION,
    pallets: [
      System,
      Timestamp,
      Balances,
      TransactionPayment,
      Sudo,
      createPhalaMqPallet({ signerOf: registrySignerOf, onOffchainMessage }),
      createPhalaRegistryPallet(),
      createPhatContractsPallet(),
    ],
    systemEvents: Events,
    callRef,
    eventRef,
  });
  return rt;
}
