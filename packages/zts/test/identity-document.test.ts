/**
 * EC2 identity documents: the fields ZTS reads, and the PKCS#7 signature check
 * against documents signed by aws-sim's signer (the same CMS layout as IMDS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData, id_messageDigest } from '@peculiar/asn1-cms';
import { DocumentSigner } from '@tessera/aws-sim/identity-document';
import { parseDocument, verifyDocumentSignature } from '../src/providers/aws/identity-document.ts';

const now = new Date();
const { signer, certificatePem } = DocumentSigner.generate(now);
const other = DocumentSigner.generate(now).certificatePem;
const document = JSON.stringify({ accountId: '123456789012', instanceId: 'i-0abc', region: 'us-west-2', pendingTime: now.toISOString(), privateIp: '10.0.0.7' });

/** The PKCS#7 of `document` with `change` applied to its one SignerInfo, re-encoded as base64. */
function changed(change: (s: SignedData['signerInfos'][number]) => void): string {
  const info = AsnConvert.parse(Buffer.from(signer.pkcs7(document, now).replace(/\s+/g, ''), 'base64'), ContentInfo);
  const signed = AsnConvert.parse(info.content, SignedData);
  change(signed.signerInfos[0]);
  info.content = AsnConvert.serialize(signed);
  return Buffer.from(AsnConvert.serialize(info)).toString('base64');
}

test('parseDocument keeps the optional fields only when they are strings, and refuses a document without an account', () => {
  assert.deepEqual(parseDocument(document), { accountId: '123456789012', instanceId: 'i-0abc', region: 'us-west-2', pendingTime: now.toISOString(), privateIp: '10.0.0.7' });
  assert.deepEqual(parseDocument(JSON.stringify({ accountId: '123456789012', instanceId: 'i-0abc', region: 'us-west-2', pendingTime: 5 })), { accountId: '123456789012', instanceId: 'i-0abc', region: 'us-west-2' });
  assert.equal(parseDocument(JSON.stringify({ instanceId: 'i-0abc', region: 'us-west-2' })), undefined);
  assert.equal(parseDocument('{'), undefined);
});

test('the signature verifies with the signer\'s certificate only, and over this document only', () => {
  const pkcs7 = signer.pkcs7(document, now);
  assert.equal(verifyDocumentSignature(document, pkcs7, [certificatePem]), true);
  assert.equal(verifyDocumentSignature(document, pkcs7, [other, certificatePem]), true);
  assert.equal(verifyDocumentSignature(document, pkcs7, [other]), false);
  assert.equal(verifyDocumentSignature(document.replace('i-0abc', 'i-0def'), pkcs7, [certificatePem]), false);
  assert.equal(verifyDocumentSignature(document, signer.signature(document), [certificatePem]), false, 'a bare RSA signature is not PKCS#7');
});

test('a signer with an unknown digest, without the message digest attribute, or with a broken signature does not count', () => {
  assert.equal(verifyDocumentSignature(document, changed((s) => {
    s.digestAlgorithm.algorithm = '1.2.3.4';
  }), [certificatePem]), false);
  assert.equal(verifyDocumentSignature(document, changed((s) => {
    s.signedAttrs = s.signedAttrs!.filter((a) => a.attrType !== id_messageDigest) as typeof s.signedAttrs;
  }), [certificatePem]), false);
  assert.equal(verifyDocumentSignature(document, changed((s) => {
    s.signature = new (s.signature.constructor as new (b: ArrayBuffer) => typeof s.signature)(new ArrayBuffer(0));
  }), [certificatePem]), false);
});

test('without signed attributes the signature covers the document itself', () => {
  const bare = changed((s) => {
    s.signedAttrs = undefined;
    s.signature = new (s.signature.constructor as new (b: ArrayBuffer) => typeof s.signature)(new Uint8Array(Buffer.from(signer.signature(document), 'base64')).buffer);
  });
  assert.equal(verifyDocumentSignature(document, bare, [certificatePem]), true);
  assert.equal(verifyDocumentSignature(`${document} `, bare, [certificatePem]), false);
});
