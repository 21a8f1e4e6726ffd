/**
 * An RFC 5280 v2 CRL signed by the CA: the revoked serials with their
 * revocation time and reason, a CRL number and the authority key identifier.
 * Not a hot path (written when the revocation list changes), so it uses
 * @peculiar/x509.
 */
import { x509 } from './provider.ts';
import type { CertificateAuthority } from './ca.ts';
import { importPrivateKey, keyAlgorithmOf, signingAlgorithm } from './keys.ts';

export type RevocationReason = 'unspecified' | 'keyCompromise' | 'superseded' | 'cessationOfOperation' | 'privilegeWithdrawn';

export interface CrlEntry {
  /** Lower-case hex, as the certificate records keep it. */
  serialHex: string;
  revoked: Date;
  reason: RevocationReason;
}

export interface CrlRequest {
  ca: CertificateAuthority;
  entries: CrlEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Must grow with every CRL the CA publishes (RFC 5280 5.2.3). */
  crlNumber: bigint;
}

const CRL_NUMBER_OID = '2.5.29.20';

/** DER INTEGER of a non-negative number: minimal big-endian bytes, with a leading zero when the top bit is set. */
function derInteger(n: bigint): Uint8Array<ArrayBuffer> {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

/** What a CRL signature needs from the CA, decoded once per CA object. */
const preparedCas = new WeakMap<CertificateAuthority, ReturnType<typeof prepare>>();

async function prepare(ca: CertificateAuthority) {
  const cert = new x509.X509Certificate(ca.certPem);
  return {
    cert,
    signingKey: await importPrivateKey(ca.keyPem),
    signingAlgorithm: signingAlgorithm(keyAlgorithmOf(ca.keyPem)),
    authorityKeyId: await x509.AuthorityKeyIdentifierExtension.create(cert),
  };
}

function preparedCa(ca: CertificateAuthority): ReturnType<typeof prepare> {
  let p = preparedCas.get(ca);
  if (!p) {
    p = prepare(ca);
    preparedCas.set(ca, p);
  }
  return p;
}

/** The CRL in DER. */
export async function createCrl(r: CrlRequest): Promise<Buffer> {
  const ca = await preparedCa(r.ca);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: r.thisUpdate,
    nextUpdate: r.nextUpdate,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [ca.authorityKeyId, new x509.Extension(CRL_NUMBER_OID, false, derInteger(r.crlNumber))],
    entries: r.entries.map((e) => ({
      // A leading zero keeps a serial whose top bit is set positive, as in the certificate itself.
      serialNumber: /^[89a-f]/i.test(e.serialHex) ? `00${e.serialHex}` : e.serialHex,
      revocationDate: e.revoked,
      reason: x509.X509CrlReason[e.reason],
    })),
  });
  return Buffer.from(crl.rawData);
}
