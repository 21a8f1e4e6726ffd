/** Reading certificates: subject, serial, validity, SANs, issuer checks. */
import { badRequest } from '../errors.ts';
import { x509 } from './provider.ts';

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

export function sanValues(ext: x509.SubjectAlternativeNameExtension | null, type: 'dns' | 'url' | 'ip' | 'email'): string[] {
  return ext ? ext.names.items.filter((n) => n.type === type).map((n) => n.value) : [];
}

export function loadCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw badRequest('Unable to parse the certificate: send a PEM X.509 "CERTIFICATE"');
  }
}

/** The first certificate of a PEM text; a 400 ApiError when there is none. */
export function parseCertificate(pem: string): CertificateInfo {
  const cert = loadCertificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizationalUnit: cert.subjectName.getField('OU')[0],
    organization: cert.subjectName.getField('O')[0],
    issuerCommonName: cert.issuerName.getField('CN')[0] ?? '',
    serialHex: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: sanValues(san, 'dns'),
    uris: sanValues(san, 'url'),
    ipAddresses: sanValues(san, 'ip'),
    emails: sanValues(san, 'email'),
  };
}

/**
 * True when the certificate names this CA as its issuer and its signature
 * verifies with the CA's key. Validity dates are not checked here: TLS does
 * that, and callers checking a refresh want to see expired certificates too.
 */
export async function verifyIssuedBy(certPem: string, caCertPem: string): Promise<boolean> {
  const ca = loadCertificate(caCertPem);
  const cert = loadCertificate(certPem);
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
