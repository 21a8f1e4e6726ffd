/**
 * Serials of revoked certificates, for the CRL. Kept until the certificate
 * expires (a CRL need not list an expired certificate), then dropped. The
 * column types are the same on SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('revoked_certificates')
    .addColumn('serial', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('service', 'varchar(512)', (c) => c.notNull())
    .addColumn('revoked_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('reason', 'varchar(32)', (c) => c.notNull())
    .addColumn('expiry_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revoked_certificates_expiry_idx').on('revoked_certificates').column('expiry_time').execute();
}
