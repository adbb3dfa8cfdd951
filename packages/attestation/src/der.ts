/**
 * Just enough DER to cut certificates and CRLs into the parts that are signed,
 * read names, validity, extensions and algorithm identifiers. Strict on
 * purpose: definite minimal lengths, single-byte tags, and every container must
 * be consumed exactly, so a flipped byte cannot be absorbed as slack.
 */
import { AttestationError } from "./errors.ts";

export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte in the buffer. */
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
  readonly buf: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function fail(what: string, reason: string): never {
  throw new AttestationError("MALFORMED", `${what}: ${reason}`);
}

/** Parses one TLV starting at `offset`, which must end at or before `limit`. */
export function parseNode(buf: Uint8Array, offset: number, limit: number, what: string): DerNode {
  if (offset + 2 > limit) fail(what, "truncated DER header");
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) fail(what, "multi-byte DER tags are not supported");
  let p = offset + 1;
  const first = buf[p++];
  let length: number;
  if (first < 0x80) length = first;
  else {
    const n = first & 0x7f;
    // 4 length bytes cover anything that fits in our size limits.
    if (n === 0) fail(what, "indefinite DER length");
    if (n > 4) fail(what, "DER length too large");
    if (p + n > limit) fail(what, "truncated DER length");
    if (buf[p] === 0) fail(what, "non-minimal DER length");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++];
    if (length < 0x80) fail(what, "non-minimal DER length");
  }
  if (length > limit - p) fail(what, "DER value runs past its container");
  return { tag, start: offset, valueStart: p, end: p + length, buf };
}

/** Parses a whole buffer as exactly one TLV. */
export function parseDer(buf: Uint8Array, what: string): DerNode {
  const n = parseNode(buf, 0, buf.length, what);
  if (n.end !== buf.length) fail(what, `${buf.length - n.end} bytes after the DER value`);
  return n;
}

export function children(node: DerNode, what: string): DerNode[] {
  const out: DerNode[] = [];
  let p = node.valueStart;
  while (p < node.end) {
    const c = parseNode(node.buf, p, node.end, what);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) fail(what, "missing element");
  if (node.tag !== tag) fail(what, `expected DER tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function value(node: DerNode): Uint8Array {
  return node.buf.subarray(node.valueStart, node.end);
}

export function raw(node: DerNode): Uint8Array {
  return node.buf.subarray(node.start, node.end);
}

export function oidToString(node: DerNode, what: string): string {
  expectTag(node, TAG.OID, what);
  const v = value(node);
  if (v.length === 0) fail(what, "empty OID");
  const parts: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    if (acc === 0 && v[i] === 0x80) fail(what, "non-minimal OID arc");
    acc = acc * 128 + (v[i] & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) fail(what, "OID arc too large");
    if ((v[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const a = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        parts.push(a, acc - 40 * a);
      } else parts.push(acc);
      acc = 0;
    } else if (i === v.length - 1) fail(what, "truncated OID");
  }
  return parts.join(".");
}

/** A non-negative INTEGER that fits a safe JS number (SVNs, versions). */
export function smallUint(node: DerNode, what: string): number {
  expectTag(node, TAG.INTEGER, what);
  const v = value(node);
  if (v.length === 0) fail(what, "empty INTEGER");
  if (v[0] & 0x80) fail(what, "negative INTEGER");
  if (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) fail(what, "non-minimal INTEGER");
  if (v.length > 7) fail(what, "INTEGER too large");
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** The bytes of a BIT STRING that has no unused bits (signatures, keys). */
export function bitStringBytes(node: DerNode, what: string): Uint8Array {
  expectTag(node, TAG.BIT_STRING, what);
  const v = value(node);
  if (v.length === 0 || v[0] !== 0) fail(what, "BIT STRING with unused bits");
  return v.subarray(1);
}

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's algorithm: deterministic, no Date object involved.
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** UTCTime or GeneralizedTime in the RFC 5280 profile (seconds, `Z`), as unix seconds. */
export function timeToUnix(node: DerNode, what: string): number {
  const s = new TextDecoder().decode(value(node));
  let m: RegExpMatchArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === TAG.GENERALIZED_TIME && (m = s.match(/^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    year = Number(m[1]);
  } else return fail(what, `unsupported time "${s}"`);
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) fail(what, `invalid time "${s}"`);
  return daysFromCivil(year, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

/** Human-readable UTC for messages. */
export function formatUnix(secs: number): string {
  const days = Math.floor(secs / 86400);
  let rem = secs - days * 86400;
  // Inverse of daysFromCivil.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3600);
  rem -= h * 3600;
  const mi = Math.floor(rem / 60);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(y, 4)}-${p(m)}-${p(d)}T${p(h)}:${p(mi)}:${p(rem - mi * 60)}Z`;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/g;

/** All PEM blocks with the given label, decoded to DER; base64 must be canonical. */
export function pemBlocks(text: string, label: string, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    if (m[1] !== label) continue;
    const b64 = m[2].replace(/\r?\n/g, "");
    const der = new Uint8Array(Buffer.from(b64, "base64"));
    // Node's decoder is lenient about padding bits; re-encoding catches bytes it silently dropped.
    if (Buffer.from(der).toString("base64") !== b64) fail(what, "PEM base64 is not canonical");
    out.push(der);
  }
  return out;
}

/**
 * Certificates from text that must hold nothing but PEM certificate blocks and
 * line breaks (and, if `allowNul`, one terminating NUL as Intel's quoting
 * library writes). Parsers that skip unmatched text would let damaged blocks
 * vanish instead of fail.
 */
export function strictPemCertificates(text: string, what: string, allowNul = false): Uint8Array[] {
  const ders = pemBlocks(text, "CERTIFICATE", what);
  const rest = text.replace(PEM_RE, (block, label: string) => (label === "CERTIFICATE" ? "" : block));
  if (!(allowNul ? /^[\r\n]*\0?$/ : /^[\r\n]*$/).test(rest)) fail(what, "holds bytes outside its PEM certificates");
  return ders;
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
