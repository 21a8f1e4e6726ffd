/**
 * Running apart on one PostgreSQL: a ZMS-only and a ZTS-only server share the
 * store and key material. Every replica here polls only once a minute, so
 * each change seen within the tests' deadlines was pushed (LISTEN/NOTIFY).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsJson } from '@tessera/core/https-client';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { serverConfig } from '../src/server-config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { ADMIN_PASSWORD } from './support/test-server.ts';

let pg: TestPostgres;
let dir: string;
let zms: RunningServer;
let zts: RunningServer;
/** A minute: far beyond every deadline below. */
const POLL_MS = '60000';
const config = (only: string) =>
  serverConfig({ dataDir: dir, db: pg.url, zmsPort: '0', ztsPort: '0', logLevel: 'error', only, snapshotPollMs: POLL_MS }, { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD });

/** Retries `check` until it holds, for up to 10 s (no timing is asserted: the poll would take a minute). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within 10 s (the poll interval is ${POLL_MS} ms): ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  pg = await startTestPostgres();
  dir = mkdtempSync(join(tmpdir(), 'tessera-replicas-'));
  zms = await startServer(config('zms'));
  zts = await startServer(config('zts'));
});
after(async () => {
  await zts?.close();
  await zms?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('each process serves only its part', () => {
  assert.equal(zms.ztsUrl, '');
  assert.equal(zts.zmsUrl, '');
  assert.match(zms.zmsUrl, /^https:/);
  assert.match(zts.ztsUrl, /^https:/);
});

test('ZTS sees a domain created through ZMS at once, notified', async () => {
  const ca = zms.tls.caCertPem;
  const login = await httpsJson<{ token: string }>({
    url: `${zms.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
  });
  const register = () =>
    httpsJson<{ message: string }>({ method: 'POST', url: `${zts.ztsUrl}/instance`, ca, body: { provider: 'athenz.aws.us-west-2', domain: 'media', service: 'api', csr: 'x', attestationData: 'x' } });
  assert.equal((await register()).status, 404, 'unknown domain before');
  const created = await httpsJson({ method: 'POST', url: `${zms.zmsUrl}/domain`, ca, body: { name: 'media', adminUsers: ['user.admin'] }, headers: { authorization: `Bearer ${login.body.token}` } });
  assert.equal(created.status, 200, created.text);
  await eventually('ZTS learned about the new domain from the shared store', async () => {
    const r = await register();
    return r.status === 400 && /Service not registered/.test(r.body.message);
  });
});

test('a member added or removed through one ZMS replica grants or denies on another at once', async () => {
  const other = await startServer(config('zms'));
  try {
    const ca = zms.tls.caCertPem;
    const login = await httpsJson<{ token: string }>({
      url: `${zms.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    const auth = { authorization: `Bearer ${login.body.token}` };
    const write = async (method: string, path: string, body?: unknown) => {
      const r = await httpsJson({ method, url: `${zms.zmsUrl}${path}`, ca, body, headers: auth });
      assert.ok(r.status < 300, `${method} ${path}: ${r.text}`);
    };
    await write('POST', '/domain', { name: 'pushed', adminUsers: ['user.admin'] });
    await write('PUT', '/domain/pushed/role/readers', { name: 'pushed:role.readers' });
    await write('PUT', '/domain/pushed/policy/readers', {
      name: 'pushed:policy.readers', assertions: [{ role: 'pushed:role.readers', resource: 'pushed:data', action: 'read', effect: 'ALLOW' }],
    });
    const granted = async () => {
      const r = await httpsJson<{ granted: boolean }>({ url: `${other.zmsUrl}/access/read/pushed:data?principal=user.jane`, ca, headers: auth });
      return r.status === 200 && r.body.granted;
    };
    assert.equal(await granted(), false);
    await write('PUT', '/domain/pushed/role/readers/member/user.jane', { memberName: 'user.jane' });
    await eventually('the other replica grants the new member', granted);
    await write('DELETE', '/domain/pushed/role/readers/member/user.jane');
    await eventually('the other replica denies the removed member', async () => !(await granted()));
  } finally {
    await other.close();
  }
});

test('a domain created through one ZMS process can be written through another at once', async () => {
  // Another ZMS replica: the write comes before it could have been notified.
  const other = await startServer(config('zms'));
  try {
    const ca = zms.tls.caCertPem;
    const login = await httpsJson<{ token: string }>({
      url: `${zms.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    const auth = { authorization: `Bearer ${login.body.token}` };
    const created = await httpsJson({ method: 'POST', url: `${zms.zmsUrl}/domain`, ca, body: { name: 'quick', adminUsers: ['user.admin'] }, headers: auth });
    assert.equal(created.status, 200, created.text);
    const put = await httpsJson({ method: 'PUT', url: `${other.zmsUrl}/domain/quick/service/api`, ca, body: { name: 'quick.api' }, headers: auth });
    assert.equal(put.status, 204, put.text);
    const read = await httpsJson<{ name: string }>({ url: `${other.zmsUrl}/domain/quick/service/api`, ca, headers: auth });
    assert.equal(read.body.name, 'quick.api');
    const missing = await httpsJson({ method: 'PUT', url: `${other.zmsUrl}/domain/nosuch/service/api`, ca, body: { name: 'nosuch.api' }, headers: auth });
    assert.equal(missing.status, 404, 'a domain in neither snapshot nor store is still not found');
  } finally {
    await other.close();
  }
});

test('a revocation through the ZMS process is on the ZTS process\'s CRL at once', async () => {
  const ca = zms.tls.caCertPem;
  const login = await httpsJson<{ token: string }>({
    url: `${zms.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
  });
  const auth = { authorization: `Bearer ${login.body.token}` };
  for (const [m, p, b] of [['POST', '/domain', { name: 'crl', adminUsers: ['user.admin'] }], ['PUT', '/domain/crl/service/api', { name: 'crl.api' }]] as const) {
    const r = await httpsJson({ method: m, url: `${zms.zmsUrl}${p}`, ca, body: b, headers: auth });
    assert.ok(r.status < 300, r.text);
  }
  // The record a register would have written (the register path is covered in zts-instances.test.ts).
  const now = Date.now();
  await zms.store.db.insertInto('cert_records').values({
    provider: 'athenz.aws.us-west-2', instance_id: 'task-1', service: 'crl.api', current_serial: '7abc01', current_ip: '10.0.0.1',
    current_time: new Date(now).toISOString(), prev_serial: '7abc00', prev_ip: '10.0.0.1', prev_time: new Date(now - 1000).toISOString(),
    expiry_time: new Date(now + 86_400_000).toISOString(), issued_time: new Date(now).toISOString(), hostname: null, client_cert: 0, sia_provider: null,
  }).execute();
  const crl = async () => (await httpsJson({ url: `${zts.ztsUrl}/crl?format=pem`, ca })).text;
  const serials = (pem: string) => execFileSync('openssl', ['crl', '-noout', '-text'], { input: pem, encoding: 'utf8' });
  assert.doesNotMatch(serials(await crl()), /7ABC01/);
  const del = await httpsJson({ method: 'DELETE', url: `${zms.zmsUrl}/domain/crl/service/api/instance/athenz.aws.us-west-2/task-1`, ca, headers: auth });
  assert.equal(del.status, 204, del.text);
  const text = serials(await crl());
  assert.match(text, /Serial Number: 7ABC01/);
  assert.match(text, /Serial Number: 7ABC00/);
});

test('with listening off, the poll alone still brings the change', async () => {
  const polling = await startServer(
    serverConfig({ dataDir: dir, db: pg.url, zmsPort: '0', ztsPort: '0', logLevel: 'error', only: 'zms', snapshotPollMs: '200', dbListen: 'off' }, { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD }),
  );
  try {
    const ca = zms.tls.caCertPem;
    const login = await httpsJson<{ token: string }>({
      url: `${zms.zmsUrl}/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    const auth = { authorization: `Bearer ${login.body.token}` };
    const created = await httpsJson({ method: 'POST', url: `${zms.zmsUrl}/domain`, ca, body: { name: 'polled', adminUsers: ['user.admin'] }, headers: auth });
    assert.equal(created.status, 200, created.text);
    await eventually('the polling replica lists the new domain', async () => {
      const r = await httpsJson<{ names: string[] }>({ url: `${polling.zmsUrl}/domain`, ca, headers: auth });
      return r.body.names.includes('polled');
    });
  } finally {
    await polling.close();
  }
});

test('--snapshot-poll-ms: the default, the variable, and a clear error for a bad value', () => {
  assert.equal(serverConfig({}, {}).snapshotPollMs, 1000);
  assert.equal(serverConfig({}, { TESSERA_SNAPSHOT_POLL_MS: '250' }).snapshotPollMs, 250);
  assert.equal(serverConfig({ snapshotPollMs: '5000' }, { TESSERA_SNAPSHOT_POLL_MS: '250' }).snapshotPollMs, 5000);
  for (const bad of ['0', '1.5', 'soon', '9999999']) {
    assert.throws(() => serverConfig({ snapshotPollMs: bad }, {}), /--snapshot-poll-ms must be a whole number of milliseconds from 10 to 3600000/);
  }
  assert.equal(serverConfig({}, {}).dbListen, undefined, 'listens on --db');
  assert.equal(serverConfig({}, { TESSERA_DB_LISTEN: 'off' }).dbListen, 'off');
  assert.throws(() => serverConfig({ dbListen: 'localhost:5432' }, {}), /--db-listen takes off or a postgresql:\/\/ URL/);
});

test('--audit-retention-days: 400 by default, a clear error for a bad value', () => {
  assert.equal(serverConfig({}, {}).auditRetentionDays, 400);
  assert.equal(serverConfig({}, { TESSERA_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays, 30);
  assert.throws(() => serverConfig({ auditRetentionDays: '0' }, {}), /--audit-retention-days must be a whole number of days from 1 to 36500, got "0"/);
});
