/** The X.509 toolkit, checked with the real openssl binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, loadOrCreateCa } from '../src/x509/ca.ts';
import { issueCertificate } from '../src/x509/issue.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { generateKeyPair, keyMatchesCertificate } from '../src/x509/keys.ts';
import { parseCertificate, splitPemBundle, verifyIssuedBy } from '../src/x509/certificate.ts';
import { ybase64Decode, ybase64Encode } from '../src/ybase64.ts';
import { ApiError } from '../src/errors.ts';

const now = new Date();
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-x509-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args: string[], files: Record<string, string>): string {
  return withDir((dir) => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  });
}

for (const caAlg of ['ec', 'rsa'] as const) {
  for (const keyAlg of ['rsa', 'ec'] as const) {
    test(`${caAlg} CA signs a client-server certificate from a ${keyAlg} CSR`, async () => {
      const ca = await createCertificateAuthority({ commonName: 'Test CA', alg: caAlg, validityDays: 30, now });
      const key = generateKeyPair(keyAlg);
      const csrPem = await createCsr({
        keyPem: key.privateKeyPem,
        subject: { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2' },
        dnsNames: ['api.sports.aws.athenz.cloud', 'i-123.instanceid.athenz.aws.athenz.cloud'],
        uris: ['spiffe://sports/sa/api', 'athenz://instanceid/athenz.aws.us-west-2/i-123'],
      });
      assert.match(openssl(['req', '-in', 'csr.pem', '-noout', '-verify'], { 'csr.pem': csrPem }) + 'x', /x/);
      const csr = await parseCsr(csrPem);
      assert.equal(csr.commonName, 'sports.api');
      assert.equal(csr.organizationalUnit, 'athenz.aws.us-west-2');
      assert.deepEqual(csr.uris, ['spiffe://sports/sa/api', 'athenz://instanceid/athenz.aws.us-west-2/i-123']);
      assert.equal(csr.signatureValid, true);

      const issued = await issueCertificate({
        ca, publicKeyPem: csr.publicKeyPem, subject: { commonName: csr.commonName },
        dnsNames: csr.dnsNames, uris: csr.uris, notBefore: now, notAfter: days(7), usage: 'client-server',
      });
      const text = openssl(['x509', '-in', 'c.pem', '-noout', '-text'], { 'c.pem': issued.certPem });
      assert.match(text, /Subject: CN ?= ?sports\.api/);
      assert.match(text, /DNS:api\.sports\.aws\.athenz\.cloud/);
      assert.match(text, /URI:spiffe:\/\/sports\/sa\/api/);
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /CA:FALSE/);
      const verified = openssl(['verify', '-CAfile', 'ca.pem', 'c.pem'], { 'ca.pem': ca.certPem, 'c.pem': issued.certPem });
      assert.match(verified, /c\.pem: OK/);

      const info = parseCertificate(issued.certPem);
      assert.equal(info.serialHex, issued.serialHex);
      assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000), 7);
      assert.equal(await verifyIssuedBy(issued.certPem, ca.certPem), true);
      assert.equal(keyMatchesCertificate(key.privateKeyPem, issued.certPem), true);
      assert.equal(keyMatchesCertificate(generateKeyPair(keyAlg).privateKeyPem, issued.certPem), false);
    });
  }
}

test('a certificate from another CA does not verify', async () => {
  const a = await createCertificateAuthority({ commonName: 'A', alg: 'ec', validityDays: 1, now });
  const b = await createCertificateAuthority({ commonName: 'B', alg: 'ec', validityDays: 1, now });
  const key = generateKeyPair('ec');
  const issued = await issueCertificate({ ca: a, publicKeyPem: key.publicKeyPem, subject: { commonName: 'x' }, notBefore: now, notAfter: days(1), usage: 'client' });
  assert.equal(await verifyIssuedBy(issued.certPem, b.certPem), false);
});

test('loadOrCreateCa writes the key 0600 and reuses the CA', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ca-'));
  try {
    const first = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    assert.equal(statSync(join(dir, 'ca.key.pem')).mode & 0o777, 0o600);
    const second = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    assert.equal(second.certPem, first.certPem);
    assert.equal(splitPemBundle(first.certPem + second.certPem).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tampered CSR fails its signature check; garbage is a 400', async () => {
  const key = generateKeyPair('ec');
  const csrPem = await createCsr({ keyPem: key.privateKeyPem, subject: { commonName: 'sports.api' } });
  const other = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports.api' } });
  // Splice the other CSR's public key into this one's body: the self-signature no longer matches.
  const der = (p: string) => Buffer.from(p.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const mine = der(csrPem);
  const theirs = der(other);
  const offset = mine.indexOf(der((await parseCsr(csrPem)).publicKeyPem));
  assert.ok(offset > 0);
  const theirKey = der((await parseCsr(other)).publicKeyPem);
  theirs.copy(mine, offset, theirs.indexOf(theirKey), theirs.indexOf(theirKey) + theirKey.length);
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${mine.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal((await parseCsr(tampered)).signatureValid, false);
  await assert.rejects(parseCsr('not a csr'), (e) => e instanceof ApiError && e.status === 400);
});

test('ybase64 round trip uses the Athenz alphabet', () => {
  const pem = '-----BEGIN PUBLIC KEY-----\nMFkw?>>~~\n-----END PUBLIC KEY-----\n';
  const encoded = ybase64Encode(pem);
  assert.match(encoded, /^[A-Za-z0-9._-]+$/);
  assert.equal(ybase64Decode(encoded), pem);
});
