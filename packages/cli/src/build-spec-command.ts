/**
 * `phala build-spec --chain <dev|local|file>`: prints a chain spec as JSON, as Substrate's
 * `build-spec` does. The spec is what a client trusts (`--chain`, or the SDK's
 * `{ trust: { chainSpec } }`): its genesis validators anchor every certificate and proof.
 */
import { loadChainSpec } from "@phala-ts/node";
import { UsageError, parseFlags } from "./args.ts";
import { stringFlag } from "./account-command.ts";

export const BUILD_SPEC_HELP = `phala build-spec: print a chain spec (JSON) to give clients as their trust anchor

  --chain <dev|local|file>  the chain (default dev)
`;

export async function runBuildSpec(argv: string[]): Promise<void> {
  const { flags, positional } = parseFlags(argv, { boolean: [], string: ["chain"] });
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}; phala build-spec --chain <dev|local|file>`);
  const chain = stringFlag(flags, "chain") ?? "dev";
  let spec;
  try {
    spec = loadChainSpec(chain).json;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  process.stdout.write(JSON.stringify(spec, null, 2) + "\n");
}
