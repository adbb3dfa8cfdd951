import { startNodeFromArgs, NODE_HELP } from "./node-command.ts";
import { UsageError } from "./args.ts";

const HELP = `phala: Phala Network in TypeScript

Commands:
  phala node [flags]   run a chain node (phala node --help)
  phala dev  [flags]   run the local development network (today: a dev node)

Set-up: npm install, then npm start (= phala dev).
`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h") {
    process.stdout.write(HELP);
    return;
  }
  if (rest.includes("--help")) {
    process.stdout.write(cmd === "node" || cmd === "dev" ? NODE_HELP : HELP);
    return;
  }
  switch (cmd) {
    case "node": {
      await startNodeFromArgs(rest);
      return;
    }
    case "dev": {
      const { node } = await startNodeFromArgs(["--dev", ...rest]);
      process.stdout.write(
        [
          "",
          "Phala dev network is running.",
          `  RPC (WebSocket and HTTP): ws://127.0.0.1:${node.rpcPort}`,
          "  Dev accounts //Alice … //Ferdie are endowed; //Alice is sudo and the validator.",
          "  Connect with polkadot-js or polkadot-api to the address above. Ctrl-C stops it.",
          "",
        ].join("\n"),
      );
      return;
    }
    default:
      throw new UsageError(`unknown command ${cmd}; see 'phala --help'`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stderr.write(`error${err.code ? ` [${err.code}]` : ""}: ${err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
