/**
 * The EC2 instance identity document and its PKCS#7 (CMS SignedData)
 * signature, made with a simulator-owned RSA key. The self-signed certificate
 * of that key is published so that ZTS can be configured to trust it, the way
 * it is configured with AWS's per-region certificates.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { certificateMatchesKey, pemDecode, selfSignedCertificate } from './self-signed-cert.ts';

const ID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const ID_SHA256 = '2.16.840.1.101.3.4.2.1';
const ID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
/** DER of the OID id-data, the value of the contentType signed attribute. */
const ID_DATA_DER = Uint8Array.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
const NULL_DER = Uint8Array.from([0x05, 0x00]).buffer;

export interface IdentityDocumentFields {
  accountId: string;
  architecture: string;
  availabilityZone: string;
  imageId: string;
  instanceId: string;
  instanceType: string;
  pendingTime: string;
  privateIp: string;
  region: string;
}

/** The document in AWS's layout (`"key" : value`, nulls for unused product codes). */
export function identityDocument(f: IdentityDocumentFields): string {
  const doc = {
    accountId: f.accountId,
    architecture: f.architecture,
    availabilityZone: f.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: f.imageId,
    instanceId: f.instanceId,
    instanceType: f.instanceType,
    kernelId: null,
    pendingTime: f.pendingTime,
    privateIp: f.privateIp,
    ramdiskId: null,
    region: f.region,
    version: '2017-09-30',
  };
  return JSON.stringify(doc, null, 2).replace(/^(\s*"[^"]+"): /gm, '$1 : ');
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const wrap64 = (b64: string): string => b64.replace(/(.{64})/g, '$1\n').trimEnd();

export class DocumentSigner {
  private readonly key: KeyObject;
  private readonly cert: Certificate;

  constructor(
    keyPem: string,
    readonly certificatePem: string,
  ) {
    if (!certificateMatchesKey(certificatePem, keyPem)) throw new Error('identity document key does not match its certificate');
    this.key = createPrivateKey(keyPem);
    this.cert = AsnConvert.parse(pemDecode(certificatePem), Certificate);
  }

  /** A new key with a ten-year self-signed certificate. */
  static generate(now: Date): { signer: DocumentSigner; keyPem: string; certificatePem: string } {
    const { keyPem, certificatePem } = selfSignedCertificate(
      'aws-sim EC2 instance identity (development only)',
      'Tessera aws-sim',
      now,
    );
    return { signer: new DocumentSigner(keyPem, certificatePem), keyPem, certificatePem };
  }

  /** Base64 RSA-SHA256 signature of the document (IMDS `…/instance-identity/signature`). */
  signature(document: string): string {
    return sign('sha256', Buffer.from(document, 'utf8'), this.key).toString('base64');
  }

  /**
   * CMS SignedData over the document with the content attached and signed
   * attributes, base64 in 64-column lines without PEM armour, as IMDS
   * serves `…/instance-identity/pkcs7`.
   */
  pkcs7(document: string, signingTime: Date): string {
    const content = Buffer.from(document, 'utf8');
    const attrs = [
      new Attribute({ attrType: ID_CONTENT_TYPE, attrValues: [ID_DATA_DER.buffer.slice(0)] }),
      new Attribute({ attrType: id_signingTime, attrValues: [AsnConvert.serialize(new SigningTime(signingTime))] }),
      new Attribute({
        attrType: id_messageDigest,
        attrValues: [AsnConvert.serialize(new OctetString(createHash('sha256').update(content).digest()))],
      }),
    ];
    // DER orders SET OF by encoding; the signature covers that SET, the message carries the same order.
    const encoded = attrs
      .map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }))
      .sort((x, y) => Buffer.compare(x.der, y.der));
    const body = Buffer.concat(encoded.map((e) => e.der));
    const signedAttrsDer = Buffer.concat([Buffer.from([0x31]), derLength(body.length), body]);
    const signature = sign('sha256', signedAttrsDer, this.key);
    const digestAlgorithm = new DigestAlgorithmIdentifier({ algorithm: ID_SHA256 });
    const signerInfo = new SignerInfo({
      version: CMSVersion.v1,
      sid: new SignerIdentifier({
        issuerAndSerialNumber: new IssuerAndSerialNumber({
          issuer: this.cert.tbsCertificate.issuer,
          serialNumber: this.cert.tbsCertificate.serialNumber,
        }),
      }),
      digestAlgorithm,
      signedAttrs: encoded.map((e) => e.a),
      signatureAlgorithm: new SignatureAlgorithmIdentifier({ algorithm: ID_RSA_ENCRYPTION, parameters: NULL_DER }),
      signature: new OctetString(signature),
    });
    const signedData = new SignedData({
      version: CMSVersion.v1,
      digestAlgorithms: new DigestAlgorithmIdentifiers([digestAlgorithm]),
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: id_data,
        eContent: new EncapsulatedContent({ single: new OctetString(content) }),
      }),
      signerInfos: new SignerInfos([signerInfo]),
    });
    const der = AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) }));
    return wrap64(Buffer.from(der).toString('base64'));
  }
}
