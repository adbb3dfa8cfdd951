/**
 * Dev evidence for machines without a TEE: an ed25519 key signs the
 * measurement and report data. Only chains whose policy allows dev accept it.
 */
import { ed25519PublicKeyFromSeed, ed25519Signer, type KeyPair } from "@phala-ts/primitives";
import { DEV_MEASUREMENT_LENGTH, devSigningMessage, encodeDevPayload, REPORT_DATA_LENGTH } from "../dev.ts";
import { AttestationError } from "../errors.ts";
import type { Evidence } from "../evidence.ts";
import type { AttestationProvider } from "./provider.ts";

export interface DevProviderOptions {
  /** A 32-byte ed25519 seed, or an ed25519 KeyPair from @phala-ts/primitives. */
  readonly signingKey: Uint8Array | KeyPair;
  /** What the evidence claims runs: by convention `measurePruntimeBuild` of the pRuntime build. */
  readonly measurement: Uint8Array;
}

export class DevProvider implements AttestationProvider {
  readonly tee = "dev" as const;
  readonly signer: Uint8Array;
  private readonly measurement: Uint8Array;
  private readonly sign: (message: Uint8Array) => Uint8Array;

  constructor(options: DevProviderOptions) {
    const { signingKey, measurement } = options;
    if (!(measurement instanceof Uint8Array) || measurement.length !== DEV_MEASUREMENT_LENGTH) {
      throw new AttestationError("MALFORMED", `the dev measurement must be ${DEV_MEASUREMENT_LENGTH} bytes`);
    }
    this.measurement = Uint8Array.from(measurement);
    if (signingKey instanceof Uint8Array) {
      if (signingKey.length !== 32) throw new AttestationError("MALFORMED", "the dev signing key must be a 32-byte ed25519 seed");
      this.signer = ed25519PublicKeyFromSeed(signingKey);
      this.sign = ed25519Signer(signingKey);
    } else {
      if (signingKey.type !== "ed25519") throw new AttestationError("MALFORMED", `dev evidence is signed with ed25519, not ${signingKey.type}`);
      this.signer = Uint8Array.from(signingKey.publicKey);
      this.sign = (m) => signingKey.sign(m);
    }
  }

  async getEvidence(reportData: Uint8Array): Promise<Evidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_LENGTH) {
      throw new AttestationError("MALFORMED", `report data must be ${REPORT_DATA_LENGTH} bytes`);
    }
    const payload = encodeDevPayload({ measurement: this.measurement, reportData: Uint8Array.from(reportData), signer: this.signer });
    return { tee: "dev", payload, signature: this.sign(devSigningMessage(payload)) };
  }
}
