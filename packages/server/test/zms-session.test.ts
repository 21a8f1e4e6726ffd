/** Browser sessions: HttpOnly cookie, CSRF on changes, expiry message, logout. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpsJson } from '@tessera/core/https-client';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer('sqlite');
});
after(() => t?.close());

test('login sets an HttpOnly session cookie and a CSRF cookie; changes need the CSRF header', async () => {
  const login = await httpsJson<{ principal: string; csrfToken: string; systemAdmin: boolean }>({
    method: 'POST', url: `${t.url}/session`, ca: t.ca, body: { user: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.principal, 'user.admin');
  assert.equal(login.body.systemAdmin, true);
  const cookies = login.headers['set-cookie'] as string[];
  const session = cookies.find((c) => c.startsWith('tessera_session='))!;
  assert.match(session, /HttpOnly/);
  assert.match(session, /Secure/);
  assert.match(session, /SameSite=Strict/);
  assert.doesNotMatch(cookies.find((c) => c.startsWith('tessera_csrf='))!, /HttpOnly/);
  const cookie = cookies.map((c) => c.split(';')[0]).join('; ');

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    httpsJson<{ message: string }>({ method, url: `${t.url}${path}`, ca: t.ca, body, headers: { cookie, ...headers } });
  assert.equal((await call('GET', '/domain')).status, 200);
  assert.deepEqual((await call('GET', '/session')).body, { principal: 'user.admin', systemAdmin: true });
  // Athenz's ServicePrincipal; the session token is not handed to page scripts.
  assert.deepEqual((await call('GET', '/principal')).body, { domain: 'user', service: 'admin', token: '' });
  const noCsrf = await call('POST', '/domain', { name: 'web', adminUsers: ['user.admin'] });
  assert.equal(noCsrf.status, 403);
  assert.match(noCsrf.body.message, /CSRF token missing or wrong/);
  const wrongCsrf = await call('POST', '/domain', { name: 'web', adminUsers: ['user.admin'] }, { 'x-csrf-token': 'nope' });
  assert.equal(wrongCsrf.status, 403);
  const ok = await call('POST', '/domain', { name: 'web', adminUsers: ['user.admin'] }, { 'x-csrf-token': login.body.csrfToken });
  assert.equal(ok.status, 200, ok.text);

  const forged = await httpsJson<{ message: string }>({ url: `${t.url}/domain`, ca: t.ca, headers: { cookie: `tessera_session=${encodeURIComponent('v=U1;d=user;n=admin;s=forged')}` } });
  assert.equal(forged.status, 401);
  assert.match(forged.body.message, /session has expired: log in again/);

  const logout = await call('DELETE', '/session', undefined, { 'x-csrf-token': login.body.csrfToken });
  assert.equal(logout.status, 204);
  assert.match((logout.headers['set-cookie'] as string[])[0], /Max-Age=0/);
  const bad = await httpsJson({ method: 'POST', url: `${t.url}/session`, ca: t.ca, body: { user: 'admin', password: 'wrong-password' } });
  assert.equal(bad.status, 401);
});
