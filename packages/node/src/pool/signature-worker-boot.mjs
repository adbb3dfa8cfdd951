// Worker threads do not inherit the CLI's tsx registration; the worker registers it itself.
import { register } from "tsx/esm/api";
register();
await import("./signature-worker.ts");
