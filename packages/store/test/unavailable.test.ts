/** Which real driver errors count as "database unavailable" (a 503) and which stay bugs (a 500). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { freePort } from '@tessera/core/free-port';
import { isDatabaseUnavailable } from '../src/unavailable.ts';

const caught = async (f: () => unknown): Promise<unknown> => {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

test('PostgreSQL not listening is unavailable', async () => {
  const port = await freePort();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' });
  client.on('error', () => {});
  assert.equal(isDatabaseUnavailable(await caught(() => client.connect())), true);
});

test('SQLite locked by another writer is unavailable; a bad query or constraint is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-unavailable-'));
  const a = new SQLite(join(dir, 'x.db'));
  const b = new SQLite(join(dir, 'x.db'), { timeout: 0 });
  try {
    a.pragma('journal_mode = WAL');
    a.exec('CREATE TABLE t (id integer primary key)');
    a.exec('BEGIN IMMEDIATE');
    const busy = await caught(() => b.exec('BEGIN IMMEDIATE'));
    assert.match((busy as { code: string }).code, /^SQLITE_BUSY/);
    assert.equal(isDatabaseUnavailable(busy), true);
    a.exec('COMMIT');
    assert.equal(isDatabaseUnavailable(await caught(() => a.exec('SELEC 1'))), false);
    a.exec('INSERT INTO t VALUES (1)');
    assert.equal(isDatabaseUnavailable(await caught(() => a.exec('INSERT INTO t VALUES (1)'))), false);
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an ordinary error, or no error at all, is not', () => {
  assert.equal(isDatabaseUnavailable(new Error('Domain not found')), false);
  assert.equal(isDatabaseUnavailable('ECONNREFUSED'), false);
  assert.equal(isDatabaseUnavailable(undefined), false);
});
