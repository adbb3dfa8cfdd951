/** Paths of the example contracts, and their bundles built once per test file. */
import { fileURLToPath } from "node:url";
import { buildContract, type BuildContractResult } from "@phala-ts/contract/build";

export const EXAMPLES = ["notes", "token", "auction", "adversarial/infinite-loop", "adversarial/unbounded-alloc", "adversarial/catastrophic-regex"] as const;
export type ExampleName = (typeof EXAMPLES)[number];

export const EXAMPLES_DIR = fileURLToPath(new URL("../examples/", import.meta.url));

export function examplePath(name: ExampleName): string {
  return `${EXAMPLES_DIR}${name}.ts`;
}

const built = new Map<ExampleName, Promise<BuildContractResult>>();

export function buildExample(name: ExampleName): Promise<BuildContractResult> {
  let p = built.get(name);
  if (p === undefined) {
    p = buildContract(examplePath(name));
    built.set(name, p);
  }
  return p;
}
