/**
 * Fast seeding for the ZMS scale benchmark: N domains written straight into
 * the store's tables (through Kysely, so SQLite and PostgreSQL alike) in one
 * transaction, in batches of multi-row INSERTs — 100k domains take seconds,
 * where the API would take an hour. Each domain looks like one made by
 * `POST /domain` plus a little use: an admin role (user.admin) and policy, a
 * `readers` role with three members and its policy, and a service with a key.
 *
 * Run against a store the server has already migrated (so the bootstrap
 * domains exist), with the server stopped: the server loads them on start.
 */
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';

const BATCH = 500;

export function seedName(i: number): string {
  return `bench${String(i).padStart(6, '0')}`;
}

/** Domain i was last modified i seconds after `since` (a spread of times, as real domains have). */
export async function seedDomains(db: Kysely<Database>, count: number, since = new Date(Date.now() - 86_400_000 - count * 1000)): Promise<void> {
  const at = since.toISOString();
  const modifiedAt = (name: string) => new Date(since.getTime() + Number(name.slice(5)) * 1000).toISOString();
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < count; start += BATCH) {
      const names = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => seedName(start + k));
      await trx.insertInto('domains').values(names.map((name) => ({
        name, id: `00000000-0000-4000-8000-${name.slice(5).padStart(12, '0')}`, description: `bench domain ${name}`, org: 'bench',
        enabled: 1, audit_enabled: 0, account: '123456789012', aws_account_name: null, ypm_id: null, product_id: null,
        application_id: null, cert_dns_domain: null, business_service: null, member_expiry_days: null, service_expiry_days: null,
        token_expiry_mins: null, service_cert_expiry_mins: null, role_cert_expiry_mins: null, sign_algorithm: null,
        created: at, modified: modifiedAt(name),
      }))).execute();
      await trx.insertInto('roles').values(names.flatMap((domain) => [
        { domain, name: 'admin', trust: null, description: null, modified: at },
        { domain, name: 'readers', trust: null, description: null, modified: at },
      ])).execute();
      await trx.insertInto('role_members').values(names.flatMap((domain) => [
        { domain, role: 'admin', member_name: 'user.admin', expiration: null, system_disabled: 0, audit_ref: null },
        ...['user.alice', 'user.bob', `${domain}.api`].map((member_name) => ({ domain, role: 'readers', member_name, expiration: null, system_disabled: 0, audit_ref: null })),
      ])).execute();
      await trx.insertInto('policies').values(names.flatMap((domain) => [
        { domain, name: 'admin', description: null, case_sensitive: 0, modified: at },
        { domain, name: 'readers', description: null, case_sensitive: 0, modified: at },
      ])).execute();
      await trx.insertInto('assertions').values(names.flatMap((domain) => [
        { domain, policy: 'admin', role: `${domain}:role.admin`, resource: `${domain}:*`, action: '*', effect: 'ALLOW', case_sensitive: 0 },
        { domain, policy: 'readers', role: `${domain}:role.readers`, resource: `${domain}:data.*`, action: 'read', effect: 'ALLOW', case_sensitive: 0 },
      ])).execute();
      await trx.insertInto('services').values(names.map((domain) => ({ domain, name: 'api', description: null, provider_endpoint: null, modified: at }))).execute();
      await trx.insertInto('public_keys').values(names.map((domain) => ({ domain, service: 'api', key_id: '0', key: 'LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K' }))).execute();
    }
  });
}
