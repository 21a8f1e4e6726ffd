/**
 * Sign-in throttling and token revocation. A password change moves the
 * user's `tokens_not_before`; logging out records the session token's id
 * until it would have expired anyway. Throttle counters are shared through
 * the store so that every replica sees the same failures.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('tokens_not_before', 'varchar(32)').execute();

  await db.schema
    .createTable('revoked_tokens')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('expires', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revoked_tokens_expires_idx').on('revoked_tokens').column('expires').execute();

  await db.schema
    .createTable('sign_in_failures')
    .addColumn('key', 'varchar(320)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure', 'varchar(32)', (c) => c.notNull())
    .addColumn('blocked_until', 'varchar(32)')
    .execute();
}
