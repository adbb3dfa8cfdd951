/**
 * Intel TDX and AMD SEV-SNP evidence through Linux configfs-tsm
 * (Documentation/ABI/testing/configfs-tsm-report, kernel >= 6.7):
 *
 *   mkdir $root/$name; write inblob (and privlevel); read outblob (and auxblob);
 *   read generation to detect a concurrent writer; rmdir.
 *
 * `generation` increments on every write to inblob or an option, so reading it
 * before the writes and after outblob tells whether someone else wrote in
 * between; the entry is private to this request, but the check is cheap and
 * the ABI asks for it.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Quote } from "@phala/dcap-qvl";
import { bytesEqual } from "@phala-ts/primitives";
import { derToPem } from "../der.ts";
import { REPORT_DATA_LENGTH } from "../dev.ts";
import { AttestationError } from "../errors.ts";
import type { Evidence } from "../evidence.ts";
import { certificateDer, parseSnpCertTable } from "../snp/certs.ts";
import { parseSnpReport } from "../snp/report.ts";
import { errnoCode, nodeProviderFs, type ProviderFs } from "./fs.ts";
import type { AttestationProvider } from "./provider.ts";

export const TSM_REPORT_ROOT = "/sys/kernel/config/tsm/report";
/** Attempts before giving up when another writer keeps changing our entry. */
export const TSM_ATTEMPTS_MAX = 3;
/** Privilege levels the ABI defines (TSM_PRIVLEVEL_MAX). */
const TSM_PRIVLEVEL_MAX = 3;
const PROVIDER_NAME = { tdx: "tdx_guest", "sev-snp": "sev_guest" } as const;

export interface TsmProviderOptions {
  readonly tee: "tdx" | "sev-snp";
  readonly root?: string;
  /** TDX: Intel collateral for a quote, as evidence carries it (e.g. dcap-qvl getCollateral + encodeDcapCollateral). */
  readonly collateral?: (quote: Uint8Array) => Promise<Uint8Array>;
  /** SEV-SNP: VCEK (DER) and ASK+ARK (PEM) to use when the host attaches no certificates (empty auxblob). */
  readonly certs?: { readonly vcek: Uint8Array; readonly certChain: Uint8Array };
  /** SEV-SNP: the VMPL to request the report at; the kernel default (privlevel_floor) otherwise. */
  readonly privlevel?: number;
  readonly fs?: ProviderFs;
}

let entryCounter = 0;

function failed(message: string, cause?: unknown): AttestationError {
  return new AttestationError("PROVIDER_FAILED", message, { cause });
}

export class TsmProvider implements AttestationProvider {
  readonly tee: "tdx" | "sev-snp";
  private readonly root: string;
  private readonly fs: ProviderFs;

  constructor(private readonly options: TsmProviderOptions) {
    this.tee = options.tee;
    this.root = options.root ?? TSM_REPORT_ROOT;
    this.fs = options.fs ?? nodeProviderFs;
    if (options.tee === "tdx" && options.collateral === undefined) {
      throw new AttestationError("MALFORMED", "a TDX provider needs a collateral source: verifiers check the quote against Intel collateral it carries");
    }
    const pl = options.privlevel;
    if (pl !== undefined && (options.tee !== "sev-snp" || !Number.isInteger(pl) || pl < 0 || pl > TSM_PRIVLEVEL_MAX)) {
      throw new AttestationError("MALFORMED", `privlevel applies to SEV-SNP only and must be 0..${TSM_PRIVLEVEL_MAX}`);
    }
  }

