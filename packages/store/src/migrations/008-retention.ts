/** Indexes for pruning old history by time (retention.ts): audit rows, and records of instances that stopped refreshing. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_log_created_idx').on('audit_log').column('created').execute();
  await db.schema.createIndex('cert_records_current_time_idx').on('cert_records').column('current_time').execute();
}
