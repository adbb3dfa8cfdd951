/**
 * The few file operations providers need, behind an interface so tests can
 * stand in for configfs-tsm and Gramine's /dev/attestation, whose files behave
 * unlike regular files (writes trigger work, reads return generated data).
 */
import { mkdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";

export interface ProviderFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** One write of the whole buffer: configfs attributes take their value from a single write. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeProviderFs: ProviderFs = {
  mkdir: async (p) => {
    await mkdir(p);
  },
  rmdir: (p) => rmdir(p),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  writeFile: (p, d) => writeFile(p, d),
  exists: async (p) => {
    try {
      await stat(p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  },
};

export function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof (e as { code: unknown }).code === "string" ? (e as { code: string }).code : undefined;
}
