import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import pg from 'pg';
import { findPostgresBinaries, startTestPostgres } from './support/postgres.ts';

async function currentDatabase(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ db: string }>('SELECT current_database() AS db');
    return r.rows[0].db;
  } finally {
    await client.end();
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('findPostgresBinaries', () => {
  it('finds initdb and postgres', () => {
    const bin = findPostgresBinaries();
    assert.match(bin.initdb, /initdb$/);
    assert.match(bin.postgres, /postgres$/);
  });

  it('says to run npm run setup when PostgreSQL is missing', () => {
    assert.throws(() => findPostgresBinaries('/nonexistent', '/nonexistent/bin'), /npm run setup/);
  });
});

describe('startTestPostgres', () => {
  it('starts a server, answers a query, stops and removes its directory', async () => {
    const server = await startTestPostgres();
    try {
      assert.match(server.url, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/tessera_test$/);
      assert.ok(existsSync(server.dir));
      assert.equal(await currentDatabase(server.url), 'tessera_test');
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(server.dir), false);
    assert.equal(await portOpen(server.port), false);
    await server.stop(); // a second stop is harmless
  });

  it('stops with a client still connected', async () => {
    const server = await startTestPostgres();
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {}); // the server ends this session on shutdown
    await client.connect();
    await client.query('CREATE TABLE t (id int)');
    await server.stop();
    assert.equal(existsSync(server.dir), false);
    await client.end().catch(() => {});
  });

  it('runs two servers side by side, each with its own data', async () => {
    const [a, b] = await Promise.all([startTestPostgres(), startTestPostgres()]);
    try {
      assert.notEqual(a.port, b.port);
      const ca = new pg.Client({ connectionString: a.url });
      await ca.connect();
      await ca.query('CREATE TABLE only_in_a (id int)');
      await ca.end();
      const cb = new pg.Client({ connectionString: b.url });
      await cb.connect();
      const r = await cb.query("SELECT to_regclass('only_in_a') AS t");
      await cb.end();
      assert.equal(r.rows[0].t, null);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
