/** Reading certificates: subject, serial, validity, SANs, issuer checks. */
import { badRequest } from '../errors.ts';
import { x509 } from './provider.ts';

export interface CertificateInfo {
  commonName: string;
  organizationalUnit?: string;
  issuerCommonName: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
}

export function sanValues(ext: x509.SubjectAlternativeNameExtension | null, type: 'dns' | 'url' | 'ip' | 'email'): string[] {
  return ext ? ext.names.items.filter((n) => n.type === type).map((n) => n.value) : [];
}

export function loadCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw badRequest('not a PEM X.509 certificate');
  }
}

export function parseCertificate(pem: string): CertificateInfo {
  const cert = loadCertificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizationalUnit: cert.subjectName.getField('OU')[0],
    issuerCommonName: cert.issuerName.getField('CN')[0] ?? '',
    serialHex: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: sanValues(san, 'dns'),
    uris: sanValues(san, 'url'),
    ipAddresses: sanValues(san, 'ip'),
  };
}

/** True when the certificate's signature verifies with the CA's key. */
export async function verifyIssuedBy(certPem: string, caCertPem: string): Promise<boolean> {
  const ca = loadCertificate(caCertPem);
  return loadCertificate(certPem).verify({ publicKey: ca.publicKey, signatureOnly: true });
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}
