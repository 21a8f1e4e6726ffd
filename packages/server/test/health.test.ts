/**
 * Liveness (/healthz) and readiness (/readyz) on both ports: ready only while
 * the database answers and the CA key signs; 503 with the reason otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpsJson } from '@tessera/core/https-client';
import { createCertificateAuthority } from '@tessera/core/x509/ca';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { openStore } from '@tessera/store/open-store';
import pg from 'pg';
import { readiness } from '../src/health.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

describe('on a running server (PostgreSQL)', () => {
  let t: TestServer;
  const get = (base: string, path: string) => httpsJson<{ code?: number; message?: string; status?: string }>({ url: new URL(path, base).href, ca: t.ca });
  before(async () => {
    t = await startTestServer('postgres');
  });
  after(() => t?.close());

  test('both ports: /healthz and /readyz are 200 without credentials', async () => {
    for (const base of [t.server.zmsUrl, t.server.ztsUrl]) {
      const live = await get(base, '/healthz');
      assert.equal(live.status, 200);
      assert.deepEqual(live.body, { status: 'ok' });
      const ready = await get(base, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
    }
  });

  test('the database goes away: /readyz is 503 naming it, /healthz stays 200', async () => {
    // As a failover or a network cut would: every connection ends, new ones are refused.
    const url = new URL(t.server.store.location);
    const database = url.pathname.slice(1);
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.href });
    await admin.connect();
    try {
      await admin.query(`alter database "${database}" with allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    } finally {
      await admin.end();
    }
    const ready = await get(t.server.ztsUrl, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.code, 503);
    assert.match(ready.body.message!, /^not ready: database unreachable: /);
    assert.equal((await get(t.server.ztsUrl, '/healthz')).status, 200);
  });
});

describe('readiness checks', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(() => pg?.stop());

  test('a CA key that does not match the CA certificate is not ready', async () => {
    const store = await openStore(pg.url);
    try {
      const now = new Date();
      const a = await createCertificateAuthority({ commonName: 'A', alg: 'ec', validityDays: 1, now });
      const b = await createCertificateAuthority({ commonName: 'B', alg: 'ec', validityDays: 1, now });
      assert.equal(await readiness(store.db, a).problem(), undefined);
      assert.equal(await readiness(store.db, { keyPem: b.keyPem, certPem: a.certPem }).problem(), 'the CA key does not match the CA certificate');
      assert.match((await readiness(store.db, { keyPem: 'not a key', certPem: a.certPem }).problem())!, /^the CA key is not loaded: /);
    } finally {
      await store.close();
    }
  });

  test('a database that does not answer in time is not ready', async () => {
    const store = await openStore(pg.url);
    await pg.stop();
    try {
      const a = await createCertificateAuthority({ commonName: 'A', alg: 'ec', validityDays: 1, now: new Date() });
      const problem = await readiness(store.db, a, 1000).problem();
      assert.match(problem!, /^database unreachable: /);
      assert.equal(await readiness(store.db, a, 1000).dbUp(), false);
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});
