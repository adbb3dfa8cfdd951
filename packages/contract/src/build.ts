/**
 * `@phala-ts/contract/build`: turns a contract's TypeScript source into the one JavaScript
 * file that is uploaded (contract ABI, "The uploaded code"), and its code hash.
 *
 * The output is a function of the sources and this file only: the same sources give the
 * same bytes and so the same code hash on every machine, whatever the working directory.
 */
import assert from "node:assert/strict";
import { build, type Message, type OutputFile, type Plugin } from "esbuild";
import { readFile, stat, mkdir, writeFile, rename } from "node:fs/promises";
import { builtinModules } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { blake2b256 } from "@phala-ts/primitives";
import { ContractBuildError, type ContractBuildErrorCode } from "./build-error.ts";

export { ContractBuildError, type ContractBuildErrorCode } from "./build-error.ts";

/**
 * Largest bundle accepted, in bytes: the chain's `upload_code` limit. A contract is held
 * in every cluster worker's memory and parsed on every load, so it is kept small.
 */
/** The chain's limit (PhalaPhatContracts::CodeSizeMax): a larger bundle could never be uploaded. */
export const CODE_SIZE_MAX = 256 * 1024;

/** Name of the global the bundle assigns; the VM reads `__contract.default` (contract ABI). */
export const CONTRACT_GLOBAL_NAME = "__contract";

/** Language level of the bundle; QuickJS supports all of it. */
export const CONTRACT_TARGET = "es2020";

export interface BuildContractOptions {
  /** Minify the bundle (default true). Unminified bundles are easier to read and also deterministic. */
  minify?: boolean;
  /** Refuse bundles larger than this many bytes (default and maximum `CODE_SIZE_MAX`). */
  codeSizeMax?: number;
}

export interface BuildContractResult {
  /** The UTF-8 bytes of the bundle, exactly as uploaded. */
  code: Uint8Array;
  /** blake2b-256 of `code`: the code hash on chain. */
  codeHash: Uint8Array;
  sizeBytes: number;
}

/** The kit's source folder; contracts importing `@phala-ts/contract` get these files. */
const KIT_DIR = dirname(fileURLToPath(import.meta.url));
const KIT_SPECIFIER = "@phala-ts/contract";
/** esbuild namespace of the kit's files: bundle comments then name them `phala-contract-kit:...`, never by a local path. */
const KIT_NAMESPACE = "phala-contract-kit";
const NODE_BUILTINS = new Set(builtinModules);

/** Bundles the contract at `entry` (a .ts or .js file that default-exports `defineContract(...)`). */
export async function buildContract(entry: string, opts: BuildContractOptions = {}): Promise<BuildContractResult> {
  const entryPath = resolve(entry);
  const codeSizeMax = opts.codeSizeMax ?? CODE_SIZE_MAX;
  if (!Number.isSafeInteger(codeSizeMax) || codeSizeMax <= 0 || codeSizeMax > CODE_SIZE_MAX) {
    throw new RangeError(`codeSizeMax must be an integer in 1..${CODE_SIZE_MAX}`);
  }
  const entryStat = await stat(entryPath).catch((cause: unknown) => {
    throw new ContractBuildError("ENTRY_NOT_FOUND", `contract source ${entryPath} not found`, { details: { entry: entryPath }, cause });
  });
  if (!entryStat.isFile()) throw new ContractBuildError("ENTRY_NOT_FOUND", `contract source ${entryPath} is not a file`, { details: { entry: entryPath } });

  let outputs: OutputFile[];
  try {
    const result = await build({
      entryPoints: [entryPath],
      // Paths in bundle comments are relative to this: the entry's own folder, so moving
      // the project elsewhere does not change the bytes.
      absWorkingDir: dirname(entryPath),
      bundle: true,
      write: false,
      format: "iife",
      globalName: CONTRACT_GLOBAL_NAME,
      platform: "neutral",
      mainFields: ["module", "main"],
      target: CONTRACT_TARGET,
      minify: opts.minify ?? true,
      sourcemap: false,
      charset: "ascii",
      legalComments: "eof",
      // Fixed compiler options instead of whatever tsconfig.json sits near the source: a
      // tsconfig changes the output (e.g. "use strict"), and the bytes must depend only on
      // the sources. Contracts are always strict-mode code.
      tsconfigRaw: { compilerOptions: { strict: true, useDefineForClassFields: true, verbatimModuleSyntax: false } },
      logLevel: "silent",
      plugins: [contractImports()],
    });
    outputs = result.outputFiles;
  } catch (cause) {
    throw toBuildError(entryPath, cause);
  }
  // One entry, bundled, no source map or CSS: esbuild writes exactly one file.
  assert.equal(outputs.length, 1, "esbuild produced other than one output file");
  const code = (outputs[0] as OutputFile).contents;

  if (code.length > codeSizeMax) {
    throw new ContractBuildError("CODE_TOO_LARGE", `contract ${basename(entryPath)} bundles to ${code.length} bytes, over the limit of ${codeSizeMax}; remove dependencies or split it`, {
      details: { entry: entryPath, sizeBytes: code.length, codeSizeMax },
    });
  }
  return { code, codeHash: blake2b256(code), sizeBytes: code.length };
}

