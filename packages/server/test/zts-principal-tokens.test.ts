/**
 * ZTS accepts ZMS user tokens (Athenz-Principal-Auth) as Athenz's default ZTS
 * does: service and public key reads, role tokens and access tokens for the
 * roles the user is in, instance deletion by a domain admin; not a forged,
 * revoked or service-only (b=) token; and not at all with
 * --zts-principal-tokens false.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { httpsJson } from '@tessera/core/https-client';
import { ybase64Encode } from '@tessera/core/ybase64';
import { startTestServer, type TestServer } from './support/test-server.ts';

let t: TestServer;
let jane = '';
let bob = '';
const apiKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

const zts = (method: string, path: string, token: string | undefined, body?: string, server = t) =>
  httpsJson<{ message?: string; token?: string; names?: string[]; key?: string; access_token?: string; error?: string }>({
    method, url: `${server.server.ztsUrl}${path}`, ca: server.ca,
    headers: { ...(token ? { 'athenz-principal-auth': token } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(body ? { body } : {}),
  });

before(async () => {
  t = await startTestServer('sqlite', { authorizedServices: 'athenz.ui-server' });
  const janeClient = await t.user('jane');
  jane = janeClient.token;
  bob = (await t.user('bob')).token;
  const calls: [string, string, unknown][] = [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin', 'user.jane'] }],
    ['PUT', '/domain/sports/role/readers', { name: 'sports:role.readers', roleMembers: [{ memberName: 'user.jane' }] }],
    ['PUT', '/domain/sports/policy/readers', { name: 'sports:policy.readers', assertions: [{ role: 'sports:role.readers', resource: 'sports:books', action: 'read' }] }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api', publicKeys: [{ id: '0', key: ybase64Encode(apiKey) }] }],
  ];
  for (const [method, path, body] of calls) {
    const res = await t.admin.call(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.text}`);
  }
});
after(() => t?.close());

describe('ZTS with a user token', () => {
  test('service and public key reads', async () => {
    const list = await zts('GET', '/domain/sports/service', jane);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.names, ['api']);
    const key = await zts('GET', '/domain/sports/service/api/publickey/0', bob);
    assert.equal(key.status, 200, key.text);
    assert.equal(key.body.key, ybase64Encode(apiKey));
    const none = await zts('GET', '/domain/sports/service', undefined);
    assert.equal(none.status, 401);
    assert.match(none.body.message!, /connect with a client certificate issued by this ZTS, or send a ZMS user token in Athenz-Principal-Auth/);
  });

  test('role tokens and access tokens for the roles the user is in', async () => {
    const role = await zts('GET', '/domain/sports/token?role=readers', jane);
    assert.equal(role.status, 200, role.text);
    assert.match(role.body.token!, /^v=Z1;d=sports;r=readers;p=user\.jane;/);
    assert.equal((await zts('GET', '/domain/sports/token?role=readers', bob)).status, 403, 'bob is in no role');
    const access = await zts('POST', '/oauth2/token', jane, 'grant_type=client_credentials&scope=sports:role.readers');
    assert.equal(access.status, 200, access.text);
    const claims = decodeJwt(access.body.access_token!);
    assert.equal(claims.sub, 'user.jane');
    assert.deepEqual(claims.scp, ['readers']);
    assert.equal(claims.cnf, undefined, 'no certificate to bind to');
    const refused = await zts('POST', '/oauth2/token', bob, 'grant_type=client_credentials&scope=sports:role.readers');
    assert.equal(refused.status, 403, refused.text);
  });

  test('instance deletion by a domain admin (404: no such instance), refused to others (403)', async () => {
    const path = '/instance/athenz.aws.us-west-2/sports/api/i-0123456789';
    const admin = await zts('DELETE', path, jane);
    assert.equal(admin.status, 404, admin.text);
    assert.match(admin.body.message!, /no instance i-0123456789 of sports\.api/);
    const other = await zts('DELETE', path, bob);
    assert.equal(other.status, 403, other.text);
    assert.equal((await zts('DELETE', path, undefined)).status, 401);
  });

  test('forged, re-signed, expired, service-only and revoked tokens are refused', async () => {
    const key = createPrivateKey(readFileSync(join(t.dataDir, 'zms.key.pem')));
    const sign = (u: string) => `${u};s=${ybase64Encode(createSign('sha256').update(u).sign(key))}`;
    const now = Math.floor(Date.now() / 1000);
    const valid = sign(`v=U1;d=user;n=jane;a=01;t=${now};e=${now + 600};k=0`);
    assert.equal((await zts('GET', '/domain/sports/service', valid)).status, 200, 'the hand-made token is good');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const u = `v=U1;d=user;n=jane;a=02;t=${now};e=${now + 600};k=0`;
    const refused: Record<string, string> = {
      'signed with another key': `${u};s=${ybase64Encode(createSign('sha256').update(u).sign(other))}`,
      'an unknown key id': sign(`v=U1;d=user;n=jane;a=03;t=${now};e=${now + 600};k=7`),
      expired: sign(`v=U1;d=user;n=jane;a=04;t=${now - 7200};e=${now - 3600};k=0`),
      'b= without the service signature': sign(`v=U1;d=user;n=jane;a=05;t=${now};e=${now + 600};k=0;b=athenz.ui-server`),
      'a user that does not exist': sign(`v=U1;d=user;n=nobody;a=06;t=${now};e=${now + 600};k=0`),
    };
    for (const [why, token] of Object.entries(refused)) assert.equal((await zts('GET', '/domain/sports/service', token)).status, 401, why);
    // A password change revokes the user's earlier tokens on ZTS too.
    const carl = await t.user('carl');
    assert.equal((await zts('GET', '/domain/sports/service', carl.token)).status, 200);
    assert.equal((await carl.call('PUT', '/user/carl/password', { password: 'carl-new-password' })).status, 204);
    assert.equal((await zts('GET', '/domain/sports/service', carl.token)).status, 401, 'revoked');
  });
});

test('--zts-principal-tokens false: a certificate-only ZTS', async () => {
  const strict = await startTestServer('sqlite', { ztsPrincipalTokens: 'false' });
  try {
    const res = await zts('GET', '/domain/sys.auth/service', strict.admin.token, undefined, strict);
    assert.equal(res.status, 401);
    assert.match(res.body.message!, /this ZTS accepts no user tokens/);
    assert.equal((await zts('POST', '/oauth2/token', strict.admin.token, 'grant_type=client_credentials&scope=sys.auth:domain', strict)).body.error, 'invalid_client');
  } finally {
    await strict.close();
  }
});
