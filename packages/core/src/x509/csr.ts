/** Certificate signing requests: created by siad, parsed and checked by ZTS. */
import { createPublicKey } from 'node:crypto';
import { badRequest } from '../errors.ts';
import { x509 } from './provider.ts';
import { importPrivateKey, importPublicKey, keyAlgorithmOf, publicKeyPemFromPrivate, signingAlgorithm } from './keys.ts';
import { subjectName, type Subject } from './names.ts';
import { sanValues } from './certificate.ts';

export interface CsrRequest {
  keyPem: string;
  subject: Subject;
  dnsNames?: string[];
  uris?: string[];
}

export async function createCsr(r: CsrRequest): Promise<string> {
  const names: x509.JsonGeneralName[] = [
    ...(r.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(r.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(r.subject),
    keys: { privateKey: await importPrivateKey(r.keyPem), publicKey: await importPublicKey(publicKeyPemFromPrivate(r.keyPem)) },
    signingAlgorithm: signingAlgorithm(keyAlgorithmOf(r.keyPem)),
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return csr.toString('pem') + '\n';
}

export interface ParsedCsr {
  commonName: string;
  organizationalUnit?: string;
  organization?: string;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  emails: string[];
  publicKeyPem: string;
  signatureValid: boolean;
}

export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw badRequest('Unable to parse the CSR: send a PEM "CERTIFICATE REQUEST"');
  }
  const sanExt = csr.getExtension('2.5.29.17') // subjectAltName;
  const san = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData) : null;
  let publicKeyPem: string;
  try {
    publicKeyPem = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  } catch {
    throw badRequest('The CSR public key is not usable: use an RSA or EC P-256 key');
  }
  return {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizationalUnit: csr.subjectName.getField('OU')[0],
    organization: csr.subjectName.getField('O')[0],
    dnsNames: sanValues(san, 'dns'),
    uris: sanValues(san, 'url'),
    ipAddresses: sanValues(san, 'ip'),
    emails: sanValues(san, 'email'),
    publicKeyPem,
    signatureValid: await csr.verify().catch(() => false),
  };
}
