import { blake2b256, utf8 } from "@phala-ts/primitives";
import { T, decodeExact, type Infer } from "../types/index.ts";
import { H256 } from "../types/std.ts";
import { FINALITY_ENGINE_ID, ValidatorSet, type ValidatorSetValue } from "./certificate.ts";

/** `sp_runtime::generic::DigestItem`, with the variant indices Substrate gives them. */
export const DigestItem = T.enumeration(["sp_runtime", "generic", "digest", "DigestItem"], {
  Other: { index: 0, fields: [T.bytes] },
  Consensus: { index: 4, fields: [T.fixedBytes(4), T.bytes] },
  Seal: { index: 5, fields: [T.fixedBytes(4), T.bytes] },
  PreRuntime: { index: 6, fields: [T.fixedBytes(4), T.bytes] },
  RuntimeEnvironmentUpdated: { index: 8 },
});
export type DigestItemValue = Infer<typeof DigestItem>;

export const Header = T.struct(["sp_runtime", "generic", "header", "Header"], {
  parent_hash: H256,
  number: T.compact(T.u32),
  state_root: H256,
  extrinsics_root: H256,
  digest: T.struct(["sp_runtime", "generic", "digest", "Digest"], { logs: T.vec(DigestItem) }),
});
export type HeaderValue = Infer<typeof Header>;

/**
 * What our finality engine writes into a header digest. `ValidatorSet` in the genesis
 * header is the initial set; in block N it is the set that certifies blocks from N+1 on,
 * so a light client learns of a change from a block the old set finalized.
 */
export const ConsensusLog = T.enumeration(["phala_node", "finality", "ConsensusLog"], {
  ValidatorSet: { index: 0, fields: [ValidatorSet] },
});

const ENGINE = utf8(FINALITY_ENGINE_ID);

export class HeaderError extends Error {
  constructor(
    readonly code: "MALFORMED" | "DIGEST",
    message: string,
  ) {
    super(message);
    this.name = "HeaderError";
  }
}

export function encodeHeader(h: HeaderValue): Uint8Array {
  return Header.codec.enc(h);
}

export function decodeHeader(bytes: Uint8Array): HeaderValue {
  try {
    return decodeExact(Header, bytes);
  } catch (e) {
    throw new HeaderError("MALFORMED", `header does not decode: ${(e as Error).message}`);
  }
}

export function headerHash(encoded: Uint8Array): Uint8Array {
  return blake2b256(encoded);
}

/** The digest item announcing a validator set. */
export function validatorSetDigest(set: ValidatorSetValue): DigestItemValue {
  return { tag: "Consensus", value: [ENGINE, ConsensusLog.codec.enc({ tag: "ValidatorSet", value: set })] };
}

function isEngine(id: Uint8Array): boolean {
  return id.length === 4 && id[0] === ENGINE[0] && id[1] === ENGINE[1] && id[2] === ENGINE[2] && id[3] === ENGINE[3];
}

/** The validator set a header announces, if any. More than one announcement in a header is malformed. */
export function announcedValidatorSet(h: HeaderValue): ValidatorSetValue | undefined {
  let found: ValidatorSetValue | undefined;
  for (const item of h.digest.logs) {
    if (item.tag !== "Consensus" || !isEngine(item.value[0])) continue;
    if (found) throw new HeaderError("DIGEST", "a header announces more than one validator set");
    try {
      const log = decodeExact(ConsensusLog, item.value[1]);
      found = log.value;
    } catch (e) {
      throw new HeaderError("DIGEST", `validator-set digest does not decode: ${(e as Error).message}`);
    }
  }
  return found;
}
