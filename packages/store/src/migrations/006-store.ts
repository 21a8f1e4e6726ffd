/**
 * What lets the domain snapshots follow the store without reading every
 * domain on every poll: an index on domains.modified (the poll reads only
 * domains changed since the last one), and a record of deleted domains,
 * written by a trigger so that any delete — the API's or an operator's SQL —
 * reaches every replica within a poll. Deletion records older than a day are
 * pruned by the same trigger.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.createIndex('domains_modified_idx').on('domains').column('modified').execute();
  await db.schema
    .createTable('domain_deletions')
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('deleted', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('domain_deletions_deleted_idx').on('domain_deletions').column('deleted').execute();

  if (dialect === 'sqlite') {
    const now = sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
    const dayAgo = sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')`);
    await sql`CREATE TRIGGER domains_deleted AFTER DELETE ON domains BEGIN
      INSERT INTO domain_deletions (name, deleted) VALUES (OLD.name, ${now});
      DELETE FROM domain_deletions WHERE deleted < ${dayAgo};
    END`.execute(db);
  } else {
    const iso = (t: string) => `to_char((${t}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await sql.raw(`CREATE FUNCTION tessera_domain_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO domain_deletions (name, deleted) VALUES (OLD.name, ${iso('clock_timestamp()')});
        DELETE FROM domain_deletions WHERE deleted < ${iso(`clock_timestamp() - interval '1 day'`)};
        RETURN OLD;
      END $$`).execute(db);
    await sql`CREATE TRIGGER domains_deleted AFTER DELETE ON domains FOR EACH ROW EXECUTE FUNCTION tessera_domain_deleted()`.execute(db);
  }
}
