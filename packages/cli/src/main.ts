import { UsageError } from "./args.ts";

/**
 * Each command's module is loaded only when it runs: a node never loads the contract
 * toolchain, and `phala account` starts without the node, pRuntime and attestation code.
 */
const COMMANDS: Record<string, () => Promise<{ help: string; run(argv: string[]): Promise<unknown> }>> = {
  node: async () => {
    const m = await import("./node-command.ts");
    return { help: m.NODE_HELP, run: (a) => m.startNodeFromArgs(a) };
  },
  pruntime: async () => {
    const m = await import("./pruntime-command.ts");
    return { help: m.PRUNTIME_HELP, run: (a) => m.startPruntimeFromArgs(a) };
  },
  phost: async () => {
    const m = await import("./phost-command.ts");
    return { help: m.PHOST_HELP, run: (a) => m.startPhostFromArgs(a) };
  },
  dev: async () => {
    const m = await import("./dev-network.ts");
    return { help: m.DEV_HELP, run: (a) => m.runDevNetwork(a) };
  },
  contract: async () => {
    const m = await import("./contract-command.ts");
    return { help: m.CONTRACT_HELP, run: (a) => m.runContract(a) };
  },
  "build-spec": async () => {
    const m = await import("./build-spec-command.ts");
    return { help: m.BUILD_SPEC_HELP, run: (a) => m.runBuildSpec(a) };
  },
  account: async () => {
    const m = await import("./account-command.ts");
    return { help: m.ACCOUNT_HELP, run: (a) => m.runAccount(a) };
  },
};

const HELP = `phala: Phala Network in TypeScript

Commands:
  phala node [flags]      run a chain node (phala node --help)
  phala pruntime [flags]  run a pRuntime, the worker's confidential runtime (phala pruntime --help)
  phala phost [flags]     run a pHost, the bridge between a node and a pRuntime (phala phost --help)
  phala dev  [flags]      run the local network: node, gatekeeper, two workers (phala dev --help)
  phala contract <build|deploy|call|query|clusters>  confidential contracts (phala contract --help)
  phala account [deposit] dev keys and balances; PHA into a cluster (phala account --help)
  phala build-spec [--chain <id|file>]  print a chain spec: the trust anchor for clients

Set-up: npm install, then npm start (= phala dev).
`;

/**
 * A process started by `phala dev` exits when `phala dev` is gone, even if it was killed with
 * SIGKILL and could not stop its children: SIGTERM to ourselves runs the normal shutdown.
 */
function exitWithParent(): void {
  const parent = Number(process.env.PHALA_PARENT_PID);
  if (!Number.isSafeInteger(parent) || parent <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(timer);
      process.kill(process.pid, "SIGTERM");
    }
  }, 1000);
  timer.unref();
}

async function main(argv: string[]): Promise<void> {
  exitWithParent();
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h") {
    process.stdout.write(HELP);
    return;
  }
  const load = COMMANDS[cmd];
  if (!load) throw new UsageError(`unknown command ${cmd}; see 'phala --help'`);
  const command = await load();
  if (rest.includes("--help")) {
    process.stdout.write(command.help);
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stderr.write(`error${err.code ? ` [${err.code}]` : ""}: ${err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
