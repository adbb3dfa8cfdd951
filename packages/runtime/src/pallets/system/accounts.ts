import type { StateReader } from "../../state/storage-item.ts";
import type { DispatchContext } from "../../pallet/context.ts";
import { SystemEvent, SystemStorage, type SystemEventValue } from "./pallet.ts";
import type { Infer } from "../../types/index.ts";
import type { AccountInfo } from "../../types/std.ts";
import { SYSTEM_PALLET_INDEX } from "./constants.ts";

export type AccountInfoValue = Infer<typeof AccountInfo>;

/** Reads an account; missing accounts read as the all-zero default, as in FRAME. */
export function readAccount(s: StateReader, who: Uint8Array): AccountInfoValue {
  return SystemStorage.Account.get(s, who);
}

/**
 * Writes an account, applying FRAME's lifecycle: an account with no providers is removed
 * from storage (reaped) together with its nonce.
 */
export function writeAccount(
  ctx: DispatchContext,
  who: Uint8Array,
  before: AccountInfoValue,
  after: AccountInfoValue,
): void {
  if (before.providers === 0 && after.providers > 0) emitSystemEvent(ctx, { tag: "NewAccount", value: { account: who } });
  if (after.providers === 0 && after.sufficients === 0) {
    if (before.providers > 0) emitSystemEvent(ctx, { tag: "KilledAccount", value: { account: who } });
    SystemStorage.Account.remove(ctx.state, who);
    return;
  }
  SystemStorage.Account.set(ctx.state, who, after);
}

/** System's pallet index is fixed at 0, so other pallets can deposit its events directly. */
export { SYSTEM_PALLET_INDEX };

export function emitSystemEvent(ctx: DispatchContext, e: SystemEventValue): void {
  const body = SystemEvent.codec.enc(e);
  const out = new Uint8Array(body.length + 1);
  out[0] = SYSTEM_PALLET_INDEX;
  out.set(body, 1);
  ctx.depositEvent(out);
}
