/**
 * The change feed the domain snapshots follow (see docs/store.md, "Domain
 * snapshots"): a trigger on `domains` appends the name of every inserted,
 * updated or deleted domain to `domain_changes`, in the writing transaction,
 * so a change by the API or by an operator's SQL is in the feed exactly when
 * it is committed. Every domain write updates its `domains` row (its
 * `modified` time), so every domain write is in the feed.
 *
 * - SQLite: `seq` (AUTOINCREMENT, never reused after pruning) is the commit
 *   order, as one writer at a time holds the lock from BEGIN IMMEDIATE to COMMIT.
 * - PostgreSQL: ids are taken at the first statement and commit in any order,
 *   so each entry also keeps its transaction's id (`xid`, pg_current_xact_id(),
 *   64-bit: it never wraps). The reader reads by the snapshot horizon
 *   (change-feed.ts). The trigger also sends a NOTIFY, which PostgreSQL
 *   delivers at commit, once per transaction; so does a revocation (another
 *   channel), for ZTS's list of revoked serials.
 *
 * `at` (the database's clock) is for pruning. This replaces 006's
 * domain_deletions: a delete is an entry whose domain no longer exists.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** The LISTEN/NOTIFY channel the trigger signals on commit. */
export const CHANGES_CHANNEL = 'tessera_domain_changes';
/** Signalled on commit of a new revoked serial (PostgreSQL), so ZTS refuses it on every replica at once. */
export const REVOCATIONS_CHANNEL = 'tessera_revocations';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') {
    await sql`DROP TRIGGER domains_deleted`.execute(db);
    await sql`CREATE TABLE domain_changes (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      name varchar(128) NOT NULL,
      at varchar(32) NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )`.execute(db);
    for (const [event, row] of [['INSERT', 'NEW'], ['UPDATE', 'NEW'], ['DELETE', 'OLD']] as const) {
      await sql.raw(`CREATE TRIGGER domains_changed_${event.toLowerCase()} AFTER ${event} ON domains BEGIN
        INSERT INTO domain_changes (name) VALUES (${row}.name);
      END`).execute(db);
    }
  } else {
    await sql`DROP TRIGGER domains_deleted ON domains`.execute(db);
    await sql`DROP FUNCTION tessera_domain_deleted()`.execute(db);
    await sql`CREATE TABLE domain_changes (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name varchar(128) NOT NULL,
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      at varchar(32) NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    )`.execute(db);
    await sql`CREATE INDEX domain_changes_xid_idx ON domain_changes (xid)`.execute(db);
    await sql.raw(`CREATE FUNCTION tessera_domain_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO domain_changes (name) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
        PERFORM pg_notify('${CHANGES_CHANNEL}', '');
        RETURN NULL;
      END $$`).execute(db);
    await sql`CREATE TRIGGER domains_changed AFTER INSERT OR UPDATE OR DELETE ON domains FOR EACH ROW EXECUTE FUNCTION tessera_domain_changed()`.execute(db);
    await sql.raw(`CREATE FUNCTION tessera_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${REVOCATIONS_CHANNEL}', '');
        RETURN NULL;
      END $$`).execute(db);
    await sql`CREATE TRIGGER certificates_revoked AFTER INSERT ON revoked_certificates FOR EACH STATEMENT EXECUTE FUNCTION tessera_revoked()`.execute(db);
  }
  await db.schema.createIndex('domain_changes_at_idx').on('domain_changes').column('at').execute();
  await db.schema.dropTable('domain_deletions').execute();
}
