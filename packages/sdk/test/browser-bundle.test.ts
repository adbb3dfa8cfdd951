/**
 * The SDK must bundle for browsers. Its own files use only web APIs (WebSocket, fetch,
 * WebCrypto's getRandomValues) and load `ws` only when the platform has no WebSocket. Files
 * that only the `node` condition of a package `imports` entry selects (every other platform,
 * browsers and edge runtimes, gets the `default` file) may use Node. Anything below the SDK that still needs Node is listed as a
 * diagnostic; test/contracts.test.ts runs a real browser-platform bundle end to end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const SDK_DIR = resolve(import.meta.dirname, "..");
const ENTRY = join(SDK_DIR, "src", "index.ts");

test("the SDK bundles for the browser with ws external; the SDK's own files import nothing from Node", async (t) => {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    // `ws` is loaded only where there is no WebSocket; node: built-ins are what the layers below still need.
    external: ["ws", "node:*"],
  });
  assert.equal(result.outputFiles.length, 1);
  const blockers = new Map<string, Set<string>>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imp of input.imports) {
      if (!imp.path.startsWith("node:")) continue;
      if (file.includes("packages/sdk/")) assert.fail(`${file} imports ${imp.path}; the SDK must run in browsers`);
      const pkg = /packages\/([^/]+)\//.exec(file)?.[1] ?? file;
      if (!blockers.has(imp.path)) blockers.set(imp.path, new Set());
      blockers.get(imp.path)!.add(pkg);
    }
  }
  for (const [mod, pkgs] of blockers) t.diagnostic(`still needs a browser replacement: ${mod} (from ${[...pkgs].sort().join(", ")})`);
});

test("the SDK's sources load ws only dynamically and use no Node globals, but for their Node-only variants", () => {
  const pkg = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as { imports?: Record<string, { node: string; default: string }> };
  const nodeOnly = new Set(Object.values(pkg.imports ?? {}).filter((c) => c.node !== c.default).map((c) => resolve(SDK_DIR, c.node)));
  assert.ok(nodeOnly.size > 0, "the SDK has Node-only variants (worker HTTP)");
  const files = (readdirSync(join(SDK_DIR, "src"), { recursive: true }) as string[]).filter((n) => n.endsWith(".ts")).map((n) => join(SDK_DIR, "src", n));
  assert.ok(files.length > 10);
  for (const file of files) {
    if (nodeOnly.has(file)) continue;
    const text = readFileSync(file, "utf8");
    assert.doesNotMatch(text, /from "ws"|from "node:/, `${file} imports Node or ws statically`);
    assert.doesNotMatch(text, /\bBuffer\.|\bprocess\./, `${file} uses a Node global`);
  }
});
