/**
 * The measurement a dev provider claims: a hash of the pRuntime build the
 * caller chooses to cover (sources, a bundle, a lockfile ...).
 *
 *   blake2b-256( SCALE( Vec<(String, Vec<u8>)> ) )
 *
 * over (path, contents) pairs sorted by path bytes, paths relative to the root
 * with "/" separators. Length prefixes make the concatenation unambiguous, so
 * moving bytes between files or renaming a file changes the hash.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { blake2b256, compareBytes, utf8 } from "@phala-ts/primitives";
import { AttestationError } from "./errors.ts";
import { bytes, encode, str, struct, vec } from "./scale.ts";

/** Files per measurement; a pRuntime build is a few hundred. */
export const MEASURE_FILES_MAX = 100_000;
/** Bytes per file: bundles are a few MiB. */
export const MEASURE_FILE_BYTES_MAX = 256 * 1024 * 1024;

/** Linux PATH_MAX. */
const MEASURE_PATH_BYTES_MAX = 4096;
const EntriesCodec = vec(struct({ path: str(MEASURE_PATH_BYTES_MAX, "path"), contents: bytes(MEASURE_FILE_BYTES_MAX, "file") }), MEASURE_FILES_MAX, "files");

async function walk(dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
    // Symlinks and special files are skipped: they do not hold build contents of their own.
    if (out.length > MEASURE_FILES_MAX) throw new AttestationError("MALFORMED", `more than ${MEASURE_FILES_MAX} files to measure`);
  }
}

/**
 * `input` is a directory (every regular file under it is measured) or a list
 * of files, named relative to `root` (default: the current directory).
 */
export async function measurePruntimeBuild(input: string | readonly string[], root?: string): Promise<Uint8Array> {
  let base: string;
  let files: string[];
  if (typeof input === "string") {
    base = resolve(input);
    files = [];
    await walk(base, files);
  } else {
    base = resolve(root ?? ".");
    files = input.map((f) => resolve(base, f));
  }
  const named = files.map((f) => ({ file: f, path: relative(base, f).split(sep).join("/") }));
  for (const n of named) if (n.path.startsWith("../")) throw new AttestationError("MALFORMED", `${n.file} is outside the measured root ${base}`);
  named.sort((a, b) => compareBytes(utf8(a.path), utf8(b.path)));
  const entries = [];
  for (const n of named) entries.push({ path: n.path, contents: new Uint8Array(await readFile(n.file)) });
  return blake2b256(encode(EntriesCodec, entries));
}
