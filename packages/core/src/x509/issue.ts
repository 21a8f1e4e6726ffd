/** Signing end-entity certificates with a CA: service, role and TLS server certificates. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { badRequest } from '../errors.ts';
import { x509 } from './provider.ts';
import type { CertificateAuthority } from './ca.ts';
import { generateKeyPair, importPrivateKey, keyAlgorithmOf, signingAlgorithm } from './keys.ts';
import { randomSerial } from './serial.ts';
import { generalNames, subjectName, type SanValues, type Subject } from './names.ts';

export type CertificateUsage = 'client-server' | 'server' | 'client';

export interface IssueRequest extends SanValues {
  ca: CertificateAuthority;
  /** The subject's public key (SPKI PEM, e.g. `ParsedCsr.publicKeyPem`; any key PEM or certificate node reads). */
  publicKeyPem: string;
  subject: Subject;
  notBefore: Date;
  notAfter: Date;
  usage: CertificateUsage;
  /** A URL written as the CRL distribution point, where relying parties fetch the CA's revocation list. */
  crlDistributionPoint?: string;
}

export interface IssuedCertificate {
  certPem: string;
  /** Lower-case hex, as parseCertificate reports it. */
  serialHex: string;
  /** The validity written into the certificate: whole seconds, notAfter capped at the CA's own. */
  notBefore: Date;
  notAfter: Date;
}

const EKU: Record<CertificateUsage, string[]> = {
  'client-server': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
};

/**
 * Signs a certificate for `publicKeyPem`: random positive 128-bit serial,
 * SHA-256 with the CA key's algorithm, basicConstraints CA:false, keyUsage
 * digitalSignature (+keyEncipherment for RSA keys), EKU from `usage`, AKI/SKI.
 * A notAfter past the CA's is cut to the CA's, since no verifier would accept
 * the certificate beyond it.
 */
/** What every signature needs from the CA, decoded once per CA object (PEM key decoding costs about a millisecond). */
interface PreparedCa {
  cert: x509.X509Certificate;
  signingKey: CryptoKey;
  signingAlgorithm: ReturnType<typeof signingAlgorithm>;
  authorityKeyId: x509.AuthorityKeyIdentifierExtension;
}

const preparedCas = new WeakMap<CertificateAuthority, Promise<PreparedCa>>();

function prepareCa(ca: CertificateAuthority): Promise<PreparedCa> {
  let p = preparedCas.get(ca);
  if (!p) {
    p = (async () => {
      const cert = new x509.X509Certificate(ca.certPem);
      return {
        cert,
        signingKey: await importPrivateKey(ca.keyPem),
        signingAlgorithm: signingAlgorithm(keyAlgorithmOf(ca.keyPem)),
        authorityKeyId: await x509.AuthorityKeyIdentifierExtension.create(cert),
      };
    })();
    preparedCas.set(ca, p);
  }
  return p;
}

/** The CA's decoded certificate, key and AKI, shared with the CRL writer. */
export const preparedCa = (ca: CertificateAuthority): Promise<PreparedCa> => prepareCa(ca);

export async function issueCertificate(r: IssueRequest): Promise<IssuedCertificate> {
  const ca = await prepareCa(r.ca);
  let subjectKey: KeyObject;
  try {
    subjectKey = createPublicKey(r.publicKeyPem);
  } catch {
    throw badRequest('The public key to certify is not a valid PEM key');
  }
  const publicKey = new x509.PublicKey(subjectKey.export({ type: 'spki', format: 'der' }));
  const notBefore = new Date(Math.floor(r.notBefore.getTime() / 1000) * 1000);
  const notAfter = new Date(Math.floor(Math.min(r.notAfter.getTime(), ca.cert.notAfter.getTime()) / 1000) * 1000);
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw badRequest(`Certificate validity is empty: notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`);
  }
  if (!r.usage || !(r.usage in EKU)) throw badRequest(`Unknown certificate usage ${JSON.stringify(r.usage)}`);
  const names = generalNames(r);
  const serialHex = randomSerial();
  const keyUsage = subjectKey.asymmetricKeyType === 'rsa'
    ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
    : x509.KeyUsageFlags.digitalSignature;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: subjectName(r.subject),
    // The CA's encoded name as is, so that issuer and CA subject match byte for byte.
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(keyUsage, true),
      new x509.ExtendedKeyUsageExtension(EKU[r.usage]),
      // RFC 5280: with an empty subject the SAN must be critical.
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, !r.subject.commonName && !r.subject.organizationalUnit && !r.subject.organization && !r.subject.country)] : []),
      ca.authorityKeyId,
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ...(r.crlDistributionPoint ? [new x509.CRLDistributionPointsExtension([r.crlDistributionPoint])] : []),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', serialHex, notBefore, notAfter };
}

export interface ServerTlsOptions {
  hostnames: string[];
  ips: string[];
  validityDays: number;
  now: Date;
}

/** A fresh EC key and a server certificate for it (the dev TLS certificate); CN is the first host name. */
export async function issueServerTlsCertificate(ca: CertificateAuthority, o: ServerTlsOptions): Promise<{ keyPem: string; certPem: string }> {
  const hostnames = [...new Set(o.hostnames.filter((h) => h.length > 0))];
  if (hostnames.length === 0) throw new Error('the server TLS certificate needs at least one host name');
  const keys = generateKeyPair('ec');
  const { certPem } = await issueCertificate({
    ca,
    publicKeyPem: keys.publicKeyPem,
    subject: { commonName: hostnames[0], organization: 'Tessera' },
    dnsNames: hostnames,
    ipAddresses: [...new Set(o.ips)],
    notBefore: new Date(o.now.getTime() - 60_000),
    notAfter: new Date(o.now.getTime() + o.validityDays * 86_400_000),
    usage: 'server',
  });
  return { keyPem: keys.privateKeyPem, certPem };
}
