/** Stored history stays bounded (retention.ts), on SQLite and PostgreSQL, with the clock moved forward. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/open-store.ts';
import { pruneHistory, type Retention } from '../src/retention.ts';
import { startTestPostgres } from './support/postgres.ts';

const DAY = 86_400_000;
const RETENTION: Retention = { certRecordsMs: 30 * DAY, auditMs: 400 * DAY };

const backends: { name: string; open: () => Promise<{ store: Store; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-retention-'));
      const store = await openStore(join(dir, 'tessera.db'));
      return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const pg = await startTestPostgres();
      const store = await openStore(pg.url);
      return { store, cleanup: async () => { await store.close(); await pg.stop(); } };
    },
  },
];

for (const backend of backends) {
  describe(`retention on ${backend.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, cleanup } = await backend.open()));
    after(() => cleanup?.());

    test('a year of history, then the clock moved: only what is past its retention goes', async () => {
      const { db } = store;
      // "Now" as the rows are written; the pruner then runs at later times.
      const start = Date.now();
      const iso = (days: number) => new Date(start + days * DAY).toISOString();
      const certRecord = (id: string, lastRefreshDays: number) => ({
        provider: 'athenz.aws.us-west-2', instance_id: id, service: 'sports.api', current_serial: `${id}-1`, current_ip: '10.0.0.1',
        current_time: iso(lastRefreshDays), prev_serial: `${id}-0`, prev_ip: '10.0.0.1', prev_time: iso(lastRefreshDays - 1),
        expiry_time: iso(lastRefreshDays + 7), issued_time: iso(-365), hostname: null, client_cert: 0, sia_provider: null,
      });
      // A year of daily refreshes left one record per instance; two instances stopped refreshing long ago.
      await db.insertInto('cert_records').values([certRecord('live', 0), certRecord('gone-1', -45), certRecord('gone-2', -31)]).execute();
      await db.insertInto('revoked_certificates').values([
        { serial: 'a1', service: 'sports.api', revoked_time: iso(-10), reason: 'keyCompromise', expiry_time: iso(-3) },
        { serial: 'a2', service: 'sports.api', revoked_time: iso(-1), reason: 'keyCompromise', expiry_time: iso(6) },
      ]).execute();
      await db.insertInto('audit_log').values([-500, -401, -30, 0].map((d) => ({
        domain: 'sports', created: iso(d), principal: 'user.admin', api: 'putMembership', details: '{}', audit_ref: null,
      }))).execute();
      await db.insertInto('revoked_tokens').values([{ id: 't-old', expires: iso(-1) }, { id: 't-live', expires: iso(1) }]).execute();
      await db.insertInto('sign_in_failures').values([
        { key: 'ip:10.0.0.9', failures: 3, last_failure: iso(-2), blocked_until: null },
        { key: 'ip:10.0.0.8', failures: 30, last_failure: iso(-2), blocked_until: iso(1) },
        { key: 'user:user.bob', failures: 1, last_failure: iso(0), blocked_until: null },
      ]).execute();
      // Change-feed entries are stamped with the database's own clock, now.
      await db.insertInto('domains').values({
        name: 'sports', id: 'id-sports', description: null, org: null, enabled: 1, audit_enabled: 0, account: null, aws_account_name: null,
        ypm_id: null, product_id: null, application_id: null, cert_dns_domain: null, business_service: null, member_expiry_days: null,
        service_expiry_days: null, token_expiry_mins: null, service_cert_expiry_mins: null, role_cert_expiry_mins: null, sign_algorithm: null,
        created: iso(0), modified: iso(0),
      }).execute();
      await db.updateTable('domains').set({ modified: iso(0) }).where('name', '=', 'sports').execute();

      const names = async () => ({
        certRecords: (await db.selectFrom('cert_records').select('instance_id').orderBy('instance_id').execute()).map((r) => r.instance_id),
        revoked: (await db.selectFrom('revoked_certificates').select('serial').orderBy('serial').execute()).map((r) => r.serial),
        audit: (await db.selectFrom('audit_log').select('created').orderBy('created').execute()).map((r) => Math.round((Date.parse(r.created) - start) / DAY)),
        changes: (await db.selectFrom('domain_changes').select('name').execute()).length,
        tokens: (await db.selectFrom('revoked_tokens').select('id').orderBy('id').execute()).map((r) => r.id),
        failures: (await db.selectFrom('sign_in_failures').select('key').orderBy('key').execute()).map((r) => r.key),
      });

      assert.deepEqual(await pruneHistory(db, new Date(start), RETENTION), {
        certRecords: 2, revokedCertificates: 1, auditRows: 2, changes: 0, revokedTokens: 1, signInFailures: 1,
      });
      assert.deepEqual(await names(), {
        certRecords: ['live'], revoked: ['a2'], audit: [-30, 0], changes: 2, tokens: ['t-live'], failures: ['ip:10.0.0.8', 'user:user.bob'],
      });
      assert.deepEqual(Object.values(await pruneHistory(db, new Date(start), RETENTION)).filter((n) => n > 0), [], 'a second run at the same time finds nothing');

      // Two days later: the change log (kept a day), the token expired since, the counters and the block now over.
      await pruneHistory(db, new Date(start + 2 * DAY), RETENTION);
      assert.deepEqual(await names(), { certRecords: ['live'], revoked: ['a2'], audit: [-30, 0], changes: 0, tokens: [], failures: [] });
      // A year and more later, with no refresh meanwhile: the CRL drops the revocation once the certificate expired, the rest ages out.
      await pruneHistory(db, new Date(start + 401 * DAY), RETENTION);
      assert.deepEqual(await names(), { certRecords: [], revoked: [], audit: [], changes: 0, tokens: [], failures: [] });
    });
  });
}
