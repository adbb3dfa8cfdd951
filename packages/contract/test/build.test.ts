import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { blake2b256, toHex } from "@phala-ts/primitives";
import { buildContract, buildContractToFile, CODE_SIZE_MAX, ContractBuildError } from "@phala-ts/contract/build";
import { buildExample, EXAMPLES, EXAMPLES_DIR, examplePath } from "./examples.ts";

async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "phala-contract-"));
  try {
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function buildError(p: Promise<unknown>): Promise<ContractBuildError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ContractBuildError, `expected a ContractBuildError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the build to fail");
}

test("every example builds to an IIFE under the size limit whose hash is blake2b-256 of its bytes", async () => {
  for (const name of EXAMPLES) {
    const r = await buildExample(name);
    assert.equal(r.sizeBytes, r.code.length);
    assert.ok(r.sizeBytes > 0 && r.sizeBytes <= CODE_SIZE_MAX, `${name}: ${r.sizeBytes} bytes`);
    assert.deepEqual(r.codeHash, blake2b256(r.code));
    assert.equal(r.codeHash.length, 32);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(r.code);
    assert.match(text, /var __contract\s*=/, `${name} assigns the __contract global`);
    // Evaluating it defines the default export without calling the host.
    const context = vm.createContext({});
    vm.runInContext(text, context);
    const def = vm.runInContext("__contract.default", context) as Record<string, unknown>;
    assert.equal(typeof def.handle, "function", `${name} has handle`);
  }
});

test("builds are deterministic: same sources give the same bytes and hash, minified or not, wherever they sit", async () => {
  for (const minify of [true, false]) {
    for (const name of EXAMPLES) {
      const a = await buildContract(examplePath(name), { minify });
      const b = await buildContract(examplePath(name), { minify });
      assert.deepEqual(a.code, b.code, `${name} minify=${minify}`);
      assert.deepEqual(a.codeHash, b.codeHash);
    }
  }
  // A copy of the examples in another folder gives identical bundles: no absolute path leaks in.
  await withTempDir(async (dir) => {
    await cp(EXAMPLES_DIR, join(dir, "elsewhere"), { recursive: true });
    for (const minify of [true, false]) {
      for (const name of EXAMPLES) {
        const here = await buildContract(examplePath(name), { minify });
        const there = await buildContract(join(dir, "elsewhere", `${name}.ts`), { minify });
        assert.equal(toHex(there.codeHash), toHex(here.codeHash), `${name} minify=${minify}`);
      }
    }
  });
});

test("unminified bundles name the kit by its namespace, never by a local path", async () => {
  const r = await buildContract(examplePath("notes"), { minify: false });
  const text = new TextDecoder().decode(r.code);
  assert.match(text, /\/\/ phala-contract-kit:storage\.ts/);
  assert.ok(!text.includes(EXAMPLES_DIR), "no absolute path in the bundle");
  assert.ok(!text.includes("/packages/"), "no repository path in the bundle");
});

test("buildContractToFile writes exactly the built bytes", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "nested", "token.js");
    const r = await buildContractToFile(examplePath("token"), out);
    assert.deepEqual(new Uint8Array(await readFile(out)), r.code);
    assert.deepEqual(r.codeHash, (await buildExample("token")).codeHash);
  });
});

test("a bundle over the size limit is refused with its size and the limit", async () => {
  const e = await buildError(buildContract(examplePath("token"), { codeSizeMax: 100 }));
  assert.equal(e.code, "CODE_TOO_LARGE");
  assert.match(e.message, /token\.ts bundles to \d+ bytes, over the limit of 100/);
  assert.equal(CODE_SIZE_MAX, 256 * 1024);
  await assert.rejects(buildContract(examplePath("token"), { codeSizeMax: CODE_SIZE_MAX + 1 }), RangeError);
});

test("imports of Node built-ins, unknown modules and the build tool are refused by name", async () => {
  await withTempDir(async (dir) => {
    // Each import is used: TypeScript drops imports that are never used, so those never resolve.
    const cases: [string, string, string, RegExp][] = [
      [`import { readFileSync } from "node:fs";`, "readFileSync", "NODE_BUILTIN_IMPORT", /"node:fs" is a Node built-in/],
      [`import { createHash } from "crypto";`, "createHash", "NODE_BUILTIN_IMPORT", /"crypto" is a Node built-in/],
      [`import { join } from "path/posix";`, "join", "NODE_BUILTIN_IMPORT", /"path\/posix" is a Node built-in/],
      [`import "fs";`, "0", "NODE_BUILTIN_IMPORT", /"fs" is a Node built-in/],
      [`import leftPad from "no-such-package-xyz";`, "leftPad", "UNRESOLVED_IMPORT", /Could not resolve "no-such-package-xyz"/],
      [`import { helper } from "./missing-helper.ts";`, "helper", "UNRESOLVED_IMPORT", /Could not resolve "\.\/missing-helper\.ts"/],
      [`import { buildContract } from "@phala-ts/contract/build";`, "buildContract", "UNRESOLVED_IMPORT", /"@phala-ts\/contract\/build" is not available inside a contract/],
    ];
    for (const [line, use, code, message] of cases) {
      const entry = join(dir, "bad.ts");
      await writeFile(entry, `${line}\nimport { defineContract } from "@phala-ts/contract";\nexport default defineContract({ handle: () => String(${use}) });\n`);
      const e = await buildError(buildContract(entry));
      assert.equal(e.code, code, `${line}: ${e.message}`);
      assert.match(e.message, message);
      assert.match(e.message, /bad\.ts:\d+:\d+/, "names the importing file and line");
    }
    // require() from a dependency is checked the same way.
    await writeFile(join(dir, "dep.js"), `module.exports = require("fs").readFileSync;\n`);
    await writeFile(join(dir, "bad.ts"), `import dep from "./dep.js";\nexport default { handle: () => typeof dep };\n`);
    assert.equal((await buildError(buildContract(join(dir, "bad.ts")))).code, "NODE_BUILTIN_IMPORT");
  });
});

test("other source problems and a missing entry are reported with their place", async () => {
  await withTempDir(async (dir) => {
    const entry = join(dir, "broken.ts");
    await writeFile(entry, `export default {\n  handle( {\n};\n`);
    const e = await buildError(buildContract(entry));
    assert.equal(e.code, "BUNDLE_FAILED");
    assert.match(e.message, /broken\.ts:\d+:\d+/);
    await writeFile(entry, `const x = await Promise.resolve(1);\nexport default { handle: () => x };\n`);
    assert.equal((await buildError(buildContract(entry))).code, "BUNDLE_FAILED", "top-level await cannot be an IIFE");
    const missing = await buildError(buildContract(join(dir, "nope.ts")));
    assert.equal(missing.code, "ENTRY_NOT_FOUND");
    assert.equal((await buildError(buildContract(dir))).code, "ENTRY_NOT_FOUND");
  });
});

test("a contract may use relative imports and pure npm-style packages", async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "helper.ts"), `export const twice = (n: number): number => n * 2;\n`);
    await mkdir(join(dir, "node_modules", "tiny-add"), { recursive: true });
    await writeFile(join(dir, "node_modules", "tiny-add", "package.json"), JSON.stringify({ name: "tiny-add", version: "1.0.0", main: "index.js" }));
    await writeFile(join(dir, "node_modules", "tiny-add", "index.js"), `exports.add = (a, b) => a + b;\n`);
    await writeFile(
      join(dir, "ok.ts"),
      `import { defineContract } from "@phala-ts/contract";\nimport { twice } from "./helper.ts";\nimport { add } from "tiny-add";\nexport default defineContract({ query: (r: number) => add(twice(r), 1) });\n`,
    );
    const r = await buildContract(join(dir, "ok.ts"));
    const context = vm.createContext({});
    vm.runInContext(new TextDecoder().decode(r.code), context);
    assert.equal(vm.runInContext("__contract.default.query(21)", context), 43);
  });
});
