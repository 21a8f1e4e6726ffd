/**
 * ZMS authorization attacks by callers who hold *some* rights, through the
 * real HTTP interface (mTLS for the service):
 *
 * - a member of a role with narrow rights cannot step outside them;
 * - a service principal can read but not change a domain;
 * - a DENY assertion beats the admin role;
 * - the admin of one domain has no rights in another;
 * - only the owner (or a system admin) deletes a personal domain;
 * - only who may delete an instance can revoke it.
 * Each refusal is checked for status, message, and that nothing changed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpsJson } from '@tessera/core/https-client';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { startTestServer, type Client, type TestServer } from '../../packages/server/test/support/test-server.ts';

type Msg = { code: number; message: string };

let t: TestServer;
let bob: Client;
let carol: Client;
let dave: Client;
let mallory: Client;

async function ok(client: Client, method: string, path: string, body?: unknown): Promise<void> {
  const res = await client.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
}

async function members(role: string): Promise<string[]> {
  const res = await t.admin.call<{ roleMembers?: { memberName: string }[] }>('GET', `/domain/sports/role/${role}`);
  return (res.body.roleMembers ?? []).map((m) => m.memberName).sort();
}

before(async () => {
  t = await startTestServer('sqlite');
  [bob, carol, dave, mallory] = await Promise.all(['bob', 'carol', 'dave', 'mallory'].map((u) => t.user(u)));
  await ok(t.admin, 'POST', '/domain', { name: 'sports', adminUsers: ['user.admin', 'user.carol'] });
  await ok(t.admin, 'POST', '/domain', { name: 'weather', adminUsers: ['user.dave'] });
  await ok(t.admin, 'PUT', '/domain/sports/service/api', { name: 'sports.api' });
  for (const role of ['readers', 'writers', 'denied']) await ok(t.admin, 'PUT', `/domain/sports/role/${role}`, { name: role, roleMembers: [] });
  await ok(t.admin, 'PUT', '/domain/sports/role/writers/member/user.bob', { memberName: 'user.bob' });
  await ok(t.admin, 'PUT', '/domain/sports/role/denied/member/user.carol', { memberName: 'user.carol' });
  // writers may change the readers role, nothing else.
  await ok(t.admin, 'PUT', '/domain/sports/policy/writers', {
    name: 'writers', assertions: [{ role: 'sports:role.writers', action: 'update', resource: 'sports:role.readers' }],
  });
  // carol is an admin, but a DENY of every action takes readers away from her (update and update_members alike).
  await ok(t.admin, 'PUT', '/domain/sports/policy/denied', {
    name: 'denied', assertions: [{ role: 'sports:role.denied', action: '*', resource: 'sports:role.readers', effect: 'DENY' }],
  });
});
after(() => t?.close());

test('a member of a role with update on readers only: may change readers, is refused on the admin role', async () => {
  await ok(bob, 'PUT', '/domain/sports/role/readers/member/user.jane', { memberName: 'user.jane' });
  const res = await bob.call<Msg>('PUT', '/domain/sports/role/admin/member/user.bob', { memberName: 'user.bob' });
  assert.equal(res.status, 403);
  assert.equal(res.body.message, 'putMembership: principal user.bob is not authorized to add members (needs update on sports:role.admin)');
  assert.ok(!(await members('admin')).includes('user.bob'));
  const policy = await bob.call<Msg>('PUT', '/domain/sports/policy/writers', { name: 'writers', assertions: [] });
  assert.equal(policy.status, 403);
  assert.equal(policy.body.message, 'putPolicy: principal user.bob is not authorized: needs update on sports:policy.writers');
});

test('a service principal (mTLS certificate of sports.api) reads the domain but cannot change it', async () => {
  const keys = generateKeyPair('ec');
  const now = new Date();
  const { certPem } = await issueCertificate({
    ca: { keyPem: t.server.tls.caKeyPem, certPem: t.server.tls.caCertPem },
    publicKeyPem: keys.publicKeyPem,
    subject: { commonName: 'sports.api' },
    notBefore: now,
    notAfter: new Date(now.getTime() + 3600_000),
    usage: 'client',
  });
  const call = (method: string, path: string, body?: unknown) =>
    httpsJson<Msg>({ method, url: `${t.url}${path}`, ca: t.ca, cert: certPem, key: keys.privateKeyPem, body });
  assert.equal((await call('GET', '/domain/sports/role/readers')).status, 200);
  const res = await call('PUT', '/domain/sports/role/readers/member/sports.api', { memberName: 'sports.api' });
  assert.equal(res.status, 403);
  assert.equal(res.body.message, 'putMembership: principal sports.api is not authorized to add members (needs update on sports:role.readers)');
  const del = await call('DELETE', '/domain/sports/service/api');
  assert.equal(del.status, 403);
  assert.equal(del.body.message, 'deleteServiceIdentity: principal sports.api is not authorized: needs delete on sports:service.api');
  assert.ok(!(await members('readers')).includes('sports.api'));
});

test('a DENY assertion overrides the admin role', async () => {
  const res = await carol.call<Msg>('PUT', '/domain/sports/role/readers/member/user.carol', { memberName: 'user.carol' });
  assert.equal(res.status, 403);
  assert.equal(res.body.message, 'putMembership: principal user.carol is not authorized to add members (needs update on sports:role.readers)');
  assert.ok(!(await members('readers')).includes('user.carol'));
  // Only what the DENY names is taken away: carol still administers the rest.
  await ok(carol, 'PUT', '/domain/sports/role/writers/member/user.carol', { memberName: 'user.carol' });
});

test('the admin of another domain has no rights in this one', async () => {
  await ok(dave, 'PUT', '/domain/weather/service/radar', { name: 'weather.radar' });
  const res = await dave.call<Msg>('PUT', '/domain/sports/service/radar', { name: 'sports.radar' });
  assert.equal(res.status, 403);
  assert.equal(res.body.message, 'putServiceIdentity: principal user.dave is not authorized: needs update on sports:service.radar');
  const meta = await dave.call<Msg>('PUT', '/domain/sports/meta', { description: 'mine now' });
  assert.equal(meta.status, 403);
  assert.equal(meta.body.message, 'putDomainMeta: principal user.dave is not authorized: needs update on sports:');
  assert.equal((await t.admin.call('GET', '/domain/sports/service/radar')).status, 404);
});

test('only the owner or a system admin deletes a personal domain', async () => {
  await ok(bob, 'POST', '/userdomain/bob', { name: 'bob' });
  const res = await mallory.call<Msg>('DELETE', '/userdomain/bob');
  assert.equal(res.status, 403);
  assert.equal(res.body.message, 'deleteUserDomain: principal user.mallory is not authorized: needs delete on user.bob:domain');
  assert.equal((await bob.call('GET', '/domain/user.bob')).status, 200);
  await ok(bob, 'DELETE', '/userdomain/bob');
  assert.equal((await bob.call('GET', '/domain/user.bob')).status, 404);
});

test('revoking an instance needs delete on <domain>:instance.<id>', async () => {
  const now = new Date().toISOString();
  await t.server.store.db.insertInto('cert_records').values({
    provider: 'athenz.aws.us-west-2', instance_id: 'task-1', service: 'sports.api',
    current_serial: '01ab', current_ip: '10.0.0.1', current_time: now, prev_serial: '01ab', prev_ip: '10.0.0.1', prev_time: now,
    expiry_time: now, issued_time: now, hostname: null, client_cert: 0, sia_provider: null,
  }).execute();
  const path = '/domain/sports/service/api/instance/athenz.aws.us-west-2/task-1';
  for (const who of [mallory, dave, bob]) {
    const res = await who.call<Msg>('DELETE', path);
    assert.equal(res.status, 403);
    assert.match(res.body.message, /^revokeInstance: principal user\.\w+ is not authorized: needs delete on sports:instance\.task-1$/);
  }
  const list = await t.admin.call<{ instances: { instanceId: string }[] }>('GET', '/domain/sports/service/api/instances');
  assert.deepEqual(list.body.instances.map((i) => i.instanceId), ['task-1'], 'still there after the refusals');
  await ok(carol, 'DELETE', path);
  const after = await t.admin.call<{ instances: unknown[] }>('GET', '/domain/sports/service/api/instances');
  assert.equal(after.body.instances.length, 0);
});
