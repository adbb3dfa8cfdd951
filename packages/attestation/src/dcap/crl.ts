/**
 * dcap-qvl consults the CRLs in the collateral for revoked serial numbers but
 * never checks who signed them or whether they are current, and it ignores a
 * CRL it cannot parse. The collateral comes from the (untrusted) worker, so
 * without these checks a revoked platform would simply ship an empty or stale
 * CRL. Here both CRLs must be signed by Intel, be within their validity window
 * at `now`, and the PCK CRL must be the one of the CA that issued the PCK
 * certificate — as Intel's QVL requires.
 */
import { verify as nodeVerify } from "node:crypto";
import { bytesEqual } from "@phala-ts/primitives";
import { formatUnix, strictPemCertificates } from "../der.ts";
import { AttestationError } from "../errors.ts";
import { certificateSignedBy, OID, parseCertificate, parseCrl, publicKeyOf, type ParsedCertificate, type ParsedCrl } from "../x509.ts";
import type { DcapCollateral } from "./collateral.ts";

/** Longer issuer chains than Intel's (PCK CA -> Root) are not legitimate. */
const CRL_ISSUER_CHAIN_CERTS_MAX = 3;

function checkCrl(crl: ParsedCrl, issuer: ParsedCertificate, now: number, what: string): void {
  if (!bytesEqual(crl.issuer, issuer.subject)) {
    throw new AttestationError("COLLATERAL_MISMATCH", `${what} is not issued by the expected Intel CA; fetch the collateral again from your PCCS`);
  }
  if (crl.signatureAlgorithm !== OID.ECDSA_SHA256) throw new AttestationError("MALFORMED", `${what} is not signed with ECDSA-SHA256 as Intel CRLs are`);
  const key = publicKeyOf(issuer, `${what} issuer`);
  let ok: boolean;
  try {
    ok = nodeVerify("sha256", crl.tbs, key, crl.signature);
  } catch {
    // OpenSSL throws on signatures that are not DER ECDSA values; those verify nothing.
    ok = false;
  }
  if (!ok) throw new AttestationError("SIGNATURE", `${what} signature does not verify with its Intel issuer; the collateral was altered`);
  if (now < crl.thisUpdate || now > crl.nextUpdate) {
    throw new AttestationError(
      "COLLATERAL_EXPIRED",
      `${what} is valid from ${formatUnix(crl.thisUpdate)} to ${formatUnix(crl.nextUpdate)}, not at ${formatUnix(now)}; fetch fresh collateral from PCCS`,
      { details: { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, now } },
    );
  }
}

function checkValidity(cert: ParsedCertificate, now: number, what: string): void {
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new AttestationError("CERT_CHAIN", `${what} is valid from ${formatUnix(cert.notBefore)} to ${formatUnix(cert.notAfter)}, not at ${formatUnix(now)}`);
  }
}

/** Verifies the PCK CRL issuer chain up to the pinned Intel root and returns the CRL issuer. */
function crlIssuer(chainPem: string, root: ParsedCertificate, now: number): ParsedCertificate {
  const ders = strictPemCertificates(chainPem, "PCK CRL issuer chain");
  if (ders.length === 0 || ders.length > CRL_ISSUER_CHAIN_CERTS_MAX) {
    throw new AttestationError("MALFORMED", `PCK CRL issuer chain must hold 1 to ${CRL_ISSUER_CHAIN_CERTS_MAX} certificates, got ${ders.length}`);
  }
  const certs = ders.map((d, i) => parseCertificate(d, `PCK CRL issuer chain certificate ${i}`));
  for (let i = 0; i < certs.length; i++) {
    if (bytesEqual(certs[i].der, root.der)) break;
    const issuer = i + 1 < certs.length ? certs[i + 1] : root;
    if (!bytesEqual(certs[i].issuer, issuer.subject) || !certificateSignedBy(certs[i], issuer)) {
      throw new AttestationError("CERT_CHAIN", `PCK CRL issuer chain certificate ${i} is not signed by the next certificate or the Intel SGX Root CA`);
    }
    checkValidity(certs[i], now, `PCK CRL issuer chain certificate ${i}`);
  }
  return certs[0];
}

export function checkDcapCrls(collateral: DcapCollateral, pckLeafIssuer: Uint8Array, rootDer: Uint8Array, now: number): void {
  const root = parseCertificate(rootDer, "Intel SGX Root CA");
  checkCrl(parseCrl(collateral.rootCaCrl, "root CA CRL"), root, now, "root CA CRL");
  const pckCrl = parseCrl(collateral.pckCrl, "PCK CRL");
  checkCrl(pckCrl, crlIssuer(collateral.pckCrlIssuerChain, root, now), now, "PCK CRL");
  if (!bytesEqual(pckCrl.issuer, pckLeafIssuer)) {
    throw new AttestationError(
      "COLLATERAL_MISMATCH",
      "the PCK CRL in the collateral belongs to another Intel CA than the one that issued this quote's PCK certificate (processor vs platform); fetch the collateral for this quote",
    );
  }
}
