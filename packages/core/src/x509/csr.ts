/** Certificate signing requests: created by siad, parsed and checked by ZTS. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { badRequest } from '../errors.ts';
import { x509 } from './provider.ts';
import { importPrivateKey, importPublicKey, keyAlgorithmOf, keyStrengthProblem, publicKeyPemFromPrivate, signingAlgorithm, type KeyAlgorithm } from './keys.ts';
import { generalNames, subjectName, type SanValues, type Subject } from './names.ts';
import { sanValues } from './certificate.ts';

export interface CsrRequest extends SanValues {
  /** The private key that signs the CSR; its public half is the one certified. */
  keyPem: string;
  subject: Subject;
}

/** A PEM `CERTIFICATE REQUEST` signed with SHA-256 (RSA or ECDSA, from the key). */
export async function createCsr(r: CsrRequest): Promise<string> {
  const names = generalNames(r);
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
  /** Every subject attribute in order (short name such as CN, O, OU, C, or the dotted OID), for policy checks. */
  subjectFields: { type: string; value: string }[];
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  emails: string[];
  publicKeyPem: string;
  keyAlgorithm: KeyAlgorithm;
  /** Whether the CSR's self-signature verifies with its own public key (proof of key possession). */
  signatureValid: boolean;
}

// Real CSRs are 1–3 KB; a limit keeps a hostile body from costing ASN.1 parse time.
const MAX_CSR_CHARS = 64 * 1024;

/**
 * Parses a PEM CSR. Unparseable input, several SAN extensions or a key we do not
 * certify is a 400; a bad self-signature is reported in `signatureValid` for the
 * caller to reject with its own message.
 */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || pem.length > MAX_CSR_CHARS || !pem.includes('-----BEGIN')) {
    throw badRequest('Unable to parse the CSR: send a PEM "CERTIFICATE REQUEST"');
  }
  let csr: x509.Pkcs10CertificateRequest;
  let san: x509.SubjectAlternativeNameExtension | null;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
    const sanExts = csr.getExtensions('2.5.29.17'); // subjectAltName
    if (sanExts.length > 1) throw new Error('several subjectAltName extensions');
    san = sanExts.length === 1 ? new x509.SubjectAlternativeNameExtension(sanExts[0].rawData) : null;
  } catch {
    throw badRequest('Unable to parse the CSR: send a PEM "CERTIFICATE REQUEST"');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw badRequest('The CSR public key is not usable: use an RSA (2048+) or EC P-256 key');
  }
  const weak = keyStrengthProblem(key);
  if (weak) throw badRequest(`The CSR public key is not accepted: ${weak}`);
  return {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizationalUnit: csr.subjectName.getField('OU')[0],
    organization: csr.subjectName.getField('O')[0],
    subjectFields: csr.subjectName.toJSON().flatMap((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => ({ type, value })))),
    dnsNames: sanValues(san, 'dns'),
    uris: sanValues(san, 'url'),
    ipAddresses: sanValues(san, 'ip'),
    emails: sanValues(san, 'email'),
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    keyAlgorithm: key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec',
    signatureValid: await csr.verify().catch(() => false),
  };
}
