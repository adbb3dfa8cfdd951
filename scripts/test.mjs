// Collects test files and hands them to Node's test runner (Node 20 has no glob
// support in `--test`). `--long` selects the soak and fuzz suites (*.long.test.ts).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const long = process.argv.includes("--long");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const roots = ["packages", "test"];
const files = [];

function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return; // a root that does not exist yet simply has no tests
  }
  for (const name of entries) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.ts")) {
      const isLong = name.endsWith(".long.test.ts");
      if (isLong === long && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
    }
  }
}
for (const r of roots) walk(r);
files.sort();

// Type errors fail the run before any test starts: strict TypeScript is checked, not hoped for.
if (!long && filters.length === 0) {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--noEmit"], { stdio: "inherit" });
  if (tsc.status !== 0) {
    process.stderr.write("type check failed (npm run typecheck); fix the errors above\n");
    process.exit(tsc.status ?? 1);
  }
}
if (files.length === 0) {
  // Node's runner would fall back to discovering every test file; say plainly there is nothing.
  process.stdout.write("no test files selected\n0 passed, 0 failed\n");
  process.exit(0);
}

// A hung test fails after TEST_TIMEOUT_MS instead of holding CI until its limit; a file
// whose tests are done exits even if something left a handle open.
const TEST_TIMEOUT_MS = long ? 30 * 60_000 : 180_000;
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", `--test-timeout=${TEST_TIMEOUT_MS}`, "--test-force-exit", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
