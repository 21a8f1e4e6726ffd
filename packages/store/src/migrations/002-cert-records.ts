/**
 * ZTS certificate records, keyed like Athenz's X509CertRecord by (provider,
 * instance id, service). Serials are hex strings; "-1" marks a revoked instance.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cert_records')
    .addColumn('provider', 'varchar(512)', (c) => c.notNull())
    .addColumn('instance_id', 'varchar(512)', (c) => c.notNull())
    .addColumn('service', 'varchar(512)', (c) => c.notNull())
    .addColumn('current_serial', 'varchar(128)', (c) => c.notNull())
    .addColumn('current_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('current_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('prev_serial', 'varchar(128)', (c) => c.notNull())
    .addColumn('prev_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('prev_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('expiry_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('issued_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('hostname', 'varchar(512)')
    .addColumn('client_cert', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sia_provider', 'varchar(64)')
    .addPrimaryKeyConstraint('cert_records_pk', ['provider', 'instance_id', 'service'])
    .execute();
  await db.schema.createIndex('cert_records_service_idx').on('cert_records').column('service').execute();
}
