/**
 * Which errors count as "database unavailable" (a 503) and which stay bugs (a
 * 500): real errors from a store whose PostgreSQL was killed or whose SQLite
 * file is locked, next to bad queries and errors from other connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { freePort } from '@tessera/core/free-port';
import { openStore } from '../src/open-store.ts';
import { isDatabaseUnavailable } from '../src/unavailable.ts';
import { startTestPostgres } from './support/postgres.ts';

const caught = async (f: () => unknown): Promise<unknown> => {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

test('PostgreSQL killed: the store\'s errors are unavailable until it is back; a bad query never is', async () => {
  const server = await startTestPostgres({ durable: true });
  const lost: Error[] = [];
  const store = await openStore(server.url, { onConnectionError: (e) => lost.push(e) });
  try {
    const bad = await caught(() => sql`SELEC 1`.execute(store.db));
    assert.match((bad as Error).message, /syntax error/);
    assert.equal(isDatabaseUnavailable(bad), false);

    await server.crash();
    const down = await caught(() => store.db.selectFrom('users').selectAll().execute());
    assert.equal(isDatabaseUnavailable(down), true, String(down));
    assert.ok(lost.length > 0, 'the pooled connection\'s error was reported, not thrown');

    await server.start();
    assert.deepEqual(await store.db.selectFrom('users').selectAll().execute(), [], 'the store reconnects by itself');
  } finally {
    await store.close();
    await server.stop();
  }
});

test('the same socket error from another connection (not the store) is not a database outage', async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'x', database: 'x' });
  client.on('error', () => {});
  const refused = await caught(() => client.connect());
  assert.equal((refused as { code?: string }).code, 'ECONNREFUSED');
  assert.equal(isDatabaseUnavailable(refused), false);
});

test('SQLite locked by another writer past the busy timeout is unavailable; a constraint violation is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-unavailable-'));
  const store = await openStore(join(dir, 'x.db'));
  const other = new SQLite(join(dir, 'x.db'));
  try {
    const user = { name: 'user.x', password_hash: 'h', created: 'c', modified: 'm' };
    await store.db.insertInto('users').values(user).execute();
    const duplicate = await caught(() => store.db.insertInto('users').values(user).execute());
    assert.match((duplicate as { code: string }).code, /^SQLITE_CONSTRAINT/);
    assert.equal(isDatabaseUnavailable(duplicate), false);

    other.exec('BEGIN IMMEDIATE');
    const busy = await caught(() => store.db.transaction().execute((trx) => trx.deleteFrom('users').execute()));
    assert.match((busy as { code: string }).code, /^SQLITE_BUSY/);
    assert.equal(isDatabaseUnavailable(busy), true);
    other.exec('ROLLBACK');
  } finally {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('things that are not errors are not outages', () => {
  assert.equal(isDatabaseUnavailable(new Error('Domain not found')), false);
  assert.equal(isDatabaseUnavailable('ECONNREFUSED'), false);
  assert.equal(isDatabaseUnavailable(undefined), false);
});

test('a store with a query observer runs any number of queries (each connection is wrapped once)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-many-queries-'));
  let observed = 0;
  const store = await openStore(join(dir, 'tessera.db'), { onQuery: () => observed++ });
  try {
    // Each query acquires the connection again; a wrapper per acquire used to stack up until the stack overflowed.
    for (let i = 0; i < 20_000; i++) await sql`select 1`.execute(store.db);
    assert.ok(observed >= 20_000, `every query observed (${observed})`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
