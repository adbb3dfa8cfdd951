/**
 * The SDK must bundle for browsers. Its own files use only web APIs (WebSocket, fetch,
 * WebCrypto's getRandomValues) and load `ws` only when the platform has no WebSocket.
 *
 * What still blocks a browser bundle lives below the SDK and is listed by this test as a
 * diagnostic (it fails only if the SDK itself reaches for Node):
 * - primitives uses `node:crypto` for ed25519, x25519, HKDF, AES-GCM and PBKDF2, and `Buffer`;
 * - runtime uses `node:assert/strict`;
 * - `createPhalaRuntime` (needed for call encoding, events and error names) includes the
 *   PhalaRegistry pallet, which pulls in the attestation package (`node:crypto`,
 *   `node:fs/promises`, `node:path`, `@phala/dcap-qvl`).
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

test("the SDK's sources load ws only dynamically and use no Node globals", () => {
  const src = join(SDK_DIR, "src");
  for (const name of readdirSync(src)) {
    const text = readFileSync(join(src, name), "utf8");
    assert.doesNotMatch(text, /from "ws"|from "node:/, `${name} imports Node or ws statically`);
    assert.doesNotMatch(text, /\bBuffer\.|\bprocess\./, `${name} uses a Node global`);
  }
});