/** Builds `entry` and writes the bundle to `outFile` (folders created, file replaced atomically). */
export async function buildContractToFile(entry: string, outFile: string, opts: BuildContractOptions = {}): Promise<BuildContractResult> {
  const result = await buildContract(entry, opts);
  const target = resolve(outFile);
  const temporary = `${target}.tmp`;
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(temporary, result.code);
    await rename(temporary, target);
  } catch (cause) {
    throw new ContractBuildError("WRITE_FAILED", `could not write the contract bundle to ${target}`, { details: { outFile: target }, cause });
  }
  return result;
}

/**
 * Resolution rules for contract imports: `@phala-ts/contract` is the kit's source; Node
 * built-ins and other parts of the kit (its build tool) are refused by name; everything
 * else resolves as esbuild does, and an import it cannot find fails the build.
 */
function contractImports(): Plugin {
  return {
    name: "phala-contract-imports",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === KIT_NAMESPACE) {
          // The kit's own relative imports stay inside the kit folder and namespace.
          const file = resolve(KIT_DIR, args.path);
          if (!args.path.startsWith("./") || dirname(file) !== KIT_DIR) return refusal("UNRESOLVED_IMPORT", `the contract kit imports "${args.path}", which is not one of its files`);
          return { path: file.slice(KIT_DIR.length + 1), namespace: KIT_NAMESPACE };
        }
        if (args.path === KIT_SPECIFIER) return { path: "index.ts", namespace: KIT_NAMESPACE };
        if (args.path.startsWith(`${KIT_SPECIFIER}/`)) {
          return refusal("UNRESOLVED_IMPORT", `"${args.path}" is not available inside a contract; import "${KIT_SPECIFIER}" instead`);
        }
        if (isNodeBuiltin(args.path)) {
          return refusal("NODE_BUILTIN_IMPORT", `"${args.path}" is a Node built-in; contracts run in QuickJS without Node APIs`);
        }
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: KIT_NAMESPACE }, async (args) => ({
        contents: await readFile(join(KIT_DIR, args.path), "utf8"),
        loader: "ts",
        resolveDir: KIT_DIR,
      }));
    },
  };
}

function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith("node:")) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split("/")[0] ?? specifier);
}

function refusal(code: ContractBuildErrorCode, text: string): { errors: { text: string; detail: ContractBuildErrorCode }[] } {
  return { errors: [{ text, detail: code }] };
}

/** esbuild failures carry their messages in `errors`; the first one names the problem and its place. */
function toBuildError(entry: string, cause: unknown): ContractBuildError {
  const errors = (cause as { errors?: Message[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) {
    return new ContractBuildError("BUNDLE_FAILED", `building contract ${basename(entry)} failed: ${String(cause)}`, { details: { entry }, cause });
  }
  const messages = errors.map(describe);
  const first = errors[0] as Message;
  const code: ContractBuildErrorCode = isBuildErrorCode(first.detail)
    ? first.detail
    : first.text.startsWith("Could not resolve")
      ? "UNRESOLVED_IMPORT"
      : "BUNDLE_FAILED";
  const hint = code === "UNRESOLVED_IMPORT" && first.pluginName === "" ? "; install the package or fix the path" : "";
  const summary = (messages.length === 1 ? messages[0] : `${messages[0]} (and ${messages.length - 1} more)`) + hint;
  return new ContractBuildError(code, `building contract ${basename(entry)} failed: ${summary}`, { details: { entry, errors: messages }, cause });
}

function describe(m: Message): string {
  const where = m.location === null ? "" : `${m.location.file}:${m.location.line}:${m.location.column}: `;
  return `${where}${m.text}`;
}

const BUILD_ERROR_CODES: readonly string[] = ["ENTRY_NOT_FOUND", "NODE_BUILTIN_IMPORT", "UNRESOLVED_IMPORT", "BUNDLE_FAILED", "CODE_TOO_LARGE", "WRITE_FAILED"];

function isBuildErrorCode(x: unknown): x is ContractBuildErrorCode {
  return typeof x === "string" && BUILD_ERROR_CODES.includes(x);
}
