/**
 * A service's last refused register/refresh keeps a reason code and, as JSON,
 * the facts ZTS established and the values the caller only claimed
 * (`{"facts":{...},"claims":{...}}`); `message` now holds the text with each
 * claimed value quoted, cut and marked. Rows written before held the caller's
 * words verbatim, so they are dropped: the next refusal writes a new one.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM service_refusals`.execute(db);
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('service_refusals').addColumn('reason', 'varchar(64)', (c) => c.notNull().defaultTo('refused')).execute();
  await db.schema.alterTable('service_refusals').addColumn('details', 'text', (c) => c.notNull().defaultTo('{}')).execute();
}
