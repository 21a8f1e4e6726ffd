/**
 * Tells "the database cannot be reached right now" apart from a bad query, so
 * that a request in flight during an outage gets a 503 (try again) instead of
 * a 500, on PostgreSQL (pg) and SQLite (better-sqlite3) alike.
 *
 * Only errors raised by the store's own driver count (openStore wraps it with
 * fromDatabase): an ECONNREFUSED from some other connection (STS, a provider)
 * is not a database outage.
 */

/** Node socket errors seen when PostgreSQL is down, restarting or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), class 53 (insufficient
 * resources: disk full, out of memory, too many connections) and 57P01-57P03
 * (the server is shutting down, crashed, or still starting).
 */
const PG_STATE = /^(08|53|57P0[123])/;

/** pg's own messages for a connection that died or never came up. */
const PG_MESSAGE = /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect/i;

/** SQLite: the file is locked by another writer past busy_timeout, unreadable, or the disk is full. */
const SQLITE_CODE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL|NOMEM)/;

const raisedByDatabase = new WeakSet<object>();

/**
 * One wrapper per connection: Kysely patches each connection it has not seen
 * before (for its query log), so a new wrapper for every acquire would stack
 * a patch on the same connection each time, until the call stack overflows.
 */
const wrappedConnections = new WeakMap<object, object>();

function wrapConnection(connection: object): object {
  let wrapped = wrappedConnections.get(connection);
  if (!wrapped) {
    wrapped = fromDatabase(connection);
    wrappedConnections.set(connection, wrapped);
  }
  return wrapped;
}

/** Wraps a Kysely driver (and the connections it hands out) so that the errors it raises are known to come from the database. */
export function fromDatabase<T extends object>(target: T): T {
  const note = (e: unknown) => {
    if (typeof e === 'object' && e !== null) raisedByDatabase.add(e);
    return e;
  };
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const out: unknown = value.apply(t, args);
          if (!(out instanceof Promise)) return out;
          return out.then(
            // The driver's connections raise the query errors.
            (v: unknown) => (key === 'acquireConnection' && typeof v === 'object' && v !== null ? wrapConnection(v) : v),
            (e: unknown) => Promise.reject(note(e)),
          );
        } catch (e) {
          throw note(e);
        }
      };
    },
  });
}

export function isDatabaseUnavailable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && raisedByDatabase.has(e) && isConnectionClass(e);
}

function isConnectionClass(e: unknown, depth = 0): boolean {
  if (!(e instanceof Error) || depth > 3) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLITE_CODE.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_STATE.test(code)) return true;
  }
  if (PG_MESSAGE.test(e.message)) return true;
  // Connecting to a name with several addresses fails with one error per address.
  if (e instanceof AggregateError && e.errors.some((x) => isConnectionClass(x, depth + 1))) return true;
  return isConnectionClass(e.cause, depth + 1);
}
