/** Key pairs: formats, algorithms, and matching a key to its certificate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import {
  generateKeyPair, importPrivateKeyPem, importPublicKey, keyAlgorithmOf, keyMatchesCertificate, publicKeyPemFromPrivate, toTraditionalPrivateKeyPem,
} from '../src/x509/keys.ts';
import { now, opensslOk } from './x509-support.ts';

test('generateKeyPair: EC P-256 and RSA 2048 as PKCS#8 + SPKI PEM', async () => {
  const ec = generateKeyPair('ec');
  assert.match(ec.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(ec.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(opensslOk(['pkey', '-in', 'k.pem', '-noout', '-text'], { 'k.pem': ec.privateKeyPem }), /ASN1 OID: prime256v1/);
  const rsa = generateKeyPair('rsa');
  assert.match(opensslOk(['pkey', '-in', 'k.pem', '-noout', '-text'], { 'k.pem': rsa.privateKeyPem }), /Private-Key: \(2048 bit/);

  for (const [alg, pair] of [['ec', ec], ['rsa', rsa]] as const) {
    assert.equal(keyAlgorithmOf(pair.privateKeyPem), alg);
    assert.equal(keyAlgorithmOf(pair.publicKeyPem), alg);
    assert.equal(publicKeyPemFromPrivate(pair.privateKeyPem), pair.publicKeyPem);
    assert.equal(publicKeyPemFromPrivate(toTraditionalPrivateKeyPem(pair.privateKeyPem)), pair.publicKeyPem);
    const priv = await importPrivateKeyPem(pair.privateKeyPem);
    const pub = await importPublicKey(pair.publicKeyPem);
    assert.deepEqual([priv.type, pub.type], ['private', 'public']);
    const params = alg === 'ec' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
    const data = new TextEncoder().encode('tessera');
    const sig = await crypto.subtle.sign(params, priv, data);
    assert.equal(await crypto.subtle.verify(params, pub, sig, data), true);
  }
});

test('keyMatchesCertificate: true for the pair, false for another key or garbage', async () => {
  const ca = await createCertificateAuthority({ commonName: 'CA', alg: 'ec', validityDays: 1, now });
  assert.equal(keyMatchesCertificate(ca.keyPem, ca.certPem), true);
  assert.equal(keyMatchesCertificate(toTraditionalPrivateKeyPem(ca.keyPem), ca.certPem), true);
  assert.equal(keyMatchesCertificate(generateKeyPair('ec').privateKeyPem, ca.certPem), false);
  assert.equal(keyMatchesCertificate(generateKeyPair('rsa').privateKeyPem, ca.certPem), false);
  assert.equal(keyMatchesCertificate('not a key', ca.certPem), false);
  assert.equal(keyMatchesCertificate(ca.keyPem, 'not a cert'), false);
});
