/** X.509 Certificate (RFC 5280 §4.1), read strictly from DER: the fields ZTS acts on and what signing needs from a CA. */
import { checkDer, DerCursor, DerError, decodeTime, TAG } from './reader.ts';
import { OID } from './oids.ts';
import { readAlgorithm, readExtensions, readName, readPublicKeyInfo, readSubjectAltName, type Extension, type PublicKeyInfo, type SanFields, type SubjectFields } from './x509-reader.ts';

export interface CertificateFields extends SanFields {
  /** Lower-case hex of the serial's DER bytes. */
  serialHex: string;
  issuer: SubjectFields;
  subject: SubjectFields;
  /** The subject Name element exactly as encoded (a CA's subject becomes its certificates' issuer). */
  subjectNameDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKeyInfo;
  extensions: Extension[];
}

export function readCertificate(der: Uint8Array): CertificateFields {
  checkDer(der);
  const cert = new DerCursor(der, 0, der.length).sequence('Certificate');
  const tbs = cert.sequence('tbsCertificate');
  readAlgorithm(cert, 'signatureAlgorithm');
  cert.bitStringBytes('signatureValue');
  cert.finish('Certificate');

  const versionTag = tbs.optional(0xa0);
  if (versionTag) {
    const v = DerCursor.inside(der, versionTag);
    const n = v.integer('version');
    v.finish('version');
    if (n.length !== 1 || n[0] > 2) throw new DerError('unknown certificate version');
  }
  const serialHex = Buffer.from(tbs.integer('serialNumber')).toString('hex');
  readAlgorithm(tbs, 'signature');
  const issuer = readName(der, tbs.expect(TAG.SEQUENCE, 'issuer'), 'issuer');
  const validity = tbs.sequence('validity');
  const notBefore = decodeTime(der, validity.next(), 'notBefore');
  if (validity.done) throw new DerError('notAfter is missing');
  const notAfter = decodeTime(der, validity.next(), 'notAfter');
  validity.finish('validity');
  const subjectTlv = tbs.expect(TAG.SEQUENCE, 'subject');
  const subject = readName(der, subjectTlv, 'subject');
  const publicKey = readPublicKeyInfo(tbs);
  tbs.optional(0x81); // issuerUniqueID
  tbs.optional(0x82); // subjectUniqueID
  const extTag = tbs.optional(0xa3);
  tbs.finish('tbsCertificate');
  let extensions: Extension[] = [];
  if (extTag) {
    const wrapper = DerCursor.inside(der, extTag);
    extensions = readExtensions(der, wrapper.expect(TAG.SEQUENCE, 'extensions'));
    wrapper.finish('extensions');
  }
  const sanExt = extensions.find((e) => e.id === OID.subjectAltName);
  return {
    serialHex,
    issuer,
    subject,
    subjectNameDer: der.subarray(subjectTlv.start, subjectTlv.end),
    notBefore,
    notAfter,
    publicKey,
    extensions,
    ...(sanExt ? readSubjectAltName(sanExt.value) : { dnsNames: [], uris: [], ipAddresses: [], emails: [] }),
  };
}
