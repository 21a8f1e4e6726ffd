/** Reading certificates: subject, serial, validity, SANs, issuer checks. */
import { badRequest } from '../errors.ts';
import type * as X509 from '@peculiar/x509';
import { DerError } from './der/reader.ts';
import { readCertificate, type CertificateFields } from './der/certificate-reader.ts';
import { pemBody } from './der/x509-reader.ts';

export interface CertificateInfo {
  commonName: string;
  organizationalUnit?: string;
  organization?: string;
  issuerCommonName: string;
  /** Lower-case hex, as issueCertificate returns it. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  emails: string[];
}

function loadCertificate(x509: typeof X509, pem: string): X509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw badRequest('Unable to parse the certificate: send a PEM X.509 "CERTIFICATE"');
  }
}

/** The fields ZTS acts on, from a certificate's DER (e.g. a TLS peer's `raw`); a 400 ApiError when it is not strict DER. */
export function certificateInfoFromDer(der: Uint8Array): CertificateInfo {
  let c: CertificateFields;
  try {
    c = readCertificate(der);
  } catch (e) {
    if (e instanceof DerError) throw badRequest(`Unable to parse the certificate (${e.message}): send a PEM X.509 "CERTIFICATE"`);
    throw e;
  }
  return {
    commonName: c.subject.commonName ?? '',
    organizationalUnit: c.subject.organizationalUnit,
    organization: c.subject.organization,
    issuerCommonName: c.issuer.commonName ?? '',
    serialHex: c.serialHex,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    dnsNames: c.dnsNames,
    uris: c.uris,
    ipAddresses: c.ipAddresses,
    emails: c.emails,
  };
}

/** The first certificate of a PEM text; a 400 ApiError when there is none. */
export function parseCertificate(pem: string): CertificateInfo {
  let der: Buffer;
  try {
    der = pemBody(typeof pem === 'string' ? pem : '', 'CERTIFICATE');
  } catch {
    throw badRequest('Unable to parse the certificate: send a PEM X.509 "CERTIFICATE"');
  }
  return certificateInfoFromDer(der);
}

/**
 * True when the certificate names this CA as its issuer and its signature
 * verifies with the CA's key. Validity dates are not checked here: TLS does
 * that, and callers checking a refresh want to see expired certificates too.
 */
export async function verifyIssuedBy(certPem: string, caCertPem: string): Promise<boolean> {
  // @peculiar/x509 loads here, not with the module: siad reads certificates but never verifies one.
  const { x509 } = await import('./provider.ts');
  const ca = loadCertificate(x509, caCertPem);
  const cert = loadCertificate(x509, certPem);
  // Compared as decoded DN text, so a different string encoding of the same name still matches.
  if (cert.issuer !== ca.subject) return false;
  try {
    return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false; // e.g. an RSA signature checked against an EC CA key
  }
}

/** Splits a PEM bundle into its certificates, each as its own PEM ending in a newline. */
export function splitPemBundle(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}
