/**
 * Instance events ZTS records for the people who run a domain:
 * - on a certificate record, who the provider verified (`attested_identity`,
 *   e.g. the STS caller ARN) and the last takeover (a register that replaced
 *   a live record from another address or identity);
 * - per service, the most recent refused register or refresh (one row, upserted).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  for (const [name, type] of [
    ['attested_identity', 'varchar(1024)'],
    ['takeover_time', 'varchar(32)'],
    ['takeover_prev_ip', 'varchar(64)'],
    ['takeover_detail', 'varchar(2048)'],
  ] as const) {
    await db.schema.alterTable('cert_records').addColumn(name, type).execute();
  }
  await db.schema
    .createTable('service_refusals')
    .addColumn('service', 'varchar(512)', (c) => c.primaryKey())
    .addColumn('domain', 'varchar(128)', (c) => c.notNull().references('domains.name').onDelete('cascade'))
    .addColumn('time', 'varchar(32)', (c) => c.notNull())
    .addColumn('provider', 'varchar(512)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('client_ip', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('service_refusals_domain_idx').on('service_refusals').column('domain').execute();
}
