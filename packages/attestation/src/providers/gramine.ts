/**
 * Intel SGX evidence inside Gramine through its /dev/attestation pseudo-files:
 * write 64 bytes to `user_report_data`, read `quote` (a DCAP quote v3 binding
 * them). Gramine keeps one `user_report_data` per process, so requests are
 * serialized.
 */
import { join } from "node:path";
import { Quote } from "@phala/dcap-qvl";
import { bytesEqual } from "@phala-ts/primitives";
import { REPORT_DATA_LENGTH } from "../dev.ts";
import { AttestationError } from "../errors.ts";
import type { Evidence } from "../evidence.ts";
import { errnoCode, nodeProviderFs, type ProviderFs } from "./fs.ts";
import type { AttestationProvider } from "./provider.ts";

export const GRAMINE_ATTESTATION_ROOT = "/dev/attestation";

export interface GramineSgxProviderOptions {
  readonly root?: string;
  /** Intel collateral for a quote, as evidence carries it (e.g. dcap-qvl getCollateral + encodeDcapCollateral). */
  readonly collateral: (quote: Uint8Array) => Promise<Uint8Array>;
  readonly fs?: ProviderFs;
}

export class GramineSgxProvider implements AttestationProvider {
  readonly tee = "sgx" as const;
  private readonly root: string;
  private readonly fs: ProviderFs;
  /** Tail of the request queue: Gramine's user_report_data is shared process state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GramineSgxProviderOptions) {
    this.root = options.root ?? GRAMINE_ATTESTATION_ROOT;
    this.fs = options.fs ?? nodeProviderFs;
  }

  getEvidence(reportData: Uint8Array): Promise<Evidence> {
    const run = this.queue.then(() => this.request(reportData));
    // The caller receives the failure through `run`; the queue only needs to know it settled.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async request(reportData: Uint8Array): Promise<Evidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_LENGTH) {
      throw new AttestationError("MALFORMED", `report data must be ${REPORT_DATA_LENGTH} bytes`);
    }
    if (!(await this.fs.exists(join(this.root, "attestation_type")))) {
      throw new AttestationError("PROVIDER_UNAVAILABLE", `${this.root}/attestation_type does not exist: not running inside Gramine-SGX; use another provider`);
    }
    const type = new TextDecoder().decode(await this.read("attestation_type")).trim();
    if (type !== "dcap") {
      throw new AttestationError(
        "PROVIDER_UNAVAILABLE",
        `Gramine attestation type is "${type}", not "dcap"; set sgx.remote_attestation = "dcap" in the manifest (EPID is retired)`,
      );
    }
    try {
      await this.fs.writeFile(join(this.root, "user_report_data"), reportData);
    } catch (e) {
      throw new AttestationError("PROVIDER_FAILED", `writing ${this.root}/user_report_data failed (${errnoCode(e) ?? String(e)})`, { cause: e });
    }
    const quote = await this.read("quote");
    let bound: Uint8Array;
    try {
      const sgx = Quote.parse(quote).report.asSgx();
      if (sgx === null) throw new Error("not an SGX report");
      bound = sgx.reportData;
    } catch (e) {
      throw new AttestationError("PROVIDER_FAILED", "Gramine returned a quote that is not an SGX DCAP quote", { cause: e });
    }
    if (!bytesEqual(bound, reportData)) throw new AttestationError("PROVIDER_FAILED", "Gramine's quote binds other report data than requested (another thread wrote user_report_data?)");
    return { tee: "sgx", quote, collateral: await this.options.collateral(quote) };
  }

  private async read(name: string): Promise<Uint8Array> {
    try {
      return await this.fs.readFile(join(this.root, name));
    } catch (e) {
      throw new AttestationError("PROVIDER_FAILED", `reading ${this.root}/${name} failed (${errnoCode(e) ?? String(e)}); is the AESM/quote provider (libsgx-dcap-default-qpl) configured?`, { cause: e });
    }
  }
}
