/** Certificate signing requests: created by siad, parsed and checked by ZTS. */
import { createPrivateKey, verify, type KeyObject } from 'node:crypto';
import { badRequest } from '../errors.ts';
import { keyStrengthProblem, type KeyAlgorithm } from './keys.ts';
import { generalNames, type SanValues, type Subject } from './names.ts';
import { DerError } from './der/reader.ts';
import { readCsr, type CsrFields } from './der/csr-reader.ts';
import { writeCsr } from './der/csr-writer.ts';
import { pemBody, publicKeyObject, signatureDigest, toPem } from './der/x509-reader.ts';

export interface CsrRequest extends SanValues {
  /** The private key that signs the CSR; its public half is the one certified. */
  keyPem: string;
  subject: Subject;
}

/** A PEM `CERTIFICATE REQUEST` signed with SHA-256 (RSA or ECDSA, from the key). */
export async function createCsr(r: CsrRequest): Promise<string> {
  return toPem(writeCsr(createPrivateKey(r.keyPem), r.subject, generalNames(r)), 'CERTIFICATE REQUEST');
}

export interface ParsedCsr {
  commonName: string;
  organizationalUnit?: string;
  organization?: string;
  /** Every subject attribute in order, e.g. {type: 'CN', value: 'sports.api'}: ZTS refuses what it does not sign. */
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

// Real CSRs are 1–3 KB; a limit keeps a hostile body from costing parse time.
const MAX_CSR_CHARS = 64 * 1024;

const unparseable = (why?: string) => badRequest(`Unable to parse the CSR${why ? ` (${why})` : ''}: send a PEM "CERTIFICATE REQUEST"`);

function csrDer(pem: string): Buffer {
  return pem.includes('-----BEGIN NEW CERTIFICATE REQUEST-----') ? pemBody(pem, 'NEW CERTIFICATE REQUEST') : pemBody(pem, 'CERTIFICATE REQUEST');
}

/** The self-signature with the CSR's own key; the algorithm must fit the key's kind. */
function selfSignatureValid(csr: CsrFields, key: KeyObject): boolean {
  const digest = signatureDigest(csr.signatureAlgorithm);
  if (digest === undefined) return false;
  const family = csr.signatureAlgorithm.startsWith('1.2.840.10045.') ? 'ec' : csr.signatureAlgorithm.startsWith('1.2.840.113549.') ? 'rsa' : key.asymmetricKeyType;
  if (family !== key.asymmetricKeyType) return false;
  try {
    return verify(digest, csr.signedBytes, key, csr.signature);
  } catch {
    return false;
  }
}

/**
 * Parses a PEM CSR with the strict DER reader. Unparseable input, several SAN
 * extensions or a key we do not certify is a 400; a bad self-signature is
 * reported in `signatureValid` for the caller to reject with its own message.
 */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || pem.length > MAX_CSR_CHARS || !pem.includes('-----BEGIN')) throw unparseable();
  let csr: CsrFields;
  try {
    csr = readCsr(csrDer(pem));
  } catch (e) {
    if (e instanceof DerError) throw unparseable(e.message);
    throw e;
  }
  let key: KeyObject;
  try {
    key = publicKeyObject(csr.publicKey);
  } catch {
    throw badRequest('The CSR public key is not usable: use an RSA (2048+) or EC P-256 key');
  }
  const weak = keyStrengthProblem(key);
  if (weak) throw badRequest(`The CSR public key is not accepted: ${weak}`);
  return {
    commonName: csr.subject.commonName ?? '',
    organizationalUnit: csr.subject.organizationalUnit,
    organization: csr.subject.organization,
    subjectFields: csr.subject.attributes,
    dnsNames: csr.dnsNames,
    uris: csr.uris,
    ipAddresses: csr.ipAddresses,
    emails: csr.emails,
    publicKeyPem: toPem(csr.publicKey.der, 'PUBLIC KEY'),
    keyAlgorithm: key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec',
    signatureValid: selfSignatureValid(csr, key),
  };
}
