/**
 * Drives load at an already running node, for profiling it:
 *   node --import tsx bench/drive.ts ws://127.0.0.1:9944 ed25519 3000 [latencyRounds]
 * Prints the throughput (and optional latency) result as JSON.
 */
import type { KeyType } from "@phala-ts/primitives";
import { measureSubmitToFinalizedLatency, measureTransferThroughput } from "./chain-load.ts";

const [url = "ws://127.0.0.1:9944", type = "ed25519", count = "3000", rounds = "0"] = process.argv.slice(2);
const out: Record<string, unknown> = {};
out.throughput = await measureTransferThroughput(url, type as KeyType, Number(count));
if (Number(rounds) > 0) out.latency = await measureSubmitToFinalizedLatency(url, Number(rounds));
process.stdout.write(`${JSON.stringify(out)}\n`);
