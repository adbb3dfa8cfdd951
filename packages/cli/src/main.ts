import { startNodeFromArgs, NODE_HELP } from "./node-command.ts";
import { UsageError } from "./args.ts";
import { DEV_HELP, contractSteps, startDevNetwork, statusLines } from "./dev-network.ts";
import { PRUNTIME_HELP, startPruntimeFromArgs } from "./pruntime-command.ts";
import { PHOST_HELP, startPhostFromArgs } from "./phost-command.ts";

const HELP = `phala: Phala Network in TypeScript

Commands:
  phala node [flags]      run a chain node (phala node --help)
  phala pruntime [flags]  run a pRuntime, the worker's confidential runtime (phala pruntime --help)
  phala phost [flags]     run a pHost, the bridge between a node and a pRuntime (phala phost --help)
  phala dev  [flags]      run the local network: node, gatekeeper, two workers (phala dev --help)

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
  if (rest.includes("--help")) {
    const help: Record<string, string> = { node: NODE_HELP, dev: DEV_HELP, pruntime: PRUNTIME_HELP, phost: PHOST_HELP };
    process.stdout.write(help[cmd] ?? HELP);
    return;
  }
  switch (cmd) {
    case "node": {
      await startNodeFromArgs(rest);
      return;
    }
    case "pruntime": {
      await startPruntimeFromArgs(rest);
      return;
    }
    case "phost": {
      await startPhostFromArgs(rest);
      return;
    }
    case "dev": {
      await runDevNetwork(rest);
      return;
    }
    default:
      throw new UsageError(`unknown command ${cmd}; see 'phala --help'`);
  }
}

async function runDevNetwork(argv: string[]): Promise<void> {
  const net = await startDevNetwork(argv);
  let last = "";
  let shownAt = 0;
  // Reprint when a registration or role changes, and otherwise every half minute.
  const show = async () => {
    const lines = await statusLines(net);
    const sig = lines.map((l) => l.replace(/synced #\d+/, "")).join("\n");
    if (sig === last && Date.now() - shownAt < 30_000) return;
    process.stdout.write(lines.join("\n") + "\n");
    last = sig;
    shownAt = Date.now();
  };
  process.stdout.write(
    [
      "",
      "Phala dev network is running.",
      `  RPC (WebSocket and HTTP): ws://127.0.0.1:${net.rpcPort}`,
      "  Dev accounts //Alice … //Ferdie are endowed; //Alice is sudo and the validator.",
      `  Cluster ${net.cluster} runs contracts on worker1 and worker2.`,
      "  Ctrl-C stops every process.",
      "",
      ...contractSteps(net),
      "",
    ].join("\n"),
  );
  await show();
  const timer = setInterval(() => void show(), 2000);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      clearInterval(timer);
      process.stdout.write(`stopping (${sig})…\n`);
      void net.stop().then(() => process.exit(0));
    });
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stderr.write(`error${err.code ? ` [${err.code}]` : ""}: ${err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
