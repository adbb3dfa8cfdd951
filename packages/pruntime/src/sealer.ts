/**
 * Sealing (ARCHITECTURE §5): everything pRuntime keeps across restarts is encrypted before it
 * touches disk. A sealed file is `MAGIC ++ version ++ nonce(12) ++ AES-256-GCM(ciphertext ++ tag)`
 * with the file name and version as associated data, so a file renamed onto another name, or
 * rolled onto another format, fails authentication instead of being read as something else.
 * Writes are atomic (temp file, fsync, rename, fsync of the directory): after a crash a name
 * holds either the old or the new contents, never a mix.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { AES_GCM_NONCE_LENGTH, AES_GCM_TAG_LENGTH, EnvelopeError, aesGcmDecrypt, aesGcmEncrypt, concatBytes, deriveSecret, utf8 } from "@phala-ts/primitives";
import { PruntimeError } from "./errors.ts";
import type { AppendFile, StoreBackend } from "./sealed-store.ts";

export interface Sealer extends StoreBackend {
  /** Seals `plaintext` under `name`, replacing what was there atomically. */
  seal(name: string, plaintext: Uint8Array): void;
  /** The plaintext sealed under `name`, or undefined if nothing is; throws SEALED_CORRUPTED if it does not authenticate. */
  unseal(name: string): Uint8Array | undefined;
}

const MAGIC = utf8("PHSEAL");
export const SEALED_FORMAT_VERSION = 1;
const HEADER_LENGTH = MAGIC.length + 1;
const SEALING_KEY_FILE = "sealing.key";
const SEALING_KEY_LENGTH = 32;
const SEALED_SUFFIX = ".sealed";
/** Files of the sealed contract store (sealed-store.ts); they count as sealed data too. */
const STORE_SUFFIX = ".sealed-log";
/** KDF label of the contract store's key: a subkey, so store entries never share a key with sealed files. */
export const STORE_KEY_LABEL = "pruntime_sealed_store";
const TEMP_SUFFIX = ".tmp";
/** Names become file names: keep them to a safe alphabet so no name escapes the data dir. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function ioError(what: string, path: string, e: unknown): PruntimeError {
  const code = (e as NodeJS.ErrnoException).code ?? "unknown";
  return new PruntimeError("SEAL_IO", `${what} ${path} failed (${code}); check that the data directory is writable and has space`, { cause: e, details: { path } });
}

/** Writes `bytes` to `path` atomically and durably. */
export function writeFileAtomic(dir: string, path: string, bytes: Uint8Array, mode = 0o600): void {
  const temp = path + TEMP_SUFFIX;
  try {
    const fd = openSync(temp, "w", mode);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    // The rename is durable only once the directory entry is.
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    throw ioError("writing", path, e);
  }
}

function readOptional(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError("reading", path, e);
  }
}

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new PruntimeError("INTERNAL", `sealed file name "${name}" is not [a-z0-9_-]{1,64}`);
}

/**
 * The dev platform's sealer: the sealing key is 32 random bytes in `<dataDir>/sealing.key`
 * (mode 0600). It protects nothing from whoever can read that file; real TEEs derive the key
 * from the enclave measurement instead.
 */
