/** Athenz YBase64, as ZMS uses it for service public keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ybase64Decode, ybase64DecodeBytes, ybase64Encode } from '../src/ybase64.ts';
import { generateKeyPair } from '../src/x509/keys.ts';

test('ybase64 round trip uses the Athenz alphabet', () => {
  // Bytes chosen so that plain base64 contains '+', '/' and '=' padding.
  const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x3e, 0x3f]);
  assert.equal(bytes.toString('base64'), '+/+/Pj8=');
  assert.equal(ybase64Encode(bytes), '._._Pj8-');
  assert.deepEqual(ybase64DecodeBytes('._._Pj8-'), bytes);

  for (const pem of [generateKeyPair('ec').publicKeyPem, generateKeyPair('rsa').publicKeyPem, 'x', 'xy', '']) {
    const encoded = ybase64Encode(pem);
    assert.match(encoded, /^[A-Za-z0-9._-]*$/);
    assert.equal(ybase64Decode(encoded), pem);
  }
});

test('ybase64 decode matches an Athenz-encoded key and rejects other alphabets', () => {
  // How every YBase64-encoded PEM public key starts.
  assert.equal(ybase64Decode('LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K'), '-----BEGIN PUBLIC KEY-----\n');
  assert.equal(ybase64Decode('LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K\n'), '-----BEGIN PUBLIC KEY-----\n');
  for (const bad of ['+/+/Pj8=', 'ab cd', 'abc-d', 'a']) assert.throws(() => ybase64Decode(bad), /not a YBase64 value/, bad);
});
