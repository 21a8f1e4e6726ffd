/**
 * Attack checklist: ZMS callers who have *some* rights, tried where they have
 * none — a member of a role that may change one role, an admin of another
 * domain, a domain admin under a DENY, a service principal with its
 * certificate, another user's user domain, instance revoke — and tokens
 * that must not work (expired, signed by another key, unsigned). Each
 * refusal asserts the status and the message; each write refused changes
 * nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpsJson } from '@tessera/core/https-client';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { userTokenSigner } from '@tessera/zms/auth/user-tokens';
import { startTestServer, type Client, type TestServer } from '@tessera/server/test/support/test-server';
import { PROVIDER } from './support.ts';

type Reply = Awaited<ReturnType<Client['call']>> & { body: { code: number; message: string } };

let t: TestServer;
/** How far the server's clock is ahead of the real one: moved to expire a token without waiting. */
let clockAhead = 0;
let jane: Client;
let wanda: Client;
let dana: Client;
let mallory: Client;

const denied = (r: Reply, status: number, message: RegExp) => {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(r.body.code, status, r.text);
  assert.match(r.body.message, message);
};

before(async () => {
  t = await startTestServer('sqlite', {}, { now: () => new Date(Date.now() + clockAhead) });
  [jane, wanda, dana, mallory] = await Promise.all(['jane', 'wanda', 'dana', 'mallory'].map((n) => t.user(n)));
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin', 'user.dana'] }],
    ['POST', '/domain', { name: 'weather', adminUsers: ['user.wanda'] }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'user.admin' }] }],
    ['PUT', '/domain/sports/role/locked', { roleMembers: [{ memberName: 'user.admin' }] }],
    // jane may change the readers role, nothing else.
    ['PUT', '/domain/sports/role/editors', { roleMembers: [{ memberName: 'user.jane' }] }],
    ['PUT', '/domain/sports/policy/editors', { assertions: [{ role: 'editors', action: 'update', resource: 'sports:role.readers' }] }],
    // Even the domain's admins may not change the locked role.
    ['PUT', '/domain/sports/policy/lock', { assertions: [{ role: 'admin', action: 'update', resource: 'sports:role.locked', effect: 'DENY' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
});
after(() => t?.close());

const call = (c: Client, method: string, path: string, body?: unknown) => c.call(method, path, body) as Promise<Reply>;
const members = async (role: string) =>
  ((await t.admin.call<{ roleMembers?: { memberName: string }[] }>('GET', `/domain/sports/role/${role}`)).body.roleMembers ?? []).map((m) => m.memberName);

describe('partial rights', () => {
  test('a member of a role allowed to update sports:role.readers changes it, but gets 403 on the admin role, on policies and on the domain', async () => {
    const ok = await call(jane, 'PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'user.admin' }, { memberName: 'user.jane' }] });
    assert.equal(ok.status, 204, ok.text);
    denied(await call(jane, 'PUT', '/domain/sports/role/admin', { roleMembers: [{ memberName: 'user.jane' }] }), 403,
      /putRole: principal user\.jane is not authorized: needs update on sports:role\.admin/);
    denied(await call(jane, 'PUT', '/domain/sports/policy/editors', { assertions: [{ role: 'editors', action: '*', resource: 'sports:*' }] }), 403,
      /putPolicy: principal user\.jane is not authorized: needs update on sports:policy\.editors/);
    denied(await call(jane, 'PUT', '/domain/sports/meta', { description: 'mine now' }), 403, /putDomainMeta: principal user\.jane is not authorized: needs update on sports:/);
    denied(await call(jane, 'DELETE', '/domain/sports/role/readers'), 403, /deleteRole: principal user\.jane is not authorized: needs delete on sports:role\.readers/);
    assert.ok(!(await members('admin')).includes('user.jane'));
  });

  test('an admin of domain weather has no rights in sports', async () => {
    denied(await call(wanda, 'PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'user.wanda' }] }), 403,
      /putRole: principal user\.wanda is not authorized: needs update on sports:role\.readers/);
    denied(await call(wanda, 'DELETE', '/domain/sports/service/api'), 403, /deleteServiceIdentity: principal user\.wanda is not authorized: needs delete on sports:service\.api/);
    denied(await call(wanda, 'PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }), 403,
      /putDomainTemplate: principal user\.wanda is not authorized/);
    assert.ok(!(await members('readers')).includes('user.wanda'));
  });

  test('a DENY assertion overrides the admin role: a domain admin cannot change the locked role', async () => {
    denied(await call(dana, 'PUT', '/domain/sports/role/locked', { roleMembers: [{ memberName: 'user.dana' }] }), 403,
      /putRole: principal user\.dana is not authorized: needs update on sports:role\.locked/);
    assert.deepEqual(await members('locked'), ['user.admin']);
    // The same admin may change the other roles.
    assert.equal((await call(dana, 'PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'user.admin' }] })).status, 204);
  });

  test('a service principal (its mTLS certificate from Tessera’s CA) may read but not write its own domain', async () => {
    const keys = generateKeyPair('ec');
    const now = Date.now();
    const { certPem } = await issueCertificate({
      ca: { certPem: t.server.tls.caCertPem, keyPem: t.server.tls.caKeyPem },
      publicKeyPem: keys.publicKeyPem,
      subject: { commonName: 'sports.api', organizationalUnit: PROVIDER },
      uris: ['spiffe://sports/sa/api'],
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3_600_000),
      usage: 'client-server',
    });
    const asService = (method: string, path: string, body?: unknown) =>
      httpsJson<{ code: number; message: string }>({ method, url: `${t.url}${path}`, body, ca: t.ca, cert: certPem, key: keys.privateKeyPem }) as Promise<Reply>;
    assert.equal((await asService('GET', '/domain/sports')).status, 200);
    denied(await asService('PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }), 403,
      /putRole: principal sports\.api is not authorized: needs update on sports:role\.readers/);
    denied(await asService('PUT', '/domain/sports/service/api/publickey/9', { id: '9', key: 'eA' }), 403,
      /putPublicKeyEntry: principal sports\.api is not authorized: needs update on sports:service\.api/);
  });
});

describe('user domains and instances', () => {
  test('DELETE /userdomain/jane by mallory → 403; by jane → 204', async () => {
    const created = await call(jane, 'POST', '/userdomain/jane', { name: 'jane' });
    assert.equal(created.status, 200, created.text);
    denied(await call(mallory, 'DELETE', '/userdomain/jane'), 403, /deleteUserDomain: principal user\.mallory is not authorized: needs delete on user\.jane:domain/);
    denied(await call(mallory, 'POST', '/userdomain/jane', { name: 'jane' }), 403, /postUserDomain: principal user\.mallory is not authorized: needs create on user\.jane:domain/);
    assert.equal((await call(jane, 'DELETE', '/userdomain/jane')).status, 204);
  });

  test('revoking an instance of sports.api as a user without delete on sports:instance.<id> → 403', async () => {
    denied(await call(jane, 'DELETE', `/domain/sports/service/api/instance/${PROVIDER}/task-1`), 403,
      /revokeInstance: principal user\.jane is not authorized: needs delete on sports:instance\.task-1/);
    denied(await call(wanda, 'DELETE', `/domain/sports/service/api/instance/${PROVIDER}/task-1`), 403, /revokeInstance: principal user\.wanda/);
  });
});

describe('tokens that must not work', () => {
  const withToken = (token: string) =>
    httpsJson<{ code: number; message: string }>({ url: `${t.url}/domain/sports`, ca: t.ca, headers: { authorization: `Bearer ${token}` } }) as Promise<Reply>;
  const serverKey = () => {
    const privateKey = createPrivateKey(readFileSync(join(t.dataDir, 'zms.key.pem')));
    return userTokenSigner(privateKey, createPublicKey(privateKey));
  };

  // Each refusal says why: an expired token is told from one that is forged or malformed.
  const EXPIRED = /^Authentication required: the token expired at \d{4}-\d\d-\d\dT[\d:.]+Z; log in \(GET \/zms\/v1\/user\/_self_\/token\) for a new token$/;
  const BAD_SIGNATURE = /^Authentication required: the token's signature does not verify \(not signed by this server's key, or changed since\)/;
  const MALFORMED = /^Authentication required: the token is malformed \(/;

  test('an expired token (signed by the server’s own key) → 401 that says it expired, and when', async () => {
    const issued = new Date(Date.now() - 2 * 3_600_000);
    const token = serverKey().issue('user.admin', 3600, issued);
    const r = await withToken(token);
    denied(r, 401, EXPIRED);
    assert.ok(r.body.message.includes(new Date(Math.floor(issued.getTime() / 1000) * 1000 + 3_600_000).toISOString()), r.body.message);
  });

  test('a token that worked is refused once it expires (ZMS remembers checked signatures, not their validity)', async () => {
    const token = serverKey().issue('user.admin', 60, new Date());
    assert.equal((await withToken(token)).status, 200);
    // The server's clock passes the token's expiry; no waiting.
    clockAhead = 61_000;
    try {
      denied(await withToken(token), 401, EXPIRED);
    } finally {
      clockAhead = 0;
    }
    assert.equal((await withToken(token)).status, 200, 'valid again on the real clock: the refusal was the expiry alone');
  });

  test('a token signed by another key → 401 that names the signature, not expiry', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    denied(await withToken(userTokenSigner(other.privateKey, other.publicKey).issue('user.admin', 3600, new Date())), 401, BAD_SIGNATURE);
    // Expired and signed by another key: the signature is checked first, and an unverified expiry is not believed.
    denied(await withToken(userTokenSigner(other.privateKey, other.publicKey).issue('user.admin', 60, new Date(Date.now() - 3_600_000))), 401, BAD_SIGNATURE);
  });

  test('a token without a signature, or with its signature cut off → 401 malformed', async () => {
    const good = serverKey().issue('user.admin', 3600, new Date());
    assert.equal((await withToken(good)).status, 200, 'the same key signs tokens that work');
    denied(await withToken(good.slice(0, good.indexOf(';s='))), 401, /^Authentication required: the token is malformed \(no signature field s=\)/);
    denied(await withToken(`${good.slice(0, good.indexOf(';s='))};s=`), 401, MALFORMED);
  });

  test('the Athenz-Principal-Auth header is checked like the bearer token', async () => {
    const viaHeader = (token: string) =>
      httpsJson<{ code: number; message: string }>({ url: `${t.url}/domain/sports`, ca: t.ca, headers: { 'athenz-principal-auth': token } }) as Promise<Reply>;
    const good = serverKey().issue('user.admin', 3600, new Date());
    assert.equal((await viaHeader(good)).status, 200);
    denied(await viaHeader(good.replace('n=admin', 'n=jane')), 401, BAD_SIGNATURE);
  });

  test('a token for a user domain other than user. (a forged d= field) → 401', async () => {
    const forged = serverKey().issue('user.admin', 3600, new Date()).replace('d=user', 'd=sys');
    denied(await withToken(forged), 401, BAD_SIGNATURE);
  });
});
