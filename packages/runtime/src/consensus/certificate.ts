import { concatBytes, u32le, utf8, verifyEd25519, type KeyPair } from "@phala-ts/primitives";
import { T, decodeExact, type Infer } from "../types/index.ts";

/**
 * Finality per ARCHITECTURE §3: a block is final when validators holding more than 2/3
 * of the voting power have signed an ed25519 precommit for it. A dev chain has one
 * validator and one signature; a Tendermint chain adds voting rounds, not a new format.
 */
export const PRECOMMIT_DOMAIN = utf8("phala/precommit/v1");
/** Engine id of our justifications in `chain_getBlock` and of validator-set digests. */
export const FINALITY_ENGINE_ID = "TMBF";
/** A set larger than this is refused outright: certificate checks must stay bounded. */
export const VALIDATOR_SET_SIZE_MAX = 1024;

export const Validator = T.struct(["phala_node", "finality", "Validator"], { public_key: T.fixedBytes(32), power: T.u64 });
export const ValidatorSet = T.struct(["phala_node", "finality", "ValidatorSet"], { set_id: T.u64, validators: T.vec(Validator) });
export const Precommit = T.struct(["phala_node", "finality", "Precommit"], { validator: T.u32, signature: T.fixedBytes(64) });
export const CommitCertificate = T.struct(["phala_node", "finality", "CommitCertificate"], {
  height: T.u32,
  round: T.u32,
  block_hash: T.fixedBytes(32),
  set_id: T.u64,
  precommits: T.vec(Precommit),
});

export type ValidatorSetValue = Infer<typeof ValidatorSet>;
export type CommitCertificateValue = Infer<typeof CommitCertificate>;

export class CertificateError extends Error {
  constructor(
    readonly code: "MALFORMED" | "WRONG_BLOCK" | "WRONG_SET" | "BAD_SIGNATURE" | "DUPLICATE_VOTE" | "UNKNOWN_VALIDATOR" | "INSUFFICIENT_POWER",
    message: string,
  ) {
    super(message);
    this.name = "CertificateError";
  }
}


/** The bytes a validator signs for a precommit: domain, genesis hash, height, round, block hash. */
export function precommitPayload(genesisHash: Uint8Array, height: number, round: number, blockHash: Uint8Array): Uint8Array {
  return concatBytes(PRECOMMIT_DOMAIN, genesisHash, u32le(height), u32le(round), blockHash);
}

export function signPrecommit(key: KeyPair, genesisHash: Uint8Array, height: number, round: number, blockHash: Uint8Array): Uint8Array {
  if (key.type !== "ed25519") throw new CertificateError("BAD_SIGNATURE", "validator keys must be ed25519");
  return key.sign(precommitPayload(genesisHash, height, round, blockHash));
}

/**
 * Why a validator set announced in a header cannot certify anything, or undefined when it can:
 * 1..VALIDATOR_SET_SIZE_MAX validators with some voting power. The light clients of pRuntime
 * and the SDK refuse such an announcement, each with its own error.
 */
export function validatorSetProblem(set: ValidatorSetValue): string | undefined {
  if (set.validators.length === 0 || set.validators.length > VALIDATOR_SET_SIZE_MAX) {
    return `a validator set of ${set.validators.length} validators; 1..${VALIDATOR_SET_SIZE_MAX} are allowed`;
  }
  if (totalPower(set) === 0n) return "a validator set without voting power";
  return undefined;
}

export function totalPower(set: ValidatorSetValue): bigint {
  return set.validators.reduce((s, v) => s + v.power, 0n);
}

/**
 * Checks a certificate for (height, blockHash) against a validator set: votes sorted by
 * validator index without duplicates, every signature valid, and signed power > 2/3.
 */
export function verifyCertificate(
  cert: CommitCertificateValue,
  set: ValidatorSetValue,
  genesisHash: Uint8Array,
  expected: { height: number; blockHash: Uint8Array },
): void {
  if (set.validators.length === 0 || set.validators.length > VALIDATOR_SET_SIZE_MAX) throw new CertificateError("WRONG_SET", "validator set is empty or too large");
  if (cert.height !== expected.height) throw new CertificateError("WRONG_BLOCK", `certificate is for height ${cert.height}, expected ${expected.height}`);
  if (!equal(cert.block_hash, expected.blockHash)) throw new CertificateError("WRONG_BLOCK", "certificate signs a different block hash");
  if (cert.set_id !== set.set_id) throw new CertificateError("WRONG_SET", `certificate is from validator set ${cert.set_id}, current set is ${set.set_id}`);
  const payload = precommitPayload(genesisHash, cert.height, cert.round, cert.block_hash);
  let signed = 0n;
  let last = -1;
  for (const vote of cert.precommits) {
    if (vote.validator <= last) throw new CertificateError("DUPLICATE_VOTE", "precommits must be ordered by validator index without duplicates");
    last = vote.validator;
    const v = set.validators[vote.validator];
    if (!v) throw new CertificateError("UNKNOWN_VALIDATOR", `precommit from validator index ${vote.validator}, set has ${set.validators.length}`);
    if (!verifyEd25519(v.public_key, payload, vote.signature)) throw new CertificateError("BAD_SIGNATURE", `precommit of validator ${vote.validator} has a bad signature`);
    signed += v.power;
  }
  if (signed * 3n <= totalPower(set) * 2n) {
    throw new CertificateError("INSUFFICIENT_POWER", `precommits carry ${signed} of ${totalPower(set)} voting power; more than 2/3 is needed`);
  }
}

export function encodeCertificate(c: CommitCertificateValue): Uint8Array {
  return CommitCertificate.codec.enc(c);
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificateValue {
  try {
    return decodeExact(CommitCertificate, bytes);
  } catch (e) {
    throw new CertificateError("MALFORMED", `certificate does not decode: ${(e as Error).message}`);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