export class DevSealer implements Sealer {
  readonly dataDir: string;
  readonly #key: Uint8Array;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError("creating", dataDir, e);
    }
    this.removeStaleTempFiles();
    const keyPath = join(dataDir, SEALING_KEY_FILE);
    const existing = readOptional(keyPath);
    if (existing === undefined) {
      if (this.sealedNames().length > 0) {
        throw new PruntimeError(
          "SEALING_KEY_MISSING",
          `${keyPath} is missing but sealed files exist in ${dataDir}; restore the key file, or move the sealed files away to start as a new worker`,
          { details: { path: keyPath } },
        );
      }
      const key = new Uint8Array(randomBytes(SEALING_KEY_LENGTH));
      writeFileAtomic(dataDir, keyPath, key, 0o600);
      this.#key = key;
    } else {
      if (existing.length !== SEALING_KEY_LENGTH) {
        throw new PruntimeError("SEALED_CORRUPTED", `${keyPath} is ${existing.length} bytes, not ${SEALING_KEY_LENGTH}; restore it from a backup`, {
          details: { path: keyPath },
        });
      }
      this.#key = existing;
    }
  }

  private sealedNames(): string[] {
    try {
      return readdirSync(this.dataDir).filter((f) => f.endsWith(SEALED_SUFFIX) || f.endsWith(STORE_SUFFIX));
    } catch (e) {
      throw ioError("listing", this.dataDir, e);
    }
  }

  private removeStaleTempFiles(): void {
    let names: string[];
    try {
      names = readdirSync(this.dataDir);
    } catch (e) {
      throw ioError("listing", this.dataDir, e);
    }
    // A crash between write and rename leaves a temp file; its target still holds the old contents.
    for (const f of names) if (f.endsWith(TEMP_SUFFIX)) rmSync(join(this.dataDir, f), { force: true });
  }

  private path(name: string): string {
    return join(this.dataDir, name + SEALED_SUFFIX);
  }

  private static associatedData(name: string): Uint8Array {
    return concatBytes(utf8(name), Uint8Array.of(SEALED_FORMAT_VERSION));
  }

  storeKey(): Uint8Array {
    return deriveSecret(this.#key, STORE_KEY_LABEL);
  }

  storeFileNames(): string[] {
    try {
      return readdirSync(this.dataDir)
        .filter((f) => f.endsWith(STORE_SUFFIX))
        .map((f) => f.slice(0, -STORE_SUFFIX.length))
        .filter((n) => NAME_PATTERN.test(n));
    } catch (e) {
      throw ioError("listing", this.dataDir, e);
    }
  }

  storeFile(name: string): AppendFile {
    checkName(name);
    return new DiskAppendFile(this.dataDir, join(this.dataDir, name + STORE_SUFFIX));
  }

  seal(name: string, plaintext: Uint8Array): void {
    checkName(name);
    const nonce = new Uint8Array(randomBytes(AES_GCM_NONCE_LENGTH));
    const body = aesGcmEncrypt(this.#key, nonce, DevSealer.associatedData(name), plaintext);
    writeFileAtomic(this.dataDir, this.path(name), concatBytes(MAGIC, Uint8Array.of(SEALED_FORMAT_VERSION), nonce, body));
  }

  unseal(name: string): Uint8Array | undefined {
    checkName(name);
    const path = this.path(name);
    const bytes = readOptional(path);
    if (bytes === undefined) return undefined;
    const corrupted = (why: string, cause?: unknown) =>
      new PruntimeError(
        "SEALED_CORRUPTED",
        `sealed file ${path} ${why}; nothing of it was loaded. Restore it from a backup, or delete the data directory to start as a new worker (this discards its keys)`,
        { details: { path }, cause },
      );
    if (bytes.length < HEADER_LENGTH + AES_GCM_NONCE_LENGTH + AES_GCM_TAG_LENGTH) throw corrupted("is truncated");
    for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw corrupted("is not a sealed file");
    const version = bytes[MAGIC.length];
    if (version !== SEALED_FORMAT_VERSION) throw corrupted(`has format version ${version}, this pRuntime reads ${SEALED_FORMAT_VERSION}`);
    const nonce = bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + AES_GCM_NONCE_LENGTH);
    try {
      return aesGcmDecrypt(this.#key, nonce, DevSealer.associatedData(name), bytes.subarray(HEADER_LENGTH + AES_GCM_NONCE_LENGTH));
    } catch (e) {
      if (e instanceof EnvelopeError) throw corrupted("does not authenticate (it is corrupted, truncated or was sealed with another key)", e);
      throw e;
    }
  }
}

/** An append-only file on disk; every mutation is fsynced (and the directory, when it creates or removes the file). */
class DiskAppendFile implements AppendFile {
  constructor(
    readonly dir: string,
    readonly path: string,
  ) {}

  private syncDir(): void {
    const dfd = openSync(this.dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  size(): number {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw ioError("opening", this.path, e);
    }
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }

  read(offset: number, length: number): Uint8Array {
    try {
      const fd = openSync(this.path, "r");
      try {
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const n = readSync(fd, out, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return got === length ? out : out.subarray(0, got);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw ioError("reading", this.path, e);
    }
  }

  append(chunks: readonly Uint8Array[]): void {
    try {
      const fd = openSync(this.path, "a", 0o600);
      try {
        for (const c of chunks) {
          let off = 0;
          while (off < c.length) off += writeSync(fd, c, off, c.length - off);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw ioError("appending to", this.path, e);
    }
  }

  truncate(length: number): void {
    try {
      const fd = openSync(this.path, "a", 0o600);
      try {
        ftruncateSync(fd, length);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      // A newly created file is durable only once its directory entry is.
      this.syncDir();
    } catch (e) {
      throw ioError("truncating", this.path, e);
    }
  }

  remove(): void {
    try {
      rmSync(this.path, { force: true });
      this.syncDir();
    } catch (e) {
      throw ioError("removing", this.path, e);
    }
  }
}
