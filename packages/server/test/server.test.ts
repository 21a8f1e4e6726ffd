/** The server as a whole: TLS material, mTLS principals, and the binary run as a process. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsJson } from '@tessera/core/https-client';
import { createCertificateAuthority } from '@tessera/core/x509/ca';
import { clientCertificate } from './support/client-certificate.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const BIN = new URL('../bin/tessera.js', import.meta.url).pathname;

describe('TLS and client certificates', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('sqlite');
  });
  after(() => t?.close());

  test('first start writes the CA, server certificate and keys, private ones 0600', () => {
    for (const f of ['ca.key.pem', 'server.key.pem', 'zms.key.pem']) {
      assert.equal(statSync(join(t.dataDir, f)).mode & 0o777, 0o600, f);
    }
    assert.match(readFileSync(join(t.dataDir, 'ca.cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  });

  test('a client certificate from Tessera\'s CA authenticates as its CN', async () => {
    const ca = { keyPem: t.server.tls.caKeyPem, certPem: t.server.tls.caCertPem };
    const res = await httpsJson<{ domain: string; service: string; token: string }>({ url: `${t.url}/principal`, ca: t.ca, ...(await clientCertificate(ca, { commonName: 'sports.api' })) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { domain: 'sports', service: 'api', token: '' });
  });

  test('a client certificate from another CA is not accepted', async () => {
    const rogue = await createCertificateAuthority({ commonName: 'Rogue', alg: 'ec', validityDays: 1, now: new Date() });
    const res = await httpsJson({ url: `${t.url}/principal`, ca: t.ca, ...(await clientCertificate(rogue, { commonName: 'user.admin' })) });
    assert.equal(res.status, 401);
  });
});

function run(args: string[], env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until && until.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the tessera binary', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-bin-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('serve: prints a generated admin password once, then never again', async () => {
    const env = { TESSERA_ADMIN_PASSWORD: '' };
    const first = await run(['serve', '--data-dir', join(dir, 'serve'), '--zms-port', '0', '--zts-port', '0'], env, / {2}Store {5}\S/);
    const generated = /password: (\S{16,}) {2}\(generated now and shown only once/.exec(first.out)?.[1];
    assert.ok(generated, first.out);
    assert.match(first.out, /ZMS API +https:\/\/localhost:\d+\/zms\/v1/);
    const second = await run(['serve', '--data-dir', join(dir, 'serve'), '--zms-port', '0', '--zts-port', '0'], env, / {2}Store {5}\S/);
    assert.ok(!second.out.includes(generated), 'the generated password is shown only on first start');
    assert.match(second.out, /password: the one set or printed when this data dir was first started/);
    assert.equal(second.code, 0, 'stops cleanly on SIGTERM');
  });

  test('serve: a bad flag is a clear error', async () => {
    const res = await run(['serve', '--data-dir', join(dir, 'bad'), '--zms-port', 'lots'], {});
    assert.equal(res.code, 1);
    assert.match(res.out, /ZMS port must be a port number/);
  });

  test('demo --once runs the whole workflow and exits 0; rerunning is safe', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await run(['demo', '--once', '--data-dir', join(dir, 'demo'), '--zms-port', '0', '--zts-port', '0'], {});
      assert.equal(res.code, 0, res.out);
      assert.match(res.out, /access: granted/);
      assert.match(res.out, /\[fargate\] siad -cmd rolecert/);
      assert.match(res.out, /\[eks\].*sports\.api\.cert\.pem: verified with the CA bundle/);
      assert.match(res.out, /\[daemon\] GET http:\/\/127\.0\.0\.1:\d+\/status → 200 ok/);
      assert.match(res.out, /\[daemon\] SIGTERM → exit 0/);
      assert.match(res.out, /All steps succeeded/);
      assert.doesNotMatch(res.out, /FAILED/);
    }
  });
});
