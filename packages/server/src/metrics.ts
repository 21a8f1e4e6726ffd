/**
 * Prometheus metrics of one server process, on a registry passed in (never
 * prom-client's global one). Both ports serve the same registry at /metrics:
 * scrape one port per process.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { CallerIdentityCheck } from '@tessera/zts/providers/aws/sts-identity';
import { ProviderError } from '@tessera/zts/providers/instance-provider';

export interface ServerMetrics {
  registry: Registry;
  requests: Histogram<'service' | 'method' | 'route' | 'status'>;
  certsIssued: Counter<'provider' | 'kind'>;
  certsRefused: Counter<'provider' | 'kind' | 'reason'>;
  caSignatures: Counter<'what'>;
  signIns: Counter<'result'>;
  stsDuration: Histogram<'outcome'>;
  stsFailures: Counter<'reason'>;
  awsCalls: Counter<'call' | 'reason'>;
  dbErrors: Counter;
  dbWriteDuration: Histogram;
}

export interface MetricSources {
  snapshots: DomainSnapshots;
  /** Connections of the PostgreSQL pool; absent on SQLite. */
  pool?: () => { total: number; idle: number; waiting: number };
  /** Resolves true when the database answers (bounded by a short timeout). */
  dbUp: () => Promise<boolean>;
}

export function serverMetrics(registry: Registry): ServerMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const registers = [registry];
  return {
    registry,
    requests: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP requests by service, route pattern and status, with their latency',
      labelNames: ['service', 'method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    certsIssued: new Counter({
      name: 'tessera_certificates_issued_total',
      help: 'Certificates ZTS signed, by provider and kind (register, refresh, role, svid)',
      labelNames: ['provider', 'kind'],
      registers,
    }),
    certsRefused: new Counter({
      name: 'tessera_certificates_refused_total',
      help: 'Certificate requests ZTS refused, by provider, kind and reason (from the status code)',
      labelNames: ['provider', 'kind', 'reason'],
      registers,
    }),
    caSignatures: new Counter({
      name: 'tessera_ca_signatures_total',
      help: 'Signatures made with the CA key, by what was signed (certificate, crl), whether or not the answer reached the caller',
      labelNames: ['what'],
      registers,
    }),
    signIns: new Counter({ name: 'tessera_signins_total', help: 'Password sign-ins by result (success, failure)', labelNames: ['result'], registers }),
    stsDuration: new Histogram({
      name: 'tessera_sts_request_duration_seconds',
      help: 'AWS STS GetCallerIdentity calls ZTS made, by outcome (ok, rejected, unavailable)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    stsFailures: new Counter({
      name: 'tessera_sts_failures_total',
      help: 'STS calls that failed: rejected (STS refused the credentials) or unavailable (slow, down)',
      labelNames: ['reason'],
      registers,
    }),
    awsCalls: new Counter({
      name: 'tessera_zts_aws_calls_total',
      help: 'Calls ZTS made to AWS and to AWS OIDC issuers, by call and reason (sts-attestation: one per STS-attested certificate; the rest fill caches)',
      labelNames: ['call', 'reason'],
      registers,
    }),
    dbErrors: new Counter({ name: 'tessera_db_errors_total', help: 'Database queries that failed', registers }),
    dbWriteDuration: new Histogram({
      name: 'tessera_db_write_duration_seconds',
      help: 'Latency of database writes (INSERT, UPDATE, DELETE)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

/** Gauges read at scrape time: the snapshot, the database, the pool. */
export function stateMetrics(registry: Registry, sources: MetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'tessera_snapshot_domains',
    help: 'Domains in the in-memory snapshot that access decisions read',
    registers,
    collect() {
      this.set(sources.snapshots.names().length);
    },
  });
  new Gauge({
    name: 'tessera_snapshot_age_seconds',
    help: 'Seconds since the domain snapshot last synchronised with the store',
    registers,
    collect() {
      const at = sources.snapshots.lastSync;
      this.set(at ? (Date.now() - at.getTime()) / 1000 : -1);
    },
  });
  new Gauge({
    name: 'tessera_db_up',
    help: '1 when the database answered a probe at scrape time, 0 when not',
    registers,
    async collect() {
      this.set((await sources.dbUp()) ? 1 : 0);
    },
  });
  if (sources.pool) {
    const pool = sources.pool;
    new Gauge({
      name: 'tessera_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = pool();
        this.set({ state: 'total' }, p.total);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'waiting' }, p.waiting);
      },
    });
  }
}

/** The reason label of a refusal: a handful of values, from the HTTP status. */
export function refusalReason(status: number): string {
  const reasons: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthenticated',
    403: 'forbidden',
    404: 'not_found',
    409: 'conflict',
    429: 'throttled',
    503: 'unavailable',
    504: 'upstream_timeout',
  };
  return reasons[status] ?? (status >= 500 ? 'internal' : 'other');
}

/** Times the STS check and counts its failures; the check itself is unchanged. */
export function timedStsCheck(check: CallerIdentityCheck, m: ServerMetrics): CallerIdentityCheck {
  return async (creds) => {
    const end = m.stsDuration.startTimer();
    try {
      const arn = await check(creds);
      end({ outcome: 'ok' });
      return arn;
    } catch (e) {
      const reason = e instanceof ProviderError && e.status === 403 ? 'rejected' : 'unavailable';
      end({ outcome: reason });
      m.stsFailures.inc({ reason });
      throw e;
    }
  };
}

/** Kysely's log hook: database errors and write latency. */
export function queryObserver(m: ServerMetrics) {
  return (e: { level: 'query' | 'error'; queryDurationMillis: number; query: { sql: string } }) => {
    if (e.level === 'error') m.dbErrors.inc();
    else if (/^\s*(insert|update|delete)\b/i.test(e.query.sql)) m.dbWriteDuration.observe(e.queryDurationMillis / 1000);
  };
}

/** GET /metrics in Prometheus' text format, outside the API prefixes. */
export function metricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/** Counts every request by its route pattern (not its path: bounded labels) and status. */
export function requestMetrics(app: FastifyInstance, m: ServerMetrics, service: string): void {
  app.addHook('onResponse', async (req, reply) => {
    m.requests.observe(
      { service, method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
