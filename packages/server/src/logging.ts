/**
 * The server's logger: one structured line per event (pino), JSON by default
 * and a short readable line on a terminal. Every request gets an id (also
 * sent back as X-Request-Id) and, once authenticated, its principal; request
 * lines are at debug level so `info` shows only what an operator acts on.
 */
import type { TLSSocket } from 'node:tls';
import pino, { type DestinationStream, type Logger } from 'pino';
import { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { pooledRandomBytes } from '@tessera/core/random-pool';
import { tlsPrincipal } from '@tessera/core/x509/tls-principal';

export type LogFormat = 'json' | 'pretty';

export interface LogSettings {
  level: string;
  /** Default: pretty when writing to a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Append to this file instead of writing to stdout. */
  file?: string;
}

export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'json' && value !== 'pretty') throw new Error(`--log-format takes json or pretty, got "${value}"`);
  return value;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// Bindings every line has, left out of the readable form.
const HIDDEN = new Set(['level', 'time', 'msg', 'event', 'pid', 'hostname']);

function plain(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'message' in value) return JSON.stringify((value as Error).message);
  return JSON.stringify(value);
}

/** `12:00:01.123 INFO  cert.issued certificate issued provider=… domain=…` from one JSON line. */
export function readableLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const head = [time, (LEVELS[o.level as number] ?? String(o.level)).padEnd(5)];
  if (o.event) head.push(String(o.event));
  if (o.msg && o.msg !== o.event) head.push(String(o.msg));
  const pairs = Object.entries(o)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${plain(v)}`);
  return `${[...head, ...pairs].join(' ')}\n`;
}

function readableStream(out: DestinationStream): DestinationStream {
  return { write: (line: string) => out.write(readableLine(line)) };
}

export function createLogger(s: LogSettings): Logger {
  const format = s.format ?? (!s.file && process.stdout.isTTY ? 'pretty' : 'json');
  const target = s.file ? pino.destination({ dest: s.file, sync: true, mkdir: true }) : process.stdout;
  return pino(
    {
      level: s.level,
      // Belt and braces: nothing logs headers, and these never may.
      redact: ['req.headers.authorization', 'req.headers["athenz-principal-auth"]', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
    },
    format === 'pretty' ? readableStream(target) : target,
  );
}

/** Fastify options for one app (zms or zts) on the shared logger. */
export function fastifyLogging(logger: Logger, service: string) {
  return {
    loggerInstance: logger.child({ server: service }) as FastifyBaseLogger,
    genReqId: () => pooledRandomBytes(6).toString('hex'),
    // One line per request, written by requestLog below.
    logController: new LogController({ disableRequestLogging: true }),
  };
}

const withPrincipal = new WeakSet<FastifyRequest>();

/** Adds the authenticated principal to the request's logger (once). */
export function logPrincipal(req: FastifyRequest, principal: string | undefined): void {
  if (!principal || withPrincipal.has(req)) return;
  withPrincipal.add(req);
  // The request's logger is its own pino child (with reqId): adding to it costs less than another child.
  (req.log as unknown as Logger).setBindings({ principal });
}

/** An authenticator whose answer also goes onto the request's logger. */
export function logsPrincipal<A extends { principal(req: FastifyRequest): string | undefined }>(auth: A): A {
  return {
    ...auth,
    principal(req: FastifyRequest) {
      const principal = auth.principal(req);
      logPrincipal(req, principal);
      return principal;
    },
  };
}

/**
 * A request line at debug level: method, path without the query, status and
 * time. `tlsPrincipals` names the caller of a verified client certificate up
 * front (ZTS); ZMS adds its principal when it authenticates.
 */
export function requestLog(app: FastifyInstance, options: { tlsPrincipals?: boolean } = {}): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (options.tlsPrincipals) logPrincipal(req, tlsPrincipal(req.raw.socket as TLSSocket));
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug(
      { event: 'request', method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ip: req.ip },
      'request',
    );
  });
}
