/** PKCS#10 (RFC 2986) CertificationRequest, read strictly from DER. */
import { checkDer, DerCursor, DerError, TAG } from './reader.ts';
import { OID } from './oids.ts';
import { readAlgorithm, readExtensions, readName, readPublicKeyInfo, readSubjectAltName, type PublicKeyInfo, type SanFields, type SubjectFields } from './x509-reader.ts';

export interface CsrFields extends SanFields {
  subject: SubjectFields;
  publicKey: PublicKeyInfo;
  /** The signed part (certificationRequestInfo) and its signature, for crypto.verify. */
  signedBytes: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
}

/**
 * CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 * certificationRequestInfo ::= SEQUENCE { version 0, subject, subjectPKInfo, attributes [0] SET OF Attribute }
 */
export function readCsr(der: Uint8Array): CsrFields {
  checkDer(der);
  const req = new DerCursor(der, 0, der.length).sequence('CertificationRequest');
  const infoTlv = req.expect(TAG.SEQUENCE, 'certificationRequestInfo');
  const signatureAlgorithm = readAlgorithm(req, 'signatureAlgorithm').oid;
  const signature = req.bitStringBytes('signature');
  req.finish('CertificationRequest');

  const info = DerCursor.inside(der, infoTlv);
  const version = info.integer('version');
  if (version.length !== 1 || version[0] !== 0) throw new DerError('CSR version must be 1 (encoded 0)');
  const subject = readName(der, info.expect(TAG.SEQUENCE, 'subject'), 'subject');
  const publicKey = readPublicKeyInfo(info);
  const attributes = DerCursor.inside(der, info.expect(0xa0, 'attributes'));
  info.finish('certificationRequestInfo');

  let san: SanFields | undefined;
  while (!attributes.done) {
    const attr = attributes.sequence('attribute');
    const type = attr.oid('attribute type');
    const values = DerCursor.inside(der, attr.expect(TAG.SET, 'attribute values'));
    attr.finish('attribute');
    if (type !== OID.extensionRequest) continue;
    while (!values.done) {
      for (const ext of readExtensions(der, values.expect(TAG.SEQUENCE, 'extensionRequest'))) {
        if (ext.id !== OID.subjectAltName) continue;
        if (san) throw new DerError('several subjectAltName extensions');
        san = readSubjectAltName(ext.value);
      }
    }
  }
  return {
    subject,
    publicKey,
    ...(san ?? { dnsNames: [], uris: [], ipAddresses: [], emails: [] }),
    signedBytes: der.subarray(infoTlv.start, infoTlv.end),
    signatureAlgorithm,
    signature,
  };
}
