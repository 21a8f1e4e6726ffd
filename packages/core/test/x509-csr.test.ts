/** CSRs as siad makes them and ZTS reads them, cross-checked with openssl. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import { generateKeyPair, importPrivateKeyPem, keyAlgorithmOf, publicKeyPemFromPrivate, toTraditionalPrivateKeyPem } from '../src/x509/keys.ts';
import { ApiError } from '../src/errors.ts';
import { now, openssl, opensslOk, pemToDer } from './x509-support.ts';

const PROVIDER = 'athenz.aws.us-west-2';
const is400 = (e: unknown) => e instanceof ApiError && e.status === 400;

for (const alg of ['ec', 'rsa'] as const) {
  test(`${alg} CSR: openssl accepts it and parseCsr reads every field back`, async () => {
    const key = generateKeyPair(alg);
    const csrPem = await createCsr({
      keyPem: key.privateKeyPem,
      subject: { commonName: 'sports.api', organizationalUnit: PROVIDER, organization: 'Sports, Inc.', country: 'US' },
      dnsNames: ['api.sports.aws.athenz.cloud', 'i-0abc.instanceid.athenz.aws.athenz.cloud'],
      ipAddresses: ['10.0.0.7', 'fd00::7'],
      uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/i-0abc`],
      emails: ['sports.api@aws.athenz.cloud'],
    });
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const verified = opensslOk(['req', '-in', 'csr.pem', '-noout', '-verify'], { 'csr.pem': csrPem });
    assert.match(verified, /verify OK/);
    const text = opensslOk(['req', '-in', 'csr.pem', '-noout', '-text'], { 'csr.pem': csrPem });
    assert.match(text, /Subject: C ?= ?US, O ?= ?"?Sports, Inc\."?, OU ?= ?athenz\.aws\.us-west-2, CN ?= ?sports\.api/);
    assert.match(text, /DNS:api\.sports\.aws\.athenz\.cloud, DNS:i-0abc\.instanceid\.athenz\.aws\.athenz\.cloud/);
    assert.match(text, /URI:spiffe:\/\/sports\/sa\/api/);
    assert.match(text, /email:sports\.api@aws\.athenz\.cloud/);
    assert.match(text, alg === 'ec' ? /ecdsa-with-SHA256/ : /sha256WithRSAEncryption/);

    const csr = await parseCsr(csrPem);
    assert.deepEqual(csr, {
      commonName: 'sports.api',
      organizationalUnit: PROVIDER,
      organization: 'Sports, Inc.',
      subjectFields: [{ type: 'C', value: 'US' }, { type: 'O', value: 'Sports, Inc.' }, { type: 'OU', value: PROVIDER }, { type: 'CN', value: 'sports.api' }],
      dnsNames: ['api.sports.aws.athenz.cloud', 'i-0abc.instanceid.athenz.aws.athenz.cloud'],
      uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/i-0abc`],
      ipAddresses: ['10.0.0.7', 'fd00::7'],
      emails: ['sports.api@aws.athenz.cloud'],
      publicKeyPem: key.publicKeyPem,
      keyAlgorithm: alg,
      signatureValid: true,
    });
  });
}

test('a CSR made by openssl the way Athenz SIA makes it (RSA, PKCS#1 key) parses', async () => {
  const keyPem = opensslOk(['genrsa', '-traditional', '2048']);
  assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  const csrPem = opensslOk([
    'req', '-new', '-key', 'k.pem', '-sha256', '-subj', `/OU=${PROVIDER}/CN=sports.api`,
    '-addext', 'subjectAltName=DNS:api.sports.aws.athenz.cloud,URI:spiffe://sports/sa/api',
  ], { 'k.pem': keyPem });
  const csr = await parseCsr(csrPem);
  assert.equal(csr.commonName, 'sports.api');
  assert.equal(csr.organizationalUnit, PROVIDER);
  assert.equal(csr.organization, undefined);
  assert.deepEqual(csr.dnsNames, ['api.sports.aws.athenz.cloud']);
  assert.deepEqual(csr.uris, ['spiffe://sports/sa/api']);
  assert.deepEqual(csr.emails, []);
  assert.equal(csr.keyAlgorithm, 'rsa');
  assert.equal(csr.publicKeyPem, publicKeyPemFromPrivate(keyPem));
  assert.equal(csr.signatureValid, true);
});

test('siad keys in the traditional PEM forms (PKCS#1 RSA, SEC1 EC) sign CSRs', async () => {
  for (const alg of ['rsa', 'ec'] as const) {
    const traditional = toTraditionalPrivateKeyPem(generateKeyPair(alg).privateKeyPem);
    assert.match(traditional, alg === 'rsa' ? /^-----BEGIN RSA PRIVATE KEY-----/ : /^-----BEGIN EC PRIVATE KEY-----/);
    assert.equal(keyAlgorithmOf(traditional), alg);
    await importPrivateKeyPem(traditional);
    const csrPem = await createCsr({ keyPem: traditional, subject: { commonName: 'sports.api' }, dnsNames: ['api.sports.aws.athenz.cloud'] });
    assert.equal((await parseCsr(csrPem)).signatureValid, true);
    assert.match(opensslOk(['req', '-in', 'csr.pem', '-noout', '-verify'], { 'csr.pem': csrPem }), /verify OK/);
  }
});

test('a CSR without CN or SANs parses to empty values', async () => {
  const csr = await parseCsr(await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: '' }, uris: ['spiffe://sports/sa/api'] }));
  assert.equal(csr.commonName, '');
  assert.equal(csr.organizationalUnit, undefined);
  assert.deepEqual([csr.dnsNames, csr.ipAddresses, csr.emails], [[], [], []]);
  assert.deepEqual(csr.uris, ['spiffe://sports/sa/api']);
});

test('a tampered CSR fails its signature check, in parseCsr and in openssl', async () => {
  const csrPem = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports.api' } });
  const other = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports.api' } });
  // Put the other CSR's public key into this one: the self-signature no longer matches its key.
  const mine = pemToDer(csrPem);
  const myKey = pemToDer((await parseCsr(csrPem)).publicKeyPem);
  const theirKey = pemToDer((await parseCsr(other)).publicKeyPem);
  const offset = mine.indexOf(myKey);
  assert.ok(offset > 0 && myKey.length === theirKey.length);
  theirKey.copy(mine, offset);
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${mine.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal((await parseCsr(tampered)).signatureValid, false);
  // openssl 3.0 exits 0 here, so read its verdict.
  assert.match(openssl(['req', '-in', 'csr.pem', '-noout', '-verify'], { 'csr.pem': tampered }).output, /verify failure/);

  // Changing the subject (CN sports.api → sports.apx) breaks it the same way.
  const renamed = pemToDer(csrPem);
  const cn = renamed.indexOf(Buffer.from('sports.api'));
  renamed[cn + 9] = 'x'.charCodeAt(0);
  const renamedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${renamed.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  const parsed = await parseCsr(renamedPem);
  assert.equal(parsed.commonName, 'sports.apx');
  assert.equal(parsed.signatureValid, false);
});

test('unparseable CSRs are ApiError 400 with a clear message', async () => {
  const ca = await createCertificateAuthority({ commonName: 'CA', alg: 'ec', validityDays: 1, now });
  const inputs = [
    'not a csr',
    '',
    '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
    '-----BEGIN CERTIFICATE REQUEST-----\n%%%%\n-----END CERTIFICATE REQUEST-----\n',
    ca.certPem, // a certificate is not a CSR
    `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(100_000)}\n-----END CERTIFICATE REQUEST-----\n`,
  ];
  for (const input of inputs) {
    await assert.rejects(parseCsr(input), (e) => is400(e) && /Unable to parse the CSR/.test((e as Error).message), input.slice(0, 40));
  }
  // Truncated: a real CSR cut short.
  const csrPem = await createCsr({ keyPem: generateKeyPair('rsa').privateKeyPem, subject: { commonName: 'sports.api' } });
  const der = pemToDer(csrPem);
  await assert.rejects(parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${der.subarray(0, 200).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`), is400);
});

test('CSRs for weak or unsupported keys are 400s', async () => {
  const rsa1024 = opensslOk(['genrsa', '1024']);
  const weak = opensslOk(['req', '-new', '-key', 'k.pem', '-sha256', '-subj', '/CN=sports.api'], { 'k.pem': rsa1024 });
  await assert.rejects(parseCsr(weak), (e) => is400(e) && /1024 bits is too short/.test((e as Error).message));

  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const edCsr = opensslOk(['req', '-new', '-key', 'k.pem', '-subj', '/CN=sports.api'], { 'k.pem': ed });
  await assert.rejects(parseCsr(edCsr), (e) => is400(e) && /ed25519 keys are not supported/.test((e as Error).message));
});
