import type { ComposedRuntime } from "./composed-runtime.ts";
import type { DispatchErrorValue } from "../pallet/context.ts";

/**
 * Names a dispatch error as polkadot-js does: `Pallet.Error` for a module error (its first
 * byte indexes the pallet's declared `errors`), `Token.FundsUnavailable` and the like for
 * nested kinds, else the kind (`BadOrigin`). An undeclared module error reads `Module(index, error)`.
 */
export function dispatchErrorName(runtime: ComposedRuntime, e: DispatchErrorValue): string {
  switch (e.tag) {
    case "Module": {
      const { index, error } = e.value;
      const pallet = runtime.pallets.find((p) => p.index === index);
      const name: string | undefined = pallet?.def.errors[error[0]];
      return pallet && name !== undefined ? `${pallet.name}.${name}` : `Module(${index}, ${error[0]})`;
    }
    case "Token":
    case "Arithmetic":
    case "Transactional":
    case "Trie":
      return `${e.tag}.${e.value.tag}`;
    default:
      return e.tag;
  }
}
