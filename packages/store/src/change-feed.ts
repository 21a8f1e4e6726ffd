/**
 * Reads the change feed (migration 007): the names of the domains changed
 * since the last read, without ever skipping a commit, however long a
 * transaction ran between its first write and its commit.
 *
 * - SQLite has one writer at a time: a transaction holds the write lock from
 *   BEGIN IMMEDIATE to COMMIT (a lone statement, for its duration), so entry
 *   numbers are handed out in commit order and a reader sees a prefix of them.
 *   The cursor is the last number read.
 * - PostgreSQL commits in any order, so numbers alone could skip a late
 *   commit. Each entry keeps its transaction's id; a read takes, in the same
 *   statement (one snapshot), the snapshot's horizon — the oldest transaction
 *   still running (pg_snapshot_xmin), or the next id when none is — and every
 *   entry whose transaction id is at or past the previous read's horizon.
 *   Every transaction below a horizon had ended when that snapshot was taken,
 *   so it was read then or before; one still running is at or past the
 *   horizon and is read once it commits. Entries read at or past the horizon
 *   come back in the next read: they are remembered until the horizon passes
 *   them, and reported once.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';

export interface ChangeFeed {
  /** Moves the cursor to now; call before reading the whole store, whose read then includes everything before it. */
  mark(): Promise<void>;
  /** The domains changed since the last mark or read (each once, deleted ones included). */
  read(): Promise<string[]>;
}

export function changeFeed(db: Kysely<Database>, dialect: Dialect): ChangeFeed {
  return dialect === 'postgres' ? postgresFeed(db) : sqliteFeed(db);
}

function sqliteFeed(db: Kysely<Database>): ChangeFeed {
  let cursor = 0;
  return {
    async mark() {
      const row = await db.selectFrom('domain_changes').select((eb) => eb.fn.max('seq').as('last')).executeTakeFirst();
      cursor = row?.last ?? 0;
    },
    async read() {
      const rows = await db.selectFrom('domain_changes').select(['seq', 'name']).where('seq', '>', cursor).orderBy('seq').execute();
      if (rows.length > 0) cursor = rows[rows.length - 1].seq;
      return [...new Set(rows.map((r) => r.name))];
    },
  };
}

function postgresFeed(db: Kysely<Database>): ChangeFeed {
  /** The horizon of the last read: every transaction before it had ended and been read. */
  let horizon = 0n;
  /** Entries read at or past `horizon` (they come back until it passes them): seq → transaction id. */
  let seen = new Map<number, bigint>();
  return {
    async mark() {
      const { rows } = await sql<{ horizon: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`.execute(db);
      horizon = BigInt(rows[0].horizon);
      seen = new Map();
    },
    async read() {
      // One statement, one snapshot: the horizon and the entries are of the same moment.
      const { rows } = await sql<{ horizon: string; seq: number | null; name: string | null; xid: string | null }>`
        WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS x)
        SELECT h.x::text AS horizon, c.seq, c.name, c.xid::text AS xid
        FROM h LEFT JOIN domain_changes c ON c.xid >= ${horizon.toString()}::xid8
        ORDER BY c.seq`.execute(db);
      const next = BigInt(rows[0].horizon);
      const names = new Set<string>();
      for (const r of rows) {
        if (r.seq === null || r.name === null || r.xid === null || seen.has(r.seq)) continue;
        names.add(r.name);
        const xid = BigInt(r.xid);
        if (xid >= next) seen.set(r.seq, xid);
      }
      for (const [seq, xid] of seen) if (xid < next) seen.delete(seq);
      horizon = next;
      return [...names];
    },
  };
}
