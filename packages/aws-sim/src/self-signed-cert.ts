/**
 * A self-signed X.509 certificate for a simulator-owned RSA key, built with
 * the ASN.1 schema classes and signed with node:crypto.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const NULL_DER = (): ArrayBuffer => Uint8Array.from([0x05, 0x00]).buffer;
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

export function pemEncode(label: string, der: Uint8Array | ArrayBuffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function pemDecode(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function name(commonName: string, organization: string): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn(OID_O, organization), rdn(OID_CN, commonName)]);
}

const extension = (extnID: string, critical: boolean, value: unknown): Extension =>
  new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

export interface SelfSigned {
  keyPem: string;
  certificatePem: string;
}

/** RSA-2048 key and a certificate for it valid from an hour before `now` for ten years. */
export function selfSignedCertificate(commonName: string, organization: string, now: Date): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const serial = randomBytes(16);
  // Positive and minimal in DER: a leading 0x00 byte would be illegal padding (strict parsers such as OpenSSL refuse it).
  serial[0] = (serial[0] & 0x7f) | 0x40;
  const subject = name(commonName, organization);
  const algorithm = new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: NULL_DER() });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.byteLength),
    signature: algorithm,
    issuer: subject,
    validity: new Validity({ notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + 3650 * 86400_000) }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      extension(
        id_ce_subjectKeyIdentifier,
        false,
        new SubjectKeyIdentifier(createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest()),
      ),
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, privateKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.byteLength),
  });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: pemEncode('CERTIFICATE', AsnConvert.serialize(cert)),
  };
}

/** Sanity check used when loading a stored pair: the key must belong to the certificate. */
export function certificateMatchesKey(certificatePem: string, keyPem: string): boolean {
  const cert = AsnConvert.parse(pemDecode(certificatePem), Certificate);
  const fromCert = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return fromCert.equals(fromKey);
}
