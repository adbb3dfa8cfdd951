import { fromHex, keyPairFromUri, toHex } from "@phala-ts/primitives";
import { PhalaRegistryStorage } from "@phala-ts/runtime/phala";
import { ChainHttp } from "../../packages/cli/src/chain-http.ts";

export interface PruntimeInfo {
  identityKey: string;
  ecdhKey: string;
  initialized: boolean;
  syncedHeight: number;
  role: "worker" | "gatekeeper";
  registered: boolean;
  masterPubkey: string | null;
  holdsMasterKey: boolean;
  rotationId: number;
  egressPending: number;
  [k: string]: unknown;
}

export async function pruntimeInfo(port: number): Promise<PruntimeInfo | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/info`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as PruntimeInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** Chain access for tests: storage reads and Sudo calls signed by //Alice. */
export class TestChain extends ChainHttp {
  readonly sudoKey = keyPairFromUri("//Alice", "sr25519");

  sudo(inner: unknown): Promise<string> {
    return this.signAndSubmit(this.sudoKey, { tag: "Sudo", value: { tag: "sudo", value: { call: inner } } });
  }

  registerGatekeeper(pubkey: string): Promise<string> {
    return this.sudo({ tag: "PhalaRegistry", value: { tag: "register_gatekeeper", value: { pubkey: fromHex(pubkey) } } });
  }

  async masterPubkey(): Promise<string | undefined> {
    const v = await this.storage(PhalaRegistryStorage.GatekeeperMasterPubkey.key());
    return v ? toHex(v) : undefined;
  }

  async worker(pubkey: string) {
    const v = await this.storage(PhalaRegistryStorage.Workers.key(fromHex(pubkey)));
    return v ? PhalaRegistryStorage.Workers.type.codec.dec(v) : undefined;
  }

  async lastBeacon(): Promise<{ block_number: number; random: Uint8Array } | undefined> {
    const v = await this.storage(PhalaRegistryStorage.LastRandomBeacon.key());
    return v ? PhalaRegistryStorage.LastRandomBeacon.type.codec.dec(v) : undefined;
  }
}
