/** The contract runner the tests use: the real QuickJS VM, one per test process. */
import type { ContractRunner } from "../src/contract-runner.ts";
import { createVmRunner } from "../src/vm-runner.ts";

let shared: Promise<ContractRunner> | undefined;

export function testRunner(): Promise<ContractRunner> {
  shared ??= createVmRunner();
  return shared;
}
