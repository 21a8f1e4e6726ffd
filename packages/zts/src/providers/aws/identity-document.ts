/**
 * EC2 instance identity documents: checking the PKCS#7 (CMS SignedData)
 * signature against the configured AWS certificates, with the document as the
 * content that was signed.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData, id_messageDigest } from '@peculiar/asn1-cms';

const HASH_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface Ec2Document {
  accountId: string;
  instanceId: string;
  region: string;
  privateIp?: string;
  pendingTime?: string;
}

export function parseDocument(document: string): Ec2Document | undefined {
  try {
    const d = JSON.parse(document) as Record<string, unknown>;
    if (typeof d.accountId !== 'string' || typeof d.instanceId !== 'string' || typeof d.region !== 'string') return undefined;
    return {
      accountId: d.accountId,
      instanceId: d.instanceId,
      region: d.region,
      ...(typeof d.privateIp === 'string' ? { privateIp: d.privateIp } : {}),
      ...(typeof d.pendingTime === 'string' ? { pendingTime: d.pendingTime } : {}),
    };
  } catch {
    return undefined;
  }
}

/** True when some signer of the PKCS#7 signature verifies over `document` with one of the certificates. */
export function verifyDocumentSignature(document: string, signatureBase64: string, certsPem: string[]): boolean {
  let signed: SignedData;
  try {
    const info = AsnConvert.parse(Buffer.from(signatureBase64.replace(/\s+/g, ''), 'base64'), ContentInfo);
    signed = AsnConvert.parse(info.content, SignedData);
  } catch {
    return false;
  }
  const content = Buffer.from(document, 'utf8');
  const keys: KeyObject[] = certsPem.map((pem) => createPublicKey(pem));
  for (const signer of signed.signerInfos) {
    const hash = HASH_BY_OID[signer.digestAlgorithm.algorithm];
    if (!hash) continue;
    let data: Buffer = content;
    if (signer.signedAttrs && signer.signedAttrs.length > 0) {
      // With signed attributes the signature covers their DER SET, which must carry the content digest.
      const digestAttr = signer.signedAttrs.find((a) => a.attrType === id_messageDigest);
      if (!digestAttr) continue;
      const digest = Buffer.from(AsnConvert.parse(digestAttr.attrValues[0], OctetString).buffer);
      if (!digest.equals(createHash(hash).update(content).digest())) continue;
      data = derSet(signer.signedAttrs.map((a) => Buffer.from(AsnConvert.serialize(a))));
    }
    const signature = Buffer.from(signer.signature.buffer);
    if (keys.some((key) => safeVerify(hash, data, key, signature))) return true;
  }
  return false;
}

/** DER `SET OF` with the elements in the order given (as they were transmitted and signed). */
function derSet(elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : (() => {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
  })();
  return Buffer.concat([Buffer.from([0x31]), length, body]);
}

function safeVerify(hash: string, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}
