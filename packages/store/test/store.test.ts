/** The store on both backends: migrations, cascades, domain data and snapshots. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/open-store.ts';
import { loadDomainEntries, materialize } from '../src/domain-data.ts';
import { DomainSnapshots } from '../src/domain-snapshots.ts';
import { insertRows } from '../src/insert-rows.ts';
import { startTestPostgres } from './support/postgres.ts';

const NOW = '2026-01-01T00:00:00.000Z';

async function seed(store: Store, name: string): Promise<void> {
  const { db } = store;
  await db
    .insertInto('domains')
    .values({
      name, id: `id-${name}`, description: null, org: null, enabled: 1, audit_enabled: 0, account: '123456789012', aws_account_name: null,
      ypm_id: null, product_id: null, application_id: null, cert_dns_domain: null, business_service: null, member_expiry_days: null,
      service_expiry_days: null, token_expiry_mins: null, service_cert_expiry_mins: null, role_cert_expiry_mins: null, sign_algorithm: null,
      created: NOW, modified: NOW,
    })
    .execute();
  await db.insertInto('roles').values({ domain: name, name: 'admin', trust: null, description: null, modified: NOW }).execute();
  await db.insertInto('roles').values({ domain: name, name: 'delegated', trust: 'other', description: null, modified: NOW }).execute();
  await db.insertInto('role_members').values({ domain: name, role: 'admin', member_name: 'user.admin', expiration: null, system_disabled: 0, audit_ref: null }).execute();
  await db.insertInto('policies').values({ domain: name, name: 'admin', description: null, case_sensitive: 0, modified: NOW }).execute();
  await db.insertInto('assertions').values({ domain: name, policy: 'admin', role: `${name}:role.admin`, resource: `${name}:*`, action: '*', effect: 'ALLOW', case_sensitive: 0 }).execute();
  await db.insertInto('services').values({ domain: name, name: 'api', description: 'API', provider_endpoint: null, modified: NOW }).execute();
  await db.insertInto('public_keys').values({ domain: name, service: 'api', key_id: '0', key: 'a2V5' }).execute();
}

const backends: { name: string; open: () => Promise<{ store: Store; target: string; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
      const target = join(dir, 'tessera.db');
      const store = await openStore(target);
      return { store, target, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const pg = await startTestPostgres();
      const store = await openStore(pg.url);
      return { store, target: pg.url, cleanup: async () => { await store.close(); await pg.stop(); } };
    },
  },
];

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    let store: Store;
    let target: string;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, target, cleanup } = await backend.open()));
    after(() => cleanup?.());

    test('opening an up-to-date store again migrates nothing and keeps the data', async () => {
      await store.db.insertInto('users').values({ name: 'user.x', password_hash: 'h', created: NOW, modified: NOW }).execute();
      const again = await openStore(target);
      const users = await again.db.selectFrom('users').select('name').execute();
      await again.close();
      assert.deepEqual(users.map((u) => u.name), ['user.x']);
    });

    test('loads whole domains in the DomainData shape', async () => {
      await seed(store, 'sports');
      const entry = (await loadDomainEntries(store.db, store.dialect, ['sports'])).get('sports');
      const data = entry && materialize(entry);
      assert.ok(data);
      assert.equal(data.account, '123456789012');
      assert.deepEqual(data.roles.map((r) => r.name), ['sports:role.admin', 'sports:role.delegated']);
      assert.deepEqual(data.roles[0].roleMembers, [{ memberName: 'user.admin' }]);
      assert.equal(data.roles[1].trust, 'other');
      assert.equal(data.roles[1].roleMembers, undefined);
      const [policy] = data.policies.contents.policies;
      assert.equal(policy.name, 'sports:policy.admin');
      assert.equal(policy.assertions[0].resource, 'sports:*');
      assert.equal(typeof policy.assertions[0].id, 'number');
      assert.deepEqual(data.services[0].publicKeys, [{ id: '0', key: 'a2V5' }]);
    });

    test('deleting a domain removes everything in it', async () => {
      await seed(store, 'gone');
      await store.db.deleteFrom('domains').where('name', '=', 'gone').execute();
      for (const table of ['roles', 'role_members', 'policies', 'assertions', 'services', 'public_keys'] as const) {
        const rows = await store.db.selectFrom(table).select('domain').where('domain', '=', 'gone').execute();
        assert.equal(rows.length, 0, table);
      }
    });

    test('a failed transaction writes nothing', async () => {
      // Its own domain, so the test means the same run alone or after the others.
      await seed(store, 'rollback');
      let insertedInside = 0;
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('roles').values({ domain: 'rollback', name: 'half', trust: null, description: null, modified: NOW }).execute();
          insertedInside = (await trx.selectFrom('roles').select('name').where('domain', '=', 'rollback').where('name', '=', 'half').execute()).length;
          // The same primary key again: the statement fails and the transaction must roll back the first insert.
          await trx.insertInto('roles').values({ domain: 'rollback', name: 'half', trust: null, description: null, modified: NOW }).execute();
        }),
        /UNIQUE constraint failed: roles\.domain, roles\.name|duplicate key value violates unique constraint "roles_pk"/,
      );
      assert.equal(insertedInside, 1, 'the first insert happened inside the transaction');
      const half = await store.db.selectFrom('roles').select('name').where('domain', '=', 'rollback').where('name', '=', 'half').execute();
      assert.equal(half.length, 0);
    });

    test('snapshots follow the store: changes, new and deleted domains, each a new version', async () => {
      await seed(store, 'snap');
      const snapshots = new DomainSnapshots(store, { pollIntervalMs: 60_000 });
      await snapshots.start();
      try {
        assert.equal(snapshots.get('snap')?.services[0].description, 'API');
        const v0 = snapshots.version;
        assert.ok(v0 > 0);
        await snapshots.refresh();
        assert.equal(snapshots.version, v0, 'no change, same version');
        await store.db.updateTable('services').set({ description: 'changed' }).where('domain', '=', 'snap').execute();
        await store.db.updateTable('domains').set({ modified: '2026-01-02T00:00:00.000Z' }).where('name', '=', 'snap').execute();
        await seed(store, 'fresh');
        await snapshots.refresh();
        assert.equal(snapshots.get('snap')?.services[0].description, 'changed');
        assert.ok(snapshots.get('fresh'));
        assert.ok(snapshots.names().includes('fresh'));
        const v1 = snapshots.version;
        assert.ok(v1 > v0);
        // A delete by plain SQL (not through the API) is seen too: the trigger records it.
        await store.db.deleteFrom('domains').where('name', '=', 'fresh').execute();
        await snapshots.refresh();
        assert.equal(snapshots.get('fresh'), undefined);
        assert.ok(!snapshots.names().includes('fresh'));
        assert.ok(snapshots.version > v1);
      } finally {
        snapshots.stop();
      }
    });

    test('snapshots hold stored text and build the domains asked for: built once, rebuilt after a change, the oldest let go', async () => {
      for (const name of ['built-a', 'built-b', 'built-c']) await seed(store, name);
      await store.db.insertInto('role_members').values({ domain: 'built-b', role: 'admin', member_name: 'user.only-in-b', expiration: '2030-01-01T00:00:00.000Z', system_disabled: 2, audit_ref: null }).execute();
      const snapshots = new DomainSnapshots(store, { pollIntervalMs: 60_000, keepBuilt: 2 });
      await snapshots.start();
      try {
        const a = snapshots.get('built-a');
        assert.equal(snapshots.get('built-a'), a, 'the same object while the domain is unchanged');
        assert.deepEqual(snapshots.summary('built-a'), { name: 'built-a', modified: NOW, enabled: true, auditEnabled: false, account: '123456789012' });
        assert.ok([...snapshots.summaries()].some((d) => d.name === 'built-c' && !('roles' in d)), 'summaries carry no roles');
        // Past two generations of two, the first built is let go; asked again, it is built again, equal.
        for (const name of ['built-b', 'built-c', 'snap', 'built-b']) snapshots.get(name);
        const again = snapshots.get('built-a');
        assert.notEqual(again, a);
        assert.deepEqual(again, a);
        assert.deepEqual(snapshots.get('built-b')?.roles[0].roleMembers, [
          { memberName: 'user.admin' },
          { memberName: 'user.only-in-b', expiration: '2030-01-01T00:00:00.000Z', systemDisabled: 2 },
        ]);
        assert.deepEqual(snapshots.mentioning('user.only-in-b').map((d) => d.name), ['built-b']);
        await store.db.updateTable('roles').set({ description: 'changed' }).where('domain', '=', 'built-a').where('name', '=', 'admin').execute();
        await store.db.updateTable('domains').set({ modified: '2026-01-03T00:00:00.000Z' }).where('name', '=', 'built-a').execute();
        await snapshots.refresh();
        assert.equal(snapshots.get('built-a')?.roles[0].description, 'changed', 'a changed domain is built from its new text');
        assert.equal(snapshots.summary('built-a')?.modified, '2026-01-03T00:00:00.000Z');
      } finally {
        snapshots.stop();
      }
    });

    test('modifiedSince: the domains changed after a time, from the log of changes kept since the first load', async () => {
      await seed(store, 'logged');
      const snapshots = new DomainSnapshots(store, { pollIntervalMs: 60_000 });
      await snapshots.start();
      try {
        const later = '2099-01-01T00:00:00.000Z';
        assert.deepEqual(snapshots.modifiedSince(later), [], 'nothing changed since the first load');
        await store.db.updateTable('domains').set({ modified: later }).where('name', '=', 'logged').execute();
        await snapshots.refresh();
        assert.deepEqual(snapshots.modifiedSince('2098-12-31T23:59:59.999Z')?.map((d) => d.name), ['logged']);
        assert.deepEqual(snapshots.modifiedSince(later), [], 'only what is newer than the time asked');
        assert.equal(snapshots.modifiedSince('2000-01-01T00:00:00.000Z'), undefined, 'older than the log: the caller looks at every domain');

        // Changes arrive nearly, not exactly, in time order: a commit stamped before another may land after it.
        const t = (s: number) => new Date(Date.parse(later) + s * 1000).toISOString();
        for (const [name, s] of [['log-a', 2], ['log-b', 10], ['log-c', 5]] as const) {
          await seed(store, name);
          await store.db.updateTable('domains').set({ modified: t(s) }).where('name', '=', name).execute();
          await snapshots.refresh(name);
        }
        const since = (s: number) => snapshots.modifiedSince(t(s))?.map((d) => d.name);
        assert.deepEqual(since(1), ['log-a', 'log-b', 'log-c']);
        assert.deepEqual(since(3), ['log-b', 'log-c'], 'the late arrival stamped after the time asked');
        assert.deepEqual(since(7), ['log-b']);
        assert.deepEqual(since(10), []);
      } finally {
        snapshots.stop();
        // A domain stamped in 2099 would hide every later change from the next test's polls.
        await store.db.deleteFrom('domains').where('name', 'in', ['logged', 'log-a', 'log-b', 'log-c']).execute();
      }
    });

    test('a replica follows the change feed: a change stamped earlier than the newest, delete and create again', async () => {
      const writer = new DomainSnapshots(store, { pollIntervalMs: 60_000 });
      const replica = new DomainSnapshots(store, { pollIntervalMs: 50 });
      await writer.start();
      await replica.start();
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(ok(), what);
      };
      await seed(store, 'early');
      try {
        const t = (s: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + s * 1000).toISOString();
        await seed(store, 'late');
        await store.db.updateTable('domains').set({ modified: t(10) }).where('name', '=', 'late').execute();
        await until('the replica sees the new domain', () => replica.get('late')?.modified === t(10));
        // Another domain commits with an earlier time than the newest seen (a slow transaction): still found.
        await store.db.updateTable('domains').set({ modified: t(5) }).where('name', '=', 'early').execute();
        await until('the replica sees a change stamped earlier than the newest', () => replica.get('early')?.modified === t(5));
        await store.db.deleteFrom('domains').where('name', '=', 'late').execute();
        await until('the replica drops the deleted domain', () => replica.get('late') === undefined);
        await seed(store, 'late');
        await store.db.updateTable('domains').set({ modified: t(20) }).where('name', '=', 'late').execute();
        await until('the replica sees the domain created again', () => replica.get('late')?.modified === t(20));
        await writer.refresh();
        assert.deepEqual(writer.names(), replica.names());
        // A writer names the domain it changed: reloaded at once, whatever its time.
        await store.db.updateTable('services').set({ description: 'own write' }).where('domain', '=', 'early').execute();
        await store.db.updateTable('domains').set({ modified: '2020-01-01T00:00:00.000Z' }).where('name', '=', 'early').execute();
        await writer.refresh('early');
        assert.equal(writer.get('early')?.services[0].description, 'own write');
        await store.db.deleteFrom('domains').where('name', '=', 'late').execute();
        await writer.refresh('late');
        assert.equal(writer.get('late'), undefined);
      } finally {
        writer.stop();
        replica.stop();
      }
    });

    test('a full load of more domains than one batch has every domain, each as read by its name, its lists in order', async () => {
      // Last in the file: the other tests need not load these. 4,500 domains: three batches of 2,000 or fewer, read two at a time; each with members, roles and keys inserted out of order.
      const names = Array.from({ length: 4500 }, (_, i) => `many${String(i).padStart(4, '0')}`);
      const domain = (name: string) => ({
        name, id: `id-${name}`, description: null, org: null, enabled: 1, audit_enabled: 0, account: null, aws_account_name: null,
        ypm_id: null, product_id: null, application_id: null, cert_dns_domain: null, business_service: null, member_expiry_days: null,
        service_expiry_days: null, token_expiry_mins: null, service_cert_expiry_mins: null, role_cert_expiry_mins: null, sign_algorithm: null,
        created: NOW, modified: NOW,
      });
      await insertRows(store.db, 'domains', names.map(domain));
      await insertRows(store.db, 'roles', names.flatMap((d) => ['writers', 'readers'].map((name) => ({ domain: d, name, trust: null, description: null, modified: NOW }))));
      await insertRows(store.db, 'role_members', names.flatMap((d) => ['user.b', 'user.a'].map((member_name) => ({ domain: d, role: 'readers', member_name, expiration: null, system_disabled: 0, audit_ref: null }))));
      await insertRows(store.db, 'services', names.map((d) => ({ domain: d, name: 'api', description: null, provider_endpoint: null, modified: NOW })));
      await insertRows(store.db, 'public_keys', names.flatMap((d) => ['1', '0'].map((key_id) => ({ domain: d, service: 'api', key_id, key: 'a2V5' }))));
      const snapshots = new DomainSnapshots(store, { pollIntervalMs: 60_000 });
      await snapshots.start();
      try {
        for (const name of names) assert.ok(snapshots.get(name), name);
        const picked = [names[0], names[1999], names[2000], names[4499]];
        const byName = await loadDomainEntries(store.db, store.dialect, picked);
        for (const name of picked) assert.deepEqual(snapshots.get(name), materialize(byName.get(name)!), name);
        const last = snapshots.get(names[4499])!;
        assert.deepEqual(last.roles.map((r) => [r.name, r.roleMembers]), [
          [`${names[4499]}:role.readers`, [{ memberName: 'user.a' }, { memberName: 'user.b' }]],
          [`${names[4499]}:role.writers`, []],
        ]);
        assert.deepEqual(last.policies.contents.policies, []);
        assert.deepEqual(last.services.map((s) => s.publicKeys?.map((k) => k.id)), [['0', '1']]);
      } finally {
        snapshots.stop();
      }
    });
  });
}
