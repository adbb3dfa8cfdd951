// Entry of the command thread (threaded-runner.ts). pRuntime is TypeScript run through tsx; a
// worker thread does not inherit the parent's module hooks, so it registers them itself first.
import { register } from "tsx/esm/api";

register();
await import("./vm-thread.ts");
