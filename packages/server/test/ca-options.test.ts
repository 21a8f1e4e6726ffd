/** The CA: EC by default, RSA on request, or an existing CA given as files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority } from '@tessera/core/x509/ca';
import { serverConfig, type ServeFlags } from '../src/server-config.ts';
import { startServer } from '../src/server.ts';

async function withServer(flags: ServeFlags, check: (caPem: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ca-'));
  try {
    const server = await startServer(serverConfig({ dataDir: dir, zmsPort: '0', ztsPort: '0', logLevel: 'error', ...flags }, { TESSERA_ADMIN_PASSWORD: 'ca-test-password' }));
    try {
      check(server.tls.caCertPem);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a created CA is EC P-256 by default and RSA with --ca-key-alg rsa', async () => {
  await withServer({}, (pem) => assert.equal(createPublicKey(pem).asymmetricKeyType, 'ec'));
  await withServer({ caKeyAlg: 'rsa' }, (pem) => {
    const key = createPublicKey(pem);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  });
  assert.throws(() => serverConfig({ caKeyAlg: 'dsa' }, {}), /--ca-key-alg takes ec or rsa/);
});

test('an existing CA given as files is used; a key of another CA is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ca-files-'));
  try {
    const ca = await createCertificateAuthority({ commonName: 'Corp CA', alg: 'ec', validityDays: 30, now: new Date() });
    const other = await createCertificateAuthority({ commonName: 'Other', alg: 'ec', validityDays: 30, now: new Date() });
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem);
    writeFileSync(join(dir, 'other.key'), other.keyPem);
    await withServer({ caCert: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key') }, (pem) => assert.equal(pem, ca.certPem));
    await assert.rejects(
      withServer({ caCert: join(dir, 'ca.pem'), caKey: join(dir, 'other.key') }, () => {}),
      /the key does not belong to the certificate/,
    );
    assert.throws(() => serverConfig({ caCert: join(dir, 'ca.pem') }, {}), /--ca-cert and --ca-key go together/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
