export { startNodeFromArgs, NODE_HELP } from "./node-command.ts";
export type { RunningNode } from "./node-command.ts";
