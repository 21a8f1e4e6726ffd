/**
 * User tokens as Athenz makes and reads them: YBase64 signatures, `?services=`
 * limited to the authorized-services list, tokens signed on top by an
 * authorized service (bk/bs), old base64url tokens, and CORS on the login
 * exchange only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpsJson } from '@tessera/core/https-client';
import { ybase64Decode, ybase64Encode } from '@tessera/core/ybase64';
import { serverConfig } from '../src/server-config.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/test-server.ts';

const UI = 'athenz.ui-server';
const ORIGIN = 'https://ui.example.test:3000';
const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ysign = (data: string, key: KeyObject) => ybase64Encode(createSign('sha256').update(data).sign(key));
/** What Athenz's UI server does with the user's token: `;bk=<key id>;bs=<its signature>`. */
const signOnTop = (token: string, key: KeyObject, keyId = '0', extra = '') => {
  const data = `${token};bk=${keyId}${extra}`;
  return `${data};bs=${ysign(data, key)}`;
};

let t: TestServer;
const uiKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

const getToken = (query: string, headers: Record<string, string> = {}) =>
  httpsJson<{ token: string; message: string }>({ url: `${t.url}/user/_self_/token${query}`, ca: t.ca, headers: { authorization: basicAuth('admin', ADMIN_PASSWORD), ...headers } });
const asToken = (token: string, path = '/principal') =>
  httpsJson<{ domain: string; service: string; message: string }>({ url: `${t.url}${path}`, ca: t.ca, headers: { 'athenz-principal-auth': token } });

before(async () => {
  t = await startTestServer('sqlite', { authorizedServices: `${UI},athenz.other-ui`, corsOrigins: ORIGIN });
  // The domain athenz exists from the start (it holds the AWS providers).
  for (const [name, key] of [['ui-server', uiKeys.publicKey], ['other-ui', otherKeys.publicKey], ['not-listed', uiKeys.publicKey]] as const) {
    const pem = key.export({ type: 'spki', format: 'pem' }).toString();
    const res = await t.admin.call('PUT', `/domain/athenz/service/${name}`, { name: `athenz.${name}`, publicKeys: [{ id: '0', key: ybase64Encode(pem) }] });
    assert.equal(res.status, 204, res.text);
  }
});
after(() => t?.close());

