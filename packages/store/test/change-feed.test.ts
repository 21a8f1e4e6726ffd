/**
 * The change feed (migration 007, change-feed.ts): replicas never miss a
 * commit, however long its transaction stayed open while later ones committed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { openStore, type Store } from '../src/open-store.ts';
import { DomainSnapshots } from '../src/domain-snapshots.ts';
import { startTestPostgres, type TestPostgres } from './support/postgres.ts';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

async function createDomain(store: Store, name: string): Promise<void> {
  await store.db.insertInto('domains').values({
    name, id: `id-${name}`, description: null, org: null, enabled: 1, audit_enabled: 0, account: null, aws_account_name: null,
    ypm_id: null, product_id: null, application_id: null, cert_dns_domain: null, business_service: null, member_expiry_days: null,
    service_expiry_days: null, token_expiry_mins: null, service_cert_expiry_mins: null, role_cert_expiry_mins: null, sign_algorithm: null,
    created: at(0), modified: at(0),
  }).execute();
}

/** Resolves once `ok()` holds, checking on every event-loop turn for up to `ms`; fails naming `what` otherwise. */
async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('change feed on PostgreSQL', () => {
  let server: TestPostgres;
  let writer: Store;
  const replicas: { store: Store; snapshots: DomainSnapshots }[] = [];
  let held: pg.Client;

  before(async () => {
    server = await startTestPostgres();
    writer = await openStore(server.url);
    for (const name of ['slow', 'doomed', ...Array.from({ length: 41 }, (_, i) => `later-${i}`)]) await createDomain(writer, name);
    for (let i = 0; i < 2; i++) {
      const store = await openStore(server.url);
      // No timer poll during the test: each pass below is started by the test itself.
      const snapshots = new DomainSnapshots(store, { pollIntervalMs: 3_600_000 });
      await snapshots.start();
      replicas.push({ store, snapshots });
    }
    held = new pg.Client({ connectionString: server.url });
    await held.connect();
  });
  after(async () => {
    await held?.end().catch(() => {});
    for (const r of replicas) {
      r.snapshots.stop();
      await r.store.close();
    }
    await writer?.close();
    await server?.stop();
  });

  test('a commit held open while 41 later writes commit: every replica sees all of them once it commits', async () => {
    // The slow transaction writes first (taking its id and its time), then stays open.
    await held.query('BEGIN');
    await held.query(`UPDATE domains SET description = 'held', modified = $1 WHERE name = 'slow'`, [at(1)]);
    await held.query(`DELETE FROM domains WHERE name = 'doomed'`);
    // 41 writes commit meanwhile, stamped a minute later, and a new domain appears.
    for (let i = 0; i < 41; i++) {
      await writer.db.updateTable('domains').set({ description: 'later', modified: at(60 + i) }).where('name', '=', `later-${i}`).execute();
    }
    await createDomain(writer, 'newcomer');
    for (const { snapshots } of replicas) {
      await snapshots.refresh();
      for (let i = 0; i < 41; i++) assert.equal(snapshots.get(`later-${i}`)?.description, 'later', 'later commits are seen without waiting for the open one');
      assert.ok(snapshots.get('newcomer'));
      assert.equal(snapshots.get('slow')?.description, undefined, 'not committed yet');
      assert.ok(snapshots.get('doomed'));
    }

    await held.query('COMMIT');
    for (const { snapshots } of replicas) {
      await snapshots.refresh();
      assert.equal(snapshots.get('slow')?.description, 'held', 'the late commit, stamped before the 41 others, is seen');
      assert.equal(snapshots.get('slow')?.modified, at(1));
      assert.equal(snapshots.get('doomed'), undefined, 'its delete too');
      // Each change is reported once: another pass with nothing new changes nothing.
      const version = snapshots.version;
      await snapshots.refresh();
      assert.equal(snapshots.version, version);
    }
  });

  test('a transaction that rolls back holds the feed only while it is open', async () => {
    await held.query('BEGIN');
    await held.query(`UPDATE domains SET description = 'never', modified = $1 WHERE name = 'slow'`, [at(2)]);
    await writer.db.updateTable('domains').set({ description: 'meanwhile', modified: at(200) }).where('name', '=', 'later-0').execute();
    await held.query('ROLLBACK');
    await writer.db.updateTable('domains').set({ description: 'after', modified: at(201) }).where('name', '=', 'later-1').execute();
    for (const { snapshots } of replicas) {
      await snapshots.refresh();
      assert.equal(snapshots.get('slow')?.description, 'held');
      assert.equal(snapshots.get('later-0')?.description, 'meanwhile');
      assert.equal(snapshots.get('later-1')?.description, 'after');
    }
  });

  test('a commit on another connection is notified; the listener comes back after its connection is cut', async () => {
    const heard: string[] = [];
    const errors: Error[] = [];
    const listener = replicas[0].store.listenForChanges!((what) => heard.push(what), (e) => errors.push(e));
    const count = (what: string) => heard.filter((w) => w === what).length;
    try {
      await until('both, once listening', () => count('domains') === 1 && count('revocations') === 1);
      await writer.db.updateTable('domains').set({ description: 'pushed', modified: at(300) }).where('name', '=', 'later-2').execute();
      await until('a notification for the domain commit', () => count('domains') === 2);
      await writer.db.insertInto('revoked_certificates').values([
        { serial: 'c1', service: 'later-2.api', revoked_time: at(300), reason: 'keyCompromise', expiry_time: at(9999) },
        { serial: 'c2', service: 'later-2.api', revoked_time: at(300), reason: 'keyCompromise', expiry_time: at(9999) },
      ]).execute();
      await until('a notification for the revocations', () => count('revocations') === 2);

      // The server ends the listening connection (a restart, a failover): it listens again, and says so.
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`.execute(writer.db);
      await until('listening again after the cut', () => count('domains') === 3 && count('revocations') === 3);
      assert.equal(errors.length, 1, 'the cut is reported');
      await writer.db.updateTable('domains').set({ description: 'pushed again', modified: at(301) }).where('name', '=', 'later-2').execute();
      await until('notified after reconnecting', () => count('domains') === 4);
    } finally {
      await listener.close();
    }
  });
});

describe('change feed on SQLite', () => {
  let dir: string;
  let writer: Store;
  let replica: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-feed-'));
    writer = await openStore(join(dir, 'tessera.db'));
    replica = await openStore(join(dir, 'tessera.db'));
  });
  after(async () => {
    await replica?.close();
    await writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one writer at a time: entries are numbered in commit order, and a replica on another connection follows', async () => {
    await createDomain(writer, 'first');
    const snapshots = new DomainSnapshots(replica, { pollIntervalMs: 3_600_000 });
    await snapshots.start();
    try {
      // A transaction held open keeps every other writer out until it ends (so none can commit past it).
      const other = new SQLite(join(dir, 'tessera.db'));
      other.pragma('busy_timeout = 0');
      other.exec('BEGIN IMMEDIATE');
      other.prepare(`UPDATE domains SET description = 'held', modified = ? WHERE name = 'first'`).run(at(1));
      const blocked = new SQLite(join(dir, 'tessera.db'));
      blocked.pragma('busy_timeout = 0');
      assert.throws(() => blocked.exec('BEGIN IMMEDIATE'), /database is locked/);
      blocked.close();
      other.exec('COMMIT');
      other.close();
      await createDomain(writer, 'second');
      await writer.db.deleteFrom('domains').where('name', '=', 'second').execute();
      await createDomain(writer, 'third');
      const seqs = (await writer.db.selectFrom('domain_changes').select(['seq', 'name']).orderBy('seq').execute()).map((r) => r.name);
      assert.deepEqual(seqs, ['first', 'first', 'second', 'second', 'third'], 'one entry per change, in commit order');

      await snapshots.refresh();
      assert.equal(snapshots.get('first')?.description, 'held');
      assert.equal(snapshots.get('second'), undefined);
      assert.ok(snapshots.get('third'));
      const version = snapshots.version;
      await snapshots.refresh();
      assert.equal(snapshots.version, version, 'nothing reported twice');
    } finally {
      snapshots.stop();
    }
  });
});
