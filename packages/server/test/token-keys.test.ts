/**
 * Token signing keys across restarts and a rotation: the key id stays the
 * same after a restart; after the documented rotation (rename current.key.pem,
 * restart) new tokens carry the new key id and a token signed before still
 * verifies against the JWKS, which publishes both keys.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { httpsJson } from '@tessera/core/https-client';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { serverConfig } from '../src/server-config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { ADMIN_PASSWORD } from './support/test-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-token-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const start = () =>
  startServer(serverConfig({ dataDir: dir, zmsPort: '0', ztsPort: '0', logLevel: 'error' }, { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD }));

async function keys(s: RunningServer): Promise<JSONWebKeySet> {
  return (await httpsJson<JSONWebKeySet>({ url: `${s.ztsUrl}/oauth2/keys?rfc=true`, ca: s.tls.caCertPem })).body;
}

/** A token for sports.api (a member of sports:role.readers), with a certificate from the server's CA. */
async function token(s: RunningServer, client: { cert: string; key: string }): Promise<string> {
  const res = await httpsJson<{ access_token: string }>({
    method: 'POST', url: `${s.ztsUrl}/oauth2/token`, ca: s.tls.caCertPem, ...client,
    body: 'grant_type=client_credentials&scope=sports:role.readers', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

test('key ids survive a restart; a rotation keeps the previous key published', async () => {
  let s = await start();
  const ca = s.tls.caCertPem;
  const login = await httpsJson<{ token: string }>({
    url: `${s.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
  });
  for (const [m, p, b] of [['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }], ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }]] as const) {
    const r = await httpsJson({ method: m, url: `${s.zmsUrl}${p}`, ca, body: b, headers: { authorization: `Bearer ${login.body.token}` } });
    assert.ok(r.status < 300, r.text);
  }
  const key = generateKeyPair('ec');
  const now = Date.now();
  const { certPem } = await issueCertificate({
    ca: { certPem: ca, keyPem: s.tls.caKeyPem }, publicKeyPem: key.publicKeyPem, subject: { commonName: 'sports.api' },
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), usage: 'client',
  });
  const client = { cert: certPem, key: key.privateKeyPem };
  const keysDir = join(dir, 'token-keys');
  assert.equal(statSync(join(keysDir, 'current.key.pem')).mode & 0o777, 0o600);

  const first = await keys(s);
  assert.equal(first.keys.length, 1);
  let old = '';
  for (let i = 0; i < 50 && !old; i++) {
    try {
      old = await token(s, client);
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // the role reaches ZTS's snapshot
    }
  }
  assert.ok(old, 'a token once the role has reached ZTS');
  assert.equal(decodeProtectedHeader(old).kid, first.keys[0].kid);
  await s.close();

  s = await start();
  assert.deepEqual(await keys(s), first, 'the same key and key id after a restart');
  await s.close();

  // The rotation of docs/relying-party.md.
  renameSync(join(keysDir, 'current.key.pem'), join(keysDir, 'previous-1.key.pem'));
  s = await start();
  try {
    const rotated = await keys(s);
    assert.equal(rotated.keys.length, 2);
    assert.equal(rotated.keys[1].kid, first.keys[0].kid, 'the previous key is still published');
    assert.notEqual(rotated.keys[0].kid, first.keys[0].kid);
    assert.deepEqual(readdirSync(keysDir).sort(), ['current.key.pem', 'previous-1.key.pem']);
    const fresh = await token(s, client);
    assert.equal(decodeProtectedHeader(fresh).kid, rotated.keys[0].kid, 'new tokens are signed with the new key');
    const jwks = createLocalJWKSet(rotated);
    await jwtVerify(fresh, jwks);
    await jwtVerify(old, jwks); // signed before the rotation, still valid
    assert.notEqual(readFileSync(join(keysDir, 'current.key.pem'), 'utf8'), readFileSync(join(keysDir, 'previous-1.key.pem'), 'utf8'));
  } finally {
    await s.close();
  }
});
