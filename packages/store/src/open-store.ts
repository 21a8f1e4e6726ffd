/**
 * Opens the store: an embedded SQLite file by default, or PostgreSQL for a
 * URL starting with postgres:// or postgresql://. Migrates to the latest schema.
 */
import {
  CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type Dialect as KyselyDialect, type Driver, type LogEvent, type SqliteDatabase,
} from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { migrateToLatest } from './migrate.ts';
import { fromDatabase } from './unavailable.ts';
import { CHANGES_CHANNEL, REVOCATIONS_CHANNEL } from './migrations/007-change-feed.ts';

/** The dialect with its driver's errors marked as the database's (see unavailable.ts). */
function marked(dialect: KyselyDialect): KyselyDialect {
  return {
    createDriver: () => fromDatabase(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, with any password removed (safe to log). */
  location: string;
  /** PostgreSQL pool connections (for metrics); absent on SQLite. */
  poolStats?: () => { total: number; idle: number; waiting: number };
  /**
   * PostgreSQL only: calls `onChange` when a connection commits a domain
   * change or a revocation (LISTEN on the triggers' channels), and for both
   * after each (re)connection, as changes may have committed while not
   * listening. `url`: where to listen, when not the store's own URL (past a pooler).
   */
  listenForChanges?: (onChange: (what: StoreChange) => void, onError: (e: Error) => void, url?: string) => { close(): Promise<void> };
  close(): Promise<void>;
}

/** What a notification says changed: a domain, or the revoked serials. */
export type StoreChange = 'domains' | 'revocations';

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
   * Told about errors on PostgreSQL connections, idle or in use (a server
   * restart, a network cut). Without a listener pg would crash the process;
   * the query in flight fails (the request gets a 503), the pool drops the
   * connection and opens a new one on next use.
   */
  onConnectionError?: (e: Error) => void;
  /** Told about every query and failure (Kysely's log hook), for metrics. */
  onQuery?: (e: LogEvent) => void;
}

/**
 * Transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE),
 * waiting up to busy_timeout for it. With the default deferred BEGIN, a
 * transaction that reads and then writes fails at once with SQLITE_BUSY when
 * another process (a second worker) wrote in between.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SqliteDatabase) {
    super({ database });
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
}

/**
 * better-sqlite3 with each SQL text prepared once. Kysely prepares every query
 * anew, which costs more than running most of ours; its one SQLite connection
 * runs one query at a time, so a cached statement is never in use twice.
 */
function preparingOnce(sqlite: SQLite.Database, max = 500): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let stmt = statements.get(sql);
      if (!stmt) {
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
        stmt = sqlite.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** @param target a SQLite file path or a PostgreSQL URL */
export async function openStore(target: string, options: StoreOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let poolStats: Store['poolStats'];
  let listenForChanges: Store['listenForChanges'];
  const log = options.onQuery ? { log: options.onQuery } : {};
  if (isPostgresUrl(target)) {
    dialect = 'postgres';
    // 64-bit counts come back as strings by default; our ids fit in a JS number.
    pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
    // connectionTimeoutMillis: during an outage a request fails within seconds instead of waiting forever.
    const pool = new pg.Pool({ connectionString: target, max: 10, connectionTimeoutMillis: 5000, keepAlive: true });
    const report = (e: Error) => options.onConnectionError?.(e);
    // The pool listens on idle clients only; a client checked out for a query or
    // transaction needs its own listener, or its 'error' event ends the process.
    pool.on('connect', (client) => client.on('error', report));
    pool.on('error', report);
    poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    db = new Kysely<Database>({ dialect: marked(new PostgresDialect({ pool })), ...log });
    listenForChanges = (onChange, onError, url) => listen(url ?? target, onChange, onError);
  } else {
    dialect = 'sqlite';
    const sqlite = new SQLite(target);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: marked(new ImmediateSqliteDialect(preparingOnce(sqlite))), ...log });
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
    ...(listenForChanges ? { listenForChanges } : {}),
    close: () => db.destroy(),
  };
}

/** Seconds between attempts to listen again after the connection was lost. */
const LISTEN_RETRY_MS = 1000;

/**
 * A connection of its own (outside the pool) that LISTENs for the change
 * feed's notifications, reconnecting after a loss. Behind a pooler in
 * transaction mode (pgbouncer) LISTEN is accepted but nothing arrives: the
 * snapshots' poll still finds every change, at its own pace.
 */
function listen(target: string, onChange: (what: StoreChange) => void, onError: (e: Error) => void): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: target, connectionTimeoutMillis: 5000, keepAlive: true });
    client = c;
    const lost = (e?: Error) => {
      if (client !== c) return; // already handled ('error' then 'end')
      client = undefined;
      c.end().catch(() => {});
      if (closed) return;
      if (e) onError(e);
      timer = setTimeout(() => void connect(), LISTEN_RETRY_MS);
      timer.unref();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => onChange(n.channel === REVOCATIONS_CHANNEL ? 'revocations' : 'domains'));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}; LISTEN ${REVOCATIONS_CHANNEL}`);
      onChange('domains');
      onChange('revocations');
    } catch (e) {
      lost(e as Error);
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
