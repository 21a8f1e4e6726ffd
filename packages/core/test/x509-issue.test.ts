/** Issuing certificates from CSRs, checked with the real openssl binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCertificateAuthority, type CertificateAuthority } from '../src/x509/ca.ts';
import { issueCertificate, issueServerTlsCertificate } from '../src/x509/issue.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { generateKeyPair, keyMatchesCertificate } from '../src/x509/keys.ts';
import { parseCertificate, splitPemBundle, verifyIssuedBy } from '../src/x509/certificate.ts';
import { ApiError } from '../src/errors.ts';
import { daysFromNow, now, openssl, opensslOk } from './x509-support.ts';

const PROVIDER = 'athenz.aws.us-west-2';
const DNS = ['api.sports.aws.athenz.cloud', 'i-0abc.instanceid.athenz.aws.athenz.cloud'];
const URIS = ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/i-0abc`];

const cas: Record<'ec' | 'rsa', Promise<CertificateAuthority>> = {
  ec: createCertificateAuthority({ commonName: 'EC Test CA', alg: 'ec', validityDays: 30, now }),
  rsa: createCertificateAuthority({ commonName: 'RSA Test CA', alg: 'rsa', validityDays: 30, now }),
};

const is400 = (e: unknown) => e instanceof ApiError && e.status === 400;

for (const caAlg of ['ec', 'rsa'] as const) {
  for (const keyAlg of ['ec', 'rsa'] as const) {
    test(`${caAlg} CA signs a client-server certificate from a ${keyAlg} CSR`, async () => {
      const ca = await cas[caAlg];
      const key = generateKeyPair(keyAlg);
      const csr = await parseCsr(await createCsr({
        keyPem: key.privateKeyPem, subject: { commonName: 'sports.api', organizationalUnit: PROVIDER }, dnsNames: DNS, uris: URIS,
      }));
      assert.equal(csr.signatureValid, true);

      const notBefore = new Date(now.getTime() - 1234); // any sub-second part is dropped: X.509 times are whole seconds
      const issued = await issueCertificate({
        ca, publicKeyPem: csr.publicKeyPem, subject: { commonName: csr.commonName, organizationalUnit: csr.organizationalUnit },
        dnsNames: csr.dnsNames, uris: csr.uris, ipAddresses: ['10.0.0.7'], notBefore, notAfter: daysFromNow(7), usage: 'client-server',
      });
      assert.match(issued.serialHex, /^[0-7][0-9a-f]{31}$/);

      const files = { 'ca.pem': ca.certPem, 'c.pem': issued.certPem };
      assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', 'c.pem'], files), /c\.pem: OK/);
      assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'c.pem'], files), /c\.pem: OK/);
      assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'c.pem'], files), /c\.pem: OK/);

      const text = opensslOk(['x509', '-in', 'c.pem', '-noout', '-text'], files);
      assert.match(text, /Subject: OU ?= ?athenz\.aws\.us-west-2, CN ?= ?sports\.api/);
      assert.match(text, new RegExp(`Issuer: O ?= ?Tessera, CN ?= ?${caAlg.toUpperCase()} Test CA`));
      assert.match(text, /DNS:api\.sports\.aws\.athenz\.cloud, DNS:i-0abc\.instanceid\.athenz\.aws\.athenz\.cloud/);
      assert.match(text, /IP Address:10\.0\.0\.7/);
      assert.match(text, /URI:spiffe:\/\/sports\/sa\/api, URI:athenz:\/\/instanceid\/athenz\.aws\.us-west-2\/i-0abc/);
      assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, keyAlg === 'rsa'
        ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/
        : /X509v3 Key Usage: critical\s+Digital Signature\n/);
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      assert.match(text, caAlg === 'ec' ? /Signature Algorithm: ecdsa-with-SHA256/ : /Signature Algorithm: sha256WithRSAEncryption/);

      const dates = opensslOk(['x509', '-in', 'c.pem', '-noout', '-startdate', '-enddate', '-serial'], files);
      const start = new Date(/notBefore=(.+)/.exec(dates)![1]);
      const end = new Date(/notAfter=(.+)/.exec(dates)![1]);
      assert.equal(start.getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
      assert.equal(end.getTime(), Math.floor(daysFromNow(7).getTime() / 1000) * 1000);
      assert.deepEqual([issued.notBefore, issued.notAfter], [start, end]);
      assert.equal(/serial=(\w+)/.exec(dates)![1].toLowerCase(), issued.serialHex);

      const info = parseCertificate(issued.certPem);
      assert.equal(info.commonName, 'sports.api');
      assert.equal(info.organizationalUnit, PROVIDER);
      assert.equal(info.issuerCommonName, `${caAlg.toUpperCase()} Test CA`);
      assert.equal(info.serialHex, issued.serialHex);
      assert.deepEqual(info.dnsNames, DNS);
      assert.deepEqual(info.uris, URIS);
      assert.deepEqual(info.ipAddresses, ['10.0.0.7']);
      assert.deepEqual([info.notBefore, info.notAfter], [start, end]);

      assert.equal(await verifyIssuedBy(issued.certPem, ca.certPem), true);
      assert.equal(await verifyIssuedBy(issued.certPem, (await cas[caAlg === 'ec' ? 'rsa' : 'ec']).certPem), false);
      assert.equal(keyMatchesCertificate(key.privateKeyPem, issued.certPem), true);
      assert.equal(keyMatchesCertificate(generateKeyPair(keyAlg).privateKeyPem, issued.certPem), false);
    });
  }
}

test('usage picks the extended key usage; role certificates are client-only', async () => {
  const ca = await cas.ec;
  const key = generateKeyPair('ec');
  const issue = (usage: 'client' | 'server') => issueCertificate({
    ca, publicKeyPem: key.publicKeyPem, subject: { commonName: 'sports:role.readers' },
    uris: ['spiffe://sports/ra/readers'], notBefore: now, notAfter: daysFromNow(1), usage,
  });
  const client = await issue('client');
  const clientText = opensslOk(['x509', '-in', 'c.pem', '-noout', '-ext', 'extendedKeyUsage'], { 'c.pem': client.certPem });
  assert.match(clientText, /TLS Web Client Authentication/);
  assert.doesNotMatch(clientText, /Server/);
  assert.equal(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'c.pem'], { 'ca.pem': ca.certPem, 'c.pem': client.certPem }).ok, false);

  const server = await issue('server');
  const serverText = opensslOk(['x509', '-in', 'c.pem', '-noout', '-ext', 'extendedKeyUsage'], { 'c.pem': server.certPem });
  assert.match(serverText, /TLS Web Server Authentication/);
  assert.doesNotMatch(serverText, /Client/);
  assert.notEqual(client.serialHex, server.serialHex);
});

test('a certificate from another CA of the same kind does not verify', async () => {
  const other = await createCertificateAuthority({ commonName: 'EC Test CA', alg: 'ec', validityDays: 1, now });
  const issued = await issueCertificate({
    ca: other, publicKeyPem: generateKeyPair('ec').publicKeyPem, subject: { commonName: 'x' }, notBefore: now, notAfter: daysFromNow(1), usage: 'client',
  });
  // Same issuer name, different key: only the signature tells them apart.
  assert.equal(await verifyIssuedBy(issued.certPem, (await cas.ec).certPem), false);
  assert.equal(openssl(['verify', '-CAfile', 'ca.pem', 'c.pem'], { 'ca.pem': (await cas.ec).certPem, 'c.pem': issued.certPem }).ok, false);
});

test('notAfter is capped at the CA notAfter; an empty validity is a 400', async () => {
  const ca = await cas.rsa;
  const caNotAfter = parseCertificate(ca.certPem).notAfter;
  const publicKeyPem = generateKeyPair('ec').publicKeyPem;
  const base = { ca, publicKeyPem, subject: { commonName: 'sports.api' }, usage: 'client-server' as const };
  const long = await issueCertificate({ ...base, notBefore: now, notAfter: daysFromNow(400) });
  assert.deepEqual(parseCertificate(long.certPem).notAfter, caNotAfter);
  assert.deepEqual(long.notAfter, caNotAfter);
  await assert.rejects(issueCertificate({ ...base, notBefore: now, notAfter: now }), is400);
  await assert.rejects(issueCertificate({ ...base, notBefore: daysFromNow(1), notAfter: now }), is400);
});

test('bad SAN values and bad public keys are 400s', async () => {
  const ca = await cas.ec;
  const base = { ca, publicKeyPem: generateKeyPair('ec').publicKeyPem, subject: { commonName: 'sports.api' }, notBefore: now, notAfter: daysFromNow(1), usage: 'client' as const };
  await assert.rejects(issueCertificate({ ...base, ipAddresses: ['10.0.0.300'] }), is400);
  await assert.rejects(issueCertificate({ ...base, dnsNames: ['has space.example.com'] }), is400);
  await assert.rejects(issueCertificate({ ...base, dnsNames: ['bücher.example'] }), is400);
  await assert.rejects(issueCertificate({ ...base, uris: [''] }), is400);
  await assert.rejects(issueCertificate({ ...base, publicKeyPem: 'nope' }), is400);
});

test('the dev TLS server certificate covers localhost and loopback IPs', async () => {
  const ca = await cas.ec;
  const server = await issueServerTlsCertificate(ca, { hostnames: ['localhost', 'build-host', 'localhost'], ips: ['127.0.0.1', '::1'], validityDays: 365, now });
  assert.equal(keyMatchesCertificate(server.keyPem, server.certPem), true);
  const files = { 'ca.pem': ca.certPem, 's.pem': server.certPem };
  assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 's.pem'], files), /s\.pem: OK/);
  for (const check of [['-verify_hostname', 'localhost'], ['-verify_hostname', 'build-host'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
    assert.match(opensslOk(['verify', '-CAfile', 'ca.pem', ...check, 's.pem'], files), /s\.pem: OK/, check.join(' '));
  }
  assert.equal(openssl(['verify', '-CAfile', 'ca.pem', '-verify_hostname', 'example.com', 's.pem'], files).ok, false);
  const info = parseCertificate(server.certPem);
  assert.equal(info.commonName, 'localhost');
  assert.deepEqual(info.dnsNames, ['localhost', 'build-host']);
  assert.deepEqual(info.ipAddresses, ['127.0.0.1', '::1']);
  // Capped at the 30-day CA.
  assert.deepEqual(info.notAfter, parseCertificate(ca.certPem).notAfter);
});

test('splitPemBundle returns each certificate; parseCertificate rejects garbage with a 400', async () => {
  const bundle = `${(await cas.ec).certPem}\r\n${(await cas.rsa).certPem}`;
  const parts = splitPemBundle(bundle);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts.map((p) => parseCertificate(p).commonName), ['EC Test CA', 'RSA Test CA']);
  assert.deepEqual(splitPemBundle('no certificates here'), []);
  assert.throws(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), is400);
  assert.throws(() => parseCertificate(''), is400);
});
