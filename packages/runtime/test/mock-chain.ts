import { toHex } from "@phala-ts/primitives";
import { blake2b256 } from "@phala-ts/primitives";
import { BlockBuilder, buildGenesisState, createPhalaRuntime, signExtrinsic, type GenesisConfig, type ComposedRuntime } from "../src/index.ts";
import type { KeyPair } from "@phala-ts/primitives";

/**
 * A minimal chain for runtime tests: state in a Map, no trie, block hashes made up from
 * the block number. Enough to run the executive the way the node does.
 */
export class MockChain {
  readonly runtime: ComposedRuntime = createPhalaRuntime();
  readonly state = new Map<string, Uint8Array>();
  number = 0;
  hashes: Uint8Array[] = [blake2b256(new Uint8Array([0xee]))];
  nowMs = 1_700_000_000_000n;

  constructor(genesis: GenesisConfig) {
    for (const { key, value } of buildGenesisState(genesis).values()) if (value) this.state.set(toHex(key), value);
  }

  get backend() {
    return { get: (k: Uint8Array) => this.state.get(toHex(k)) };
  }

  get genesisHash(): Uint8Array {
    return this.hashes[0];
  }

  sign(signer: KeyPair, call: unknown, nonce: number, extra: { tip?: bigint } = {}): Uint8Array {
    return signExtrinsic({
      signer,
      callBytes: this.runtime.call.codec.enc(call),
      nonce,
      tip: extra.tip,
      specVersion: this.runtime.version.spec_version,
      transactionVersion: this.runtime.version.transaction_version,
      genesisHash: this.genesisHash,
    });
  }

  /** A builder for the next block, for pool-style validation; nothing it does is kept. */
  validator(): BlockBuilder {
    return new BlockBuilder(this.runtime, this.backend, { number: this.number + 1, parentHash: this.hashes[this.number] });
  }

  /** Builds and imports one block with the given extrinsics; returns the builder for inspection. */
  block(txs: Uint8Array[]): { builder: BlockBuilder; outcomes: ReturnType<BlockBuilder["applyExtrinsic"]>[] } {
    const builder = new BlockBuilder(this.runtime, this.backend, { number: this.number + 1, parentHash: this.hashes[this.number] });
    this.nowMs += 6000n;
    builder.applyTimestamp(this.nowMs);
    const outcomes = txs.map((t) => builder.applyExtrinsic(t));
    const { changes } = builder.finalize();
    for (const { key, value } of changes.values()) {
      if (value === null) this.state.delete(toHex(key));
      else this.state.set(toHex(key), value);
    }
    this.number += 1;
    this.hashes.push(blake2b256(new Uint8Array([this.number, 0xbb])));
    return { builder, outcomes };
  }
}
