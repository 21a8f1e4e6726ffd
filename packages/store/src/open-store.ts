/**
 * Opens the store: an embedded SQLite file by default, or PostgreSQL for a
 * URL starting with postgres:// or postgresql://. Migrates to the latest schema.
 */
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { migrateToLatest } from './migrate.ts';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, with any password removed (safe to log). */
  location: string;
  /** PostgreSQL pool connections (for metrics); absent on SQLite. */
  poolStats?: () => { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql://(unparseable url)';
  }
}

export interface StoreOptions {
  /**
   * Told about errors on idle PostgreSQL connections (a server restart, a
   * network cut). Without a listener pg would crash the process; the pool
   * replaces the connection on next use.
   */
  onConnectionError?: (e: Error) => void;
  /** Told about every query and failure (Kysely's log hook), for metrics. */
  onQuery?: (e: LogEvent) => void;
}

/** @param target a SQLite file path or a PostgreSQL URL */
export async function openStore(target: string, options: StoreOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let poolStats: Store['poolStats'];
  const log = options.onQuery ? { log: options.onQuery } : {};
  if (isPostgresUrl(target)) {
    dialect = 'postgres';
    // 64-bit counts come back as strings by default; our ids fit in a JS number.
    pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: target, max: 10 });
    pool.on('error', (e) => options.onConnectionError?.(e));
    poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...log });
  } else {
    dialect = 'sqlite';
    const sqlite = new SQLite(target);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }), ...log });
  }
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    db,
    dialect,
    location: dialect === 'postgres' ? redactUrl(target) : target,
    ...(poolStats ? { poolStats } : {}),
    close: () => db.destroy(),
  };
}
