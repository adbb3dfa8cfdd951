/**
 * Stand-ins for the kernel's configfs-tsm and Gramine's /dev/attestation,
 * driven through the providers' ProviderFs seam. They follow the ABI: an
 * entry appears on mkdir with generation 0; each write to inblob or privlevel
 * bumps generation; outblob/auxblob are generated from the current inblob when
 * read; provider names the TSM.
 */
import { posix } from "node:path";
import type { ProviderFs } from "../src/index.ts";

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

interface TsmEntry {
  generation: number;
  inblob: Uint8Array | null;
  privlevel: number | null;
}

export interface FakeTsmOptions {
  readonly root: string;
  readonly provider: "tdx_guest" | "sev_guest";
  /** What the TSM returns for a report request. */
  readonly report: (inblob: Uint8Array, privlevel: number | null) => { outblob: Uint8Array; auxblob?: Uint8Array };
  /** Called after outblob is read; returning true simulates another writer bumping generation. */
  readonly interfere?: (entry: string) => boolean;
}

export class FakeTsm implements ProviderFs {
  readonly entries = new Map<string, TsmEntry>();
  readonly log: string[] = [];
  created = 0;
  outblobError: string | null = null;

  constructor(private readonly o: FakeTsmOptions) {}

  private entry(path: string): [string, TsmEntry, string] {
    const dir = posix.dirname(path);
    const e = this.entries.get(dir);
    if (e === undefined) throw errno("ENOENT", path);
    return [dir, e, posix.basename(path)];
  }

  async mkdir(path: string): Promise<void> {
    if (posix.dirname(path) !== this.o.root) throw errno("ENOENT", path);
    if (this.entries.has(path)) throw errno("EEXIST", path);
    this.entries.set(path, { generation: 0, inblob: null, privlevel: null });
    this.created++;
    this.log.push(`mkdir ${posix.basename(path)}`);
  }

  async rmdir(path: string): Promise<void> {
    if (!this.entries.delete(path)) throw errno("ENOENT", path);
    this.log.push(`rmdir ${posix.basename(path)}`);
  }

  async exists(path: string): Promise<boolean> {
    if (path === this.o.root || this.entries.has(path)) return true;
    const e = this.entries.get(posix.dirname(path));
    const name = posix.basename(path);
    return e !== undefined && (["inblob", "outblob", "provider", "generation", "privlevel", "privlevel_floor"].includes(name) || (name === "auxblob" && this.o.provider === "sev_guest"));
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const [, e, name] = this.entry(path);
    this.log.push(`write ${name}`);
    if (name === "inblob") {
      if (data.length > 64) throw errno("EINVAL", path);
      e.inblob = Uint8Array.from(data);
    } else if (name === "privlevel") {
      const n = Number(new TextDecoder().decode(data).trim());
      if (!Number.isInteger(n) || n < 0 || n > 3) throw errno("EINVAL", path);
      e.privlevel = n;
    } else throw errno("EACCES", path);
    e.generation++;
  }

  async readFile(path: string): Promise<Uint8Array> {
    const [dir, e, name] = this.entry(path);
    const text = (s: string) => new TextEncoder().encode(s);
    switch (name) {
      case "provider":
        return text(`${this.o.provider}\n`);
      case "generation":
        return text(`${e.generation}\n`);
      case "outblob":
      case "auxblob": {
        this.log.push(`read ${name}`);
        if (this.outblobError !== null) throw errno(this.outblobError, path);
        if (e.inblob === null) throw errno("EINVAL", path);
        const r = this.o.report(e.inblob, e.privlevel);
        if (name === "outblob" && this.o.interfere?.(dir)) e.generation++;
        return name === "outblob" ? r.outblob : (r.auxblob ?? new Uint8Array(0));
      }
      default:
        throw errno("EACCES", path);
    }
  }
}

export class FakeGramine implements ProviderFs {
  userReportData: Uint8Array | null = null;
  readonly log: string[] = [];

  constructor(
    private readonly root: string,
    private readonly attestationType: string,
    private readonly quote: (userReportData: Uint8Array) => Uint8Array,
  ) {}

  async mkdir(path: string): Promise<void> {
    throw errno("EPERM", path);
  }
  async rmdir(path: string): Promise<void> {
    throw errno("EPERM", path);
  }
  async exists(path: string): Promise<boolean> {
    return path === this.root || ["attestation_type", "user_report_data", "quote"].some((n) => path === `${this.root}/${n}`);
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    if (path !== `${this.root}/user_report_data` || data.length !== 64) throw errno("EINVAL", path);
    this.log.push("write user_report_data");
    // Yield, as a real syscall would, so interleaving bugs in callers can show.
    await new Promise((r) => setImmediate(r));
    this.userReportData = Uint8Array.from(data);
  }
  async readFile(path: string): Promise<Uint8Array> {
    if (path === `${this.root}/attestation_type`) return new TextEncoder().encode(`${this.attestationType}\n`);
    if (path === `${this.root}/quote` && this.userReportData !== null) {
      this.log.push("read quote");
      await new Promise((r) => setImmediate(r));
      return this.quote(this.userReportData);
    }
    throw errno("ENOENT", path);
  }
}
