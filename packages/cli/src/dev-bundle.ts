/**
 * `phala dev` starts seven processes, and under tsx each spent ~1.2 s of CPU resolving and
 * loading its TypeScript modules one by one through the loader thread (a pRuntime was up in
 * ~2.7 s, ~1.4 s from one bundle). So the dev network runs its children from one esbuild
 * bundle of the CLI, built once per state of the sources and kept in node_modules/.cache.
 *
 * The bundle behaves as the sources do: third-party packages stay external (resolved as
 * usual), and each module's `import.meta.url` is its own source file's URL, so everything it
 * locates beside itself (worker scripts, the sources pRuntime measures, the QuickJS package)
 * is found where it is. When no bundle can be built, the children run through tsx as before.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PACKAGES_DIR = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const ROOT = dirname(PACKAGES_DIR);
const ENTRY = join(PACKAGES_DIR, "cli", "src", "main.ts");
const CACHE_DIR = join(ROOT, "node_modules", ".cache", "phala-dev");
const STALE_BUNDLE_MS = 60 * 60 * 1000;
/** What each bundled module's `import.meta.url` becomes: a constant holding its source file's URL. */
const SOURCE_URL = "__phalaSourceUrl";

/** The sources' state: every file under packages/*\/src and each package.json, by path, size and modification time. */
function fingerprint(): string {
  const h = createHash("sha256");
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else h.update(`${p}\0${s.size}\0${s.mtimeMs}\n`);
    }
  };
  for (const pkg of readdirSync(PACKAGES_DIR).sort()) {
    const dir = join(PACKAGES_DIR, pkg);
    if (!existsSync(join(dir, "package.json"))) continue;
    h.update(readFileSync(join(dir, "package.json")));
    if (existsSync(join(dir, "src"))) walk(join(dir, "src"));
  }
  return h.digest("hex").slice(0, 16);
}

/** Every dependency of the workspace packages that is not one of them: left to Node's resolution. */
function externals(): string[] {
  const out = new Set<string>();
  for (const pkg of readdirSync(PACKAGES_DIR)) {
    const file = join(PACKAGES_DIR, pkg, "package.json");
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, string> | undefined>;
    for (const field of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
      for (const name of Object.keys(json[field] ?? {})) if (!name.startsWith("@phala-ts/")) out.add(name);
    }
  }
  return [...out].flatMap((name) => [name, `${name}/*`]);
}

/**
 * The path of a current bundle of the CLI, building it if the sources changed since the last
 * one; undefined (run through tsx) if it cannot be built, after telling `warn` why.
 */
export async function devBundle(warn: (line: string) => void): Promise<string | undefined> {
  let partial: string | undefined;
  try {
    const name = `cli-${fingerprint()}`;
    const file = join(CACHE_DIR, `${name}.mjs`);
    if (existsSync(file)) return file;
    const { build } = await import("esbuild");
    mkdirSync(CACHE_DIR, { recursive: true });
    partial = `${file}.${process.pid}.tmp`;
    await build({
      entryPoints: [ENTRY],
      outfile: partial,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["node"],
      external: externals(),
      // As tsx runs them: class and function names kept.
      keepNames: true,
      define: { "import.meta.url": SOURCE_URL },
      logLevel: "silent",
      plugins: [
        {
          name: "source-import-meta-url",
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, (args) => {
              // `define` turns every import.meta.url into this module-scoped constant.
              const contents = `const ${SOURCE_URL} = ${JSON.stringify(pathToFileURL(args.path).href)};\n${readFileSync(args.path, "utf8")}`;
              return { contents, loader: "ts" };
            });
          },
        },
      ],
    });
    renameSync(partial, file);
    // Bundles of sources that changed since; kept an hour, in case a network started from one is still running.
    for (const old of readdirSync(CACHE_DIR)) {
      const p = join(CACHE_DIR, old);
      if (!old.startsWith(name) && Date.now() - statSync(p).mtimeMs > STALE_BUNDLE_MS) rmSync(p, { force: true });
    }
    return file;
  } catch (e) {
    if (partial !== undefined) rmSync(partial, { force: true });
    warn(`  (the processes start through tsx, more slowly: no bundle of the CLI could be built in ${CACHE_DIR}: ${(e as Error).message.split("\n")[0]})`);
    return undefined;
  }
}
