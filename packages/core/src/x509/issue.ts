/** Signing end-entity certificates with a CA: service, role and TLS server certificates. */
import { createPublicKey } from 'node:crypto';
import { badRequest } from '../errors.ts';
import type { CertificateAuthority } from './ca.ts';
import { generateKeyPair } from './keys.ts';
import { randomSerial } from './serial.ts';
import { generalNames, type SanValues, type Subject } from './names.ts';
import { checkDer, DerCursor } from './der/reader.ts';
import { pemBody, readPublicKeyInfo, toPem, type PublicKeyInfo } from './der/x509-reader.ts';
import { prepareSigningCa, writeCertificate, type CertificateUsage, type SigningCa } from './der/certificate-writer.ts';

export type { CertificateUsage };

export interface IssueRequest extends SanValues {
  ca: CertificateAuthority;
  /** The subject's public key (SPKI PEM, e.g. `ParsedCsr.publicKeyPem`; any key PEM or certificate node reads). */
  publicKeyPem: string;
  subject: Subject;
  notBefore: Date;
  notAfter: Date;
  usage: CertificateUsage;
  /** A URL written as the CRL distribution point (fullName URI) when set. */
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

const USAGES: CertificateUsage[] = ['client-server', 'server', 'client'];

// Decoding the CA key costs more than signing: once per CA object.
const signingCas = new WeakMap<CertificateAuthority, SigningCa>();

function signingCa(ca: CertificateAuthority): SigningCa {
  let s = signingCas.get(ca);
  if (!s) {
    s = prepareSigningCa(ca);
    signingCas.set(ca, s);
  }
  return s;
}

/**
 * The key to certify, read from its DER. An SPKI PEM (what parseCsr returns,
 * after it imported and vetted the key) is decoded without a key import; other
 * PEM kinds go through node:crypto first.
 */
function subjectPublicKey(pem: string): PublicKeyInfo {
  let key: PublicKeyInfo;
  try {
    const der = pem.includes('-----BEGIN PUBLIC KEY-----') ? pemBody(pem, 'PUBLIC KEY') : createPublicKey(pem).export({ type: 'spki', format: 'der' });
    checkDer(der);
    key = readPublicKeyInfo(new DerCursor(der, 0, der.length));
  } catch {
    throw badRequest('The public key to certify is not a valid PEM key');
  }
  if (key.algorithm === 'other') throw badRequest('The public key to certify is neither RSA nor EC');
  return key;
}

/**
 * Signs a certificate for `publicKeyPem`: random positive 128-bit serial,
 * SHA-256 with the CA key's algorithm, basicConstraints CA:false, keyUsage
 * digitalSignature (+keyEncipherment for RSA keys), EKU from `usage`, SAN
 * (critical when the subject is empty), AKI/SKI, and the CRL distribution
 * point when one is given. A notAfter past the CA's is cut to the CA's, since
 * no verifier would accept the certificate beyond it.
 */
export async function issueCertificate(r: IssueRequest): Promise<IssuedCertificate> {
  const ca = signingCa(r.ca);
  const publicKey = subjectPublicKey(r.publicKeyPem);
  const notBefore = new Date(Math.floor(r.notBefore.getTime() / 1000) * 1000);
  const notAfter = new Date(Math.floor(Math.min(r.notAfter.getTime(), ca.notAfter.getTime()) / 1000) * 1000);
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw badRequest(`Certificate validity is empty: notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`);
  }
  if (!USAGES.includes(r.usage)) throw badRequest(`Unknown certificate usage ${JSON.stringify(r.usage)}`);
  const names = generalNames(r);
  if (r.crlDistributionPoint !== undefined) generalNames({ uris: [r.crlDistributionPoint] }); // the same IA5 check as a SAN URI
  const serialHex = randomSerial();
  const der = writeCertificate(ca, {
    serial: Buffer.from(serialHex, 'hex'),
    subject: r.subject,
    notBefore,
    notAfter,
    publicKey,
    usage: r.usage,
    names,
    ...(r.crlDistributionPoint !== undefined ? { crlDistributionPoint: r.crlDistributionPoint } : {}),
  });
  return { certPem: toPem(der, 'CERTIFICATE'), serialHex, notBefore, notAfter };
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