  async getEvidence(reportData: Uint8Array): Promise<Evidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_LENGTH) {
      throw new AttestationError("MALFORMED", `report data must be ${REPORT_DATA_LENGTH} bytes`);
    }
    if (!(await this.fs.exists(this.root))) {
      throw new AttestationError(
        "PROVIDER_UNAVAILABLE",
        `${this.root} does not exist: this machine is not a ${this.tee} guest with configfs-tsm (Linux >= 6.7, configfs mounted at /sys/kernel/config); use another provider`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      const blobs = await this.request(reportData);
      if (blobs !== null) return this.toEvidence(blobs, reportData);
      if (attempt >= TSM_ATTEMPTS_MAX) throw failed(`another process kept writing to our configfs-tsm entry (${TSM_ATTEMPTS_MAX} attempts); find who writes under ${this.root}`);
    }
  }

  /** One request in a fresh entry; null when the generation shows a concurrent write. */
  private async request(reportData: Uint8Array): Promise<{ outblob: Uint8Array; auxblob: Uint8Array } | null> {
    const dir = join(this.root, `phala-${process.pid}-${entryCounter++}-${randomBytes(4).toString("hex")}`);
    try {
      await this.fs.mkdir(dir);
    } catch (e) {
      const code = errnoCode(e);
      if (code === "EACCES" || code === "EPERM") throw new AttestationError("PROVIDER_UNAVAILABLE", `cannot create ${dir}: configfs-tsm needs root (or CAP_SYS_ADMIN)`, { cause: e });
      throw failed(`cannot create the configfs-tsm entry ${dir} (${code ?? String(e)})`, e);
    }
    let result: { outblob: Uint8Array; auxblob: Uint8Array } | null = null;
    let failure: unknown;
    try {
      const provider = new TextDecoder().decode(await this.read(dir, "provider")).trim();
      if (provider !== PROVIDER_NAME[this.tee]) {
        throw new AttestationError("PROVIDER_UNAVAILABLE", `configfs-tsm is served by "${provider}", not ${PROVIDER_NAME[this.tee]}: this is not a ${this.tee} guest`);
      }
      const before = await this.generation(dir);
      let writes = 0;
      if (this.options.privlevel !== undefined) {
        await this.write(dir, "privlevel", new TextEncoder().encode(`${this.options.privlevel}\n`));
        writes++;
      }
      await this.write(dir, "inblob", reportData);
      writes++;
      const outblob = await this.read(dir, "outblob");
      const auxblob = this.tee === "sev-snp" && (await this.fs.exists(join(dir, "auxblob"))) ? await this.read(dir, "auxblob") : new Uint8Array(0);
      const after = await this.generation(dir);
      result = after === before + writes ? { outblob, auxblob } : null;
    } catch (e) {
      failure = e;
    }
    try {
      await this.fs.rmdir(dir);
    } catch (e) {
      // A leaked entry is only clutter; report it unless a more important error is already on its way.
      if (failure === undefined) failure = failed(`cannot remove the configfs-tsm entry ${dir}`, e);
    }
    if (failure !== undefined) throw failure;
    return result;
  }

  private async read(dir: string, name: string): Promise<Uint8Array> {
    try {
      return await this.fs.readFile(join(dir, name));
    } catch (e) {
      throw failed(`reading ${join(dir, name)} failed (${errnoCode(e) ?? String(e)}); the ${this.tee} firmware or host refused the request`, e);
    }
  }

  private async write(dir: string, name: string, data: Uint8Array): Promise<void> {
    try {
      await this.fs.writeFile(join(dir, name), data);
    } catch (e) {
      throw failed(`writing ${join(dir, name)} failed (${errnoCode(e) ?? String(e)})`, e);
    }
  }

  private async generation(dir: string): Promise<number> {
    const text = new TextDecoder().decode(await this.read(dir, "generation")).trim();
    if (!/^\d+$/.test(text)) throw failed(`configfs-tsm generation "${text}" is not a number`);
    return Number(text);
  }

  private async toEvidence(blobs: { outblob: Uint8Array; auxblob: Uint8Array }, reportData: Uint8Array): Promise<Evidence> {
    if (this.tee === "tdx") {
      const quote = blobs.outblob;
      let bound: Uint8Array;
      try {
        const td = Quote.parse(quote).report.asTd10();
        if (td === null) throw new Error("not a TD report");
        bound = td.reportData;
      } catch (e) {
        throw failed("the TDX outblob is not a TD quote", e);
      }
      if (!bytesEqual(bound, reportData)) throw failed("the TDX quote binds other report data than requested");
      return { tee: "tdx", quote, collateral: await this.options.collateral!(quote) };
    }
    const report = blobs.outblob;
    let parsed;
    try {
      parsed = parseSnpReport(report);
    } catch (e) {
      throw failed("the SEV-SNP outblob is not an attestation report", e);
    }
    if (!bytesEqual(parsed.reportData, reportData)) throw failed("the SEV-SNP report binds other report data than requested");
    return { tee: "sev-snp", report, ...this.snpCerts(blobs.auxblob) };
  }

  private snpCerts(auxblob: Uint8Array): { vcek: Uint8Array; certChain: Uint8Array } {
    if (auxblob.length > 0) {
      const table = parseSnpCertTable(auxblob);
      if (table.vcek !== undefined && table.ask !== undefined && table.ark !== undefined) {
        const pem = derToPem(certificateDer(table.ask, "ASK"), "CERTIFICATE") + derToPem(certificateDer(table.ark, "ARK"), "CERTIFICATE");
        return { vcek: certificateDer(table.vcek, "VCEK"), certChain: new TextEncoder().encode(pem) };
      }
      if (table.vlek !== undefined) throw failed("the host signs reports with a VLEK; only VCEK-signed reports are supported");
    }
    if (this.options.certs !== undefined) return { vcek: this.options.certs.vcek, certChain: this.options.certs.certChain };
    throw failed(
      "the host attached no VCEK/ASK/ARK to the report (empty auxblob); pass `certs` with the VCEK from https://kdsintf.amd.com/vcek/v1/<product>/<chip id hex>?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. and the chain from .../cert_chain",
    );
  }
}