describe('user tokens', () => {
  test('the signature is YBase64 and checks against the published sys.auth.zms key', async () => {
    const res = await getToken('');
    assert.equal(res.status, 200, res.text);
    const { token } = res.body;
    assert.match(token, /^v=U1;d=user;n=admin;a=[0-9a-f]{16};t=\d+;e=\d+;k=0;s=[A-Za-z0-9._]+-{0,2}$/);
    const zms = await t.admin.call<{ publicKeys: { id: string; key: string }[] }>('GET', '/domain/sys.auth/service/zms');
    const key = createPublicKey(ybase64Decode(zms.body.publicKeys.find((k) => k.id === '0')!.key));
    const at = token.indexOf(';s=');
    const sig = token.slice(at + 3).replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '=');
    assert.ok(createVerify('sha256').update(token.slice(0, at)).verify(key, Buffer.from(sig, 'base64')));
    assert.equal((await asToken(token)).status, 200);
  });

  test('tokens issued before in URL-safe base64 stay valid until they expire', async () => {
    const key = createPrivateKey(readFileSync(join(t.dataDir, 'zms.key.pem')));
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `v=U1;d=user;n=admin;a=00112233;t=${now};e=${now + 600}`;
    let legacy = '';
    // A signature that reads differently in the two alphabets (it has a - or _), so the old reading is what counts.
    for (let i = 0; !/[-_]/.test(legacy.slice(legacy.indexOf(';s='))); i++) {
      const u = `${unsigned}${i};k=0`;
      legacy = `${u};s=${createSign('sha256').update(u).sign(key).toString('base64url')}`;
    }
    assert.equal((await asToken(legacy)).status, 200, 'a base64url token of this server');
    const expired = `v=U1;d=user;n=admin;a=00;t=${now - 7200};e=${now - 3600};k=0`;
    assert.equal((await asToken(`${expired};s=${createSign('sha256').update(expired).sign(key).toString('base64url')}`)).status, 401);
  });

  test('?services= puts b= in the token, only for services on the allow-list', async () => {
    const res = await getToken(`?services=${UI}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.token, new RegExp(`;k=0;b=${UI.replace('.', '\\.')};s=`));
    const two = await getToken(`?services=${UI},athenz.other-ui`);
    assert.match(two.body.token, /;b=athenz\.ui-server,athenz\.other-ui;s=/);
    const refused = await getToken(`?services=${UI},athenz.not-listed`);
    assert.equal(refused.status, 401);
    assert.match(refused.body.message, /getUserToken: Service athenz\.not-listed is not authorized in ZMS \(authorized: athenz\.ui-server, athenz\.other-ui\)/);
  });

  test('a b= token is good only with the service\'s signature on top, and the caller is the user', async () => {
    const { token } = (await getToken(`?services=${UI}`)).body;
    const bare = await asToken(token);
    assert.equal(bare.status, 401, 'b= without bs');
    const signed = await asToken(signOnTop(token, uiKeys.privateKey));
    assert.equal(signed.status, 200, signed.body.message);
    assert.deepEqual([signed.body.domain, signed.body.service], ['user', 'admin']);
    assert.equal((await asToken(signOnTop(token, uiKeys.privateKey), '/domain')).status, 200);
    const refused: Record<string, string> = {
      'signed with another key': signOnTop(token, otherKeys.privateKey),
      'an unknown key id': signOnTop(token, uiKeys.privateKey, '1'),
      'a tampered bs': signOnTop(token, uiKeys.privateKey).replace(/;bs=(.)/, (_m, c: string) => `;bs=${c === 'A' ? 'B' : 'A'}`),
      'bn naming a service the token does not': signOnTop(token, otherKeys.privateKey, '0', ';bn=athenz.other-ui'),
      'something after bs': `${signOnTop(token, uiKeys.privateKey)};x=1`,
    };
    for (const [why, value] of Object.entries(refused)) assert.equal((await asToken(value)).status, 401, why);
    // With two services the signer names itself; unnamed, the token is refused.
    const { token: both } = (await getToken(`?services=${UI},athenz.other-ui`)).body;
    assert.equal((await asToken(signOnTop(both, otherKeys.privateKey, '0', ';bn=athenz.other-ui'))).status, 200);
    assert.equal((await asToken(signOnTop(both, otherKeys.privateKey))).status, 401, 'no bn with two services');
    // A service with a registered key but off the allow-list cannot carry a token, even one naming it.
    const zmsKey = createPrivateKey(readFileSync(join(t.dataDir, 'zms.key.pem')));
    const now = Math.floor(Date.now() / 1000);
    const forgedB = `v=U1;d=user;n=admin;a=01;t=${now};e=${now + 600};k=0;b=athenz.not-listed`;
    const offList = `${forgedB};s=${ysign(forgedB, zmsKey)}`;
    assert.equal((await asToken(signOnTop(offList, uiKeys.privateKey))).status, 401, 'service not on the allow-list');
    // A plain token with a service signature appended is refused too.
    const { token: plain } = (await getToken('')).body;
    assert.equal((await asToken(signOnTop(plain, uiKeys.privateKey))).status, 401);
  });
});

describe('CORS on the login exchange only', () => {
  const preflight = (path: string, origin: string) =>
    httpsJson<{ message: string }>({ method: 'OPTIONS', url: `${t.url}${path}`, ca: t.ca, headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });

  test('the preflight from an allowed origin allows GET with credentials', async () => {
    const res = await preflight(`/user/_self_/token?services=${UI}`, ORIGIN);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-allow-methods'], 'GET');
    assert.equal(res.headers['access-control-allow-headers'], 'authorization');
    const get = await getToken(`?services=${UI}`, { origin: ORIGIN });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], ORIGIN);
    const wrongPassword = await httpsJson({ url: `${t.url}/user/_self_/token?services=${UI}`, ca: t.ca, headers: { origin: ORIGIN, authorization: basicAuth('admin', 'nope') } });
    assert.equal(wrongPassword.status, 401);
    assert.equal(wrongPassword.headers['access-control-allow-origin'], ORIGIN, `the page can read the refusal: ${JSON.stringify(wrongPassword.headers)} ${wrongPassword.text}`);
  });

  test('other origins, unlisted services and every other path get no CORS headers', async () => {
    const other = await preflight(`/user/_self_/token?services=${UI}`, 'https://evil.example.test');
    assert.equal(other.status, 403);
    assert.match(other.body.message, /origin https:\/\/evil\.example\.test may not request user tokens/);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const noServices = await preflight('/user/_self_/token', ORIGIN);
    assert.equal(noServices.status, 400);
    assert.match(noServices.body.message, /No authorized services specified/);
    assert.equal((await preflight('/user/_self_/token?services=athenz.not-listed', ORIGIN)).status, 400);
    const otherGet = await getToken(`?services=${UI}`, { origin: 'https://evil.example.test' });
    assert.equal(otherGet.headers['access-control-allow-origin'], undefined);
    for (const path of ['/domain', '/principal', '/session']) {
      const pre = await preflight(path, ORIGIN);
      assert.equal(pre.status, 404, `${path}: ${pre.text}`);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
      const res = await httpsJson({ url: `${t.url}${path}`, ca: t.ca, headers: { origin: ORIGIN, authorization: `Bearer ${t.admin.token}` } });
      assert.equal(res.status, 200);
      for (const h of Object.keys(res.headers)) assert.ok(!h.startsWith('access-control-'), `${path} answered ${h}`);
    }
  });
});

test('the settings: flags and environment, checked', () => {
  const c = serverConfig({}, { TESSERA_AUTHORIZED_SERVICES: 'Athenz.UI-Server, a.b', TESSERA_CORS_ORIGINS: 'https://a.test:3000' });
  assert.deepEqual(c.zms.authorizedServices, ['athenz.ui-server', 'a.b']);
  assert.deepEqual(c.zms.corsOrigins, ['https://a.test:3000']);
  assert.deepEqual(serverConfig({}, {}).zms.corsOrigins, [], 'empty by default');
  assert.deepEqual(serverConfig({ authorizedServices: 'x.y' }, { TESSERA_AUTHORIZED_SERVICES: 'a.b' }).zms.authorizedServices, ['x.y'], 'the flag wins');
  assert.throws(() => serverConfig({ authorizedServices: 'ui-server' }, {}), /full service names/);
  assert.throws(() => serverConfig({ corsOrigins: 'https://a.test/' }, {}), /--cors-origins takes origins/);
  assert.throws(() => serverConfig({ corsOrigins: '*' }, {}), /--cors-origins takes origins/);
});
