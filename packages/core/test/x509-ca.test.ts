/** The certificate authority: contents checked by openssl, files on disk, reuse and races. */
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, loadOrCreateCa } from '../src/x509/ca.ts';
import { parseCertificate } from '../src/x509/certificate.ts';
import { generateKeyPair, keyAlgorithmOf, keyMatchesCertificate } from '../src/x509/keys.ts';
import { now, opensslOk, withDir } from './x509-support.ts';

for (const alg of ['ec', 'rsa'] as const) {
  test(`${alg} CA: self-signed, CA:TRUE, keyCertSign/cRLSign, SKI`, async () => {
    const ca = await createCertificateAuthority({ commonName: 'Tessera Test CA', alg, validityDays: 30, now });
    assert.equal(keyAlgorithmOf(ca.keyPem), alg);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(keyMatchesCertificate(ca.keyPem, ca.certPem), true);

    const text = opensslOk(['x509', '-in', 'ca.pem', '-noout', '-text'], { 'ca.pem': ca.certPem });
    assert.match(text, /Subject: O ?= ?Tessera, CN ?= ?Tessera Test CA/);
    assert.match(text, /Issuer: O ?= ?Tessera, CN ?= ?Tessera Test CA/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, alg === 'ec' ? /ecdsa-with-SHA256/ : /sha256WithRSAEncryption/);
    // A self-signed root verifies against itself.
    assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', 'ca.pem'], { 'ca.pem': ca.certPem }), /ca\.pem: OK/);

    const info = parseCertificate(ca.certPem);
    assert.equal(info.commonName, 'Tessera Test CA');
    assert.equal(info.issuerCommonName, 'Tessera Test CA');
    assert.match(info.serialHex, /^[0-7][0-9a-f]{31}$/);
    assert.equal(Math.round((info.notAfter.getTime() - now.getTime()) / 86_400_000), 30);
    assert.ok(info.notBefore.getTime() <= now.getTime());
  });
}

test('loadOrCreateCa writes the key 0600 (no temp files left) and reuses the CA', async () => {
  await withDir(async (dir) => {
    const first = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    assert.equal(statSync(join(dir, 'ca.key.pem')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'ca.key.pem'), 'utf8'), first.keyPem);
    assert.equal(readFileSync(join(dir, 'ca.cert.pem'), 'utf8'), first.certPem);
    assert.deepEqual(readdirSync(dir).sort(), ['ca.cert.pem', 'ca.key.pem']);

    // Options differ on purpose: an existing CA is reused as it is.
    const second = await loadOrCreateCa(dir, { commonName: 'Other', alg: 'rsa', validityDays: 9, now });
    assert.deepEqual(second, first);
  });
});

test('loadOrCreateCa creates a missing directory', async () => {
  await withDir(async (dir) => {
    const nested = join(dir, 'data', 'ca');
    const ca = await loadOrCreateCa(nested, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    assert.equal(keyMatchesCertificate(ca.keyPem, readFileSync(join(nested, 'ca.cert.pem'), 'utf8')), true);
  });
});

test('a key left without its certificate is certified, not replaced', async () => {
  await withDir(async (dir) => {
    const first = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'rsa', validityDays: 1, now });
    unlinkSync(join(dir, 'ca.cert.pem'));
    const again = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    assert.equal(again.keyPem, first.keyPem);
    assert.equal(keyAlgorithmOf(again.keyPem), 'rsa');
    assert.equal(keyMatchesCertificate(again.keyPem, again.certPem), true);
  });
});

test('a certificate without its key, or for another key, is refused rather than overwritten', async () => {
  await withDir(async (dir) => {
    const ca = await loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now });
    unlinkSync(join(dir, 'ca.key.pem'));
    await assert.rejects(loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now }), /ca\.key\.pem does not/);
    assert.equal(readFileSync(join(dir, 'ca.cert.pem'), 'utf8'), ca.certPem);
    assert.equal(existsSync(join(dir, 'ca.key.pem')), false);

    writeFileSync(join(dir, 'ca.key.pem'), generateKeyPair('ec').privateKeyPem, { mode: 0o600 });
    await assert.rejects(loadOrCreateCa(dir, { commonName: 'CA', alg: 'ec', validityDays: 1, now }), /is not the certificate of/);
  });
});

test('concurrent first starts on one directory end with one CA', async () => {
  await withDir(async (dir) => {
    const opts = { commonName: 'CA', alg: 'ec' as const, validityDays: 1, now };
    const results = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateCa(dir, opts)));
    const onDisk = { keyPem: readFileSync(join(dir, 'ca.key.pem'), 'utf8'), certPem: readFileSync(join(dir, 'ca.cert.pem'), 'utf8') };
    for (const r of results) assert.equal(r.keyPem, onDisk.keyPem);
    for (const r of results) assert.equal(keyMatchesCertificate(r.keyPem, r.certPem), true);
    assert.deepEqual(readdirSync(dir).sort(), ['ca.cert.pem', 'ca.key.pem']);
  });
});

test('separate processes starting together on one directory agree on one CA', async () => {
  const caModule = new URL('../src/x509/ca.ts', import.meta.url).href;
  await withDir(async (dir) => {
    const script = `const { loadOrCreateCa } = await import(${JSON.stringify(caModule)});
      const ca = await loadOrCreateCa(${JSON.stringify(dir)}, { commonName: 'CA', alg: 'rsa', validityDays: 1, now: new Date() });
      process.stdout.write(ca.keyPem);`;
    const run = () => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
    });
    const keys = await Promise.all([run(), run(), run(), run()]);
    const onDisk = readFileSync(join(dir, 'ca.key.pem'), 'utf8');
    for (const k of keys) assert.equal(k, onDisk);
    assert.equal(keyMatchesCertificate(onDisk, readFileSync(join(dir, 'ca.cert.pem'), 'utf8')), true);
    assert.deepEqual(readdirSync(dir).sort(), ['ca.cert.pem', 'ca.key.pem']);
  });
});

test('createCertificateAuthority refuses a non-positive validity', async () => {
  await assert.rejects(createCertificateAuthority({ commonName: 'CA', alg: 'ec', validityDays: 0, now }), /validityDays/);
});
