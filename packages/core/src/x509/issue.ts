/** Signing end-entity certificates with a CA: service, role and TLS server certificates. */
import { createPublicKey } from 'node:crypto';
import { x509 } from './provider.ts';
import type { CertificateAuthority } from './ca.ts';
import { generateKeyPair, importPrivateKey, keyAlgorithmOf, signingAlgorithm, type KeyPairPem } from './keys.ts';
import { randomSerial } from './serial.ts';
import { subjectName, type Subject } from './names.ts';

export interface IssueRequest {
  ca: CertificateAuthority;
  publicKeyPem: string;
  subject: Subject;
  dnsNames?: string[];
  uris?: string[];
  ipAddresses?: string[];
  notBefore: Date;
  notAfter: Date;
  usage: 'client-server' | 'server' | 'client';
}

export interface IssuedCertificate {
  certPem: string;
  serialHex: string;
}

export async function issueCertificate(r: IssueRequest): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(r.ca.certPem);
  const publicKey = new x509.PublicKey(createPublicKey(r.publicKeyPem).export({ type: 'spki', format: 'der' }));
  const serialHex = randomSerial();
  const eku = {
    'client-server': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
  }[r.usage];
  const usage = keyAlgorithmOf(r.publicKeyPem) === 'rsa'
    ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
    : x509.KeyUsageFlags.digitalSignature;
  const names: x509.JsonGeneralName[] = [
    ...(r.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(r.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(r.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: subjectName(r.subject),
    issuer: caCert.subject,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    publicKey,
    signingKey: await importPrivateKey(r.ca.keyPem),
    signingAlgorithm: signingAlgorithm(keyAlgorithmOf(r.ca.keyPem)),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension(eku),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', serialHex };
}

export interface ServerTlsOptions {
  hostnames: string[];
  ips: string[];
  validityDays: number;
  now: Date;
}

/** A fresh key and a server certificate for it (the dev TLS certificate). */
export async function issueServerTlsCertificate(ca: CertificateAuthority, o: ServerTlsOptions): Promise<{ keyPem: string; certPem: string }> {
  const keys: KeyPairPem = generateKeyPair('ec');
  const { certPem } = await issueCertificate({
    ca,
    publicKeyPem: keys.publicKeyPem,
    subject: { commonName: o.hostnames[0], organization: 'Tessera' },
    dnsNames: [...new Set(o.hostnames)],
    ipAddresses: o.ips,
    notBefore: new Date(o.now.getTime() - 60_000),
    notAfter: new Date(o.now.getTime() + o.validityDays * 86_400_000),
    usage: 'server',
  });
  return { keyPem: keys.privateKeyPem, certPem };
}
