/**
 * nginx (Debian's package) accepts the certificates the DER writer makes: a
 * server certificate it serves and client certificates it verifies
 * (ssl_verify_client on), for EC and RSA CAs and keys. A missing nginx is a
 * failure that says how to install it (scripts/setup.sh does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createCertificateAuthority, type CertificateAuthority } from '../src/x509/ca.ts';
import { issueCertificate, type CertificateUsage } from '../src/x509/issue.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { generateKeyPair, type KeyAlgorithm } from '../src/x509/keys.ts';
import { freePort } from '../src/free-port.ts';
import { daysFromNow, now, withDir } from './x509-support.ts';
import { nginxBinary } from './support/nginx.ts';


/** A key and a certificate for it, issued from a CSR through parseCsr as ZTS does. */
async function issued(ca: CertificateAuthority, alg: KeyAlgorithm, usage: CertificateUsage, subject: { commonName: string; organizationalUnit?: string }, names: { dnsNames?: string[]; ipAddresses?: string[]; uris?: string[] }) {
  const key = generateKeyPair(alg);
  const csr = await parseCsr(await createCsr({ keyPem: key.privateKeyPem, subject, ...names }));
  const { certPem } = await issueCertificate({
    ca, publicKeyPem: csr.publicKeyPem, subject, ...names, notBefore: now, notAfter: daysFromNow(1), usage,
    crlDistributionPoint: 'http://127.0.0.1:1/crl',
  });
  return { keyPem: key.privateKeyPem, certPem };
}

function get(port: number, ca: string, client?: { keyPem: string; certPem: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca, agent: false, ...(client ? { key: client.keyPem, cert: client.certPem } : {}) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

for (const alg of ['ec', 'rsa'] as const) {
  test(`nginx serves a ${alg} server certificate and verifies service and role client certificates`, async () => {
    const nginxBin = nginxBinary();
    const ca = await createCertificateAuthority({ commonName: `nginx ${alg} CA`, alg, validityDays: 2, now });
    const server = await issued(ca, alg, 'server', { commonName: 'localhost' }, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    await withDir(async (dir) => {
      const port = await freePort();
      mkdirSync(join(dir, 'logs'));
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'server.pem'), server.certPem);
      writeFileSync(join(dir, 'server.key'), server.keyPem);
      writeFileSync(join(dir, 'nginx.conf'), `
daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;
    ssl_client_certificate ${dir}/ca.pem;
    ssl_verify_client on;
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn"; }
  }
}
`);
      const nginx = spawn(nginxBin, ['-p', dir, '-e', 'stderr', '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      nginx.stderr.on('data', (d) => (log += d));
      try {
        await listening(port);
        const service = await issued(ca, alg === 'ec' ? 'rsa' : 'ec', 'client-server', { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2' }, { uris: ['spiffe://sports/sa/api'] });
        assert.deepEqual(await get(port, ca.certPem, service), { status: 200, body: 'SUCCESS CN=sports.api,OU=athenz.aws.us-west-2' }, log);
        const role = await issued(ca, alg, 'client', { commonName: 'sports:role.readers' }, { uris: ['spiffe://sports/ra/readers'] });
        assert.deepEqual(await get(port, ca.certPem, role), { status: 200, body: 'SUCCESS CN=sports:role.readers' }, log);

        // A client certificate from another CA, or none, is refused by nginx.
        const stranger = await createCertificateAuthority({ commonName: `nginx ${alg} CA`, alg, validityDays: 2, now });
        const other = await issued(stranger, alg, 'client', { commonName: 'sports.api' }, {});
        const refused = await get(port, ca.certPem, other);
        assert.equal(refused.status, 400);
        assert.match(refused.body, /The SSL certificate error/);
        const none = await get(port, ca.certPem);
        assert.equal(none.status, 400);
        assert.match(none.body, /No required SSL certificate was sent/);
      } finally {
        nginx.kill('SIGTERM');
        await new Promise((r) => nginx.once('exit', r));
      }
    });
  });
}
