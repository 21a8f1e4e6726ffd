/**
 * Audit lines and their counters, written where the route is known (an
 * onResponse hook), so ZTS and ZMS code stays as it is: every certificate
 * issued or refused, every password sign-in. Each line has a stable `event`:
 * cert.issued, cert.refused, cert.checked (check-only register), signin.success,
 * signin.failure. Only names, ids and the refusal message (which the client
 * also got) are logged: never a CSR, attestation data, password or token.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import { refusalReason, type ServerMetrics } from './metrics.ts';

type Kind = 'register' | 'refresh' | 'role' | 'svid';

const CERT_ROUTES: Record<string, Kind> = {
  'POST /zts/v1/instance': 'register',
  'POST /zts/v1/instance/:provider/:domain/:service/:instanceId': 'refresh',
  'POST /zts/v1/rolecert': 'role',
  'POST /zts/v1/svid': 'svid',
  'POST /zts/v1/domain/:domain/role/:role/token': 'role',
};

const SIGN_IN_ROUTES = new Set(['GET /zms/v1/user/:name/token', 'POST /zms/v1/session']);

const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? ''}`;

/** A short name from the client, or undefined: client input never goes unbounded into a line. */
function short(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v.slice(0, 128) : undefined;
}

function field(obj: unknown, key: string): string | undefined {
  return obj && typeof obj === 'object' ? short((obj as Record<string, unknown>)[key]) : undefined;
}

/** Remembers each failed request's error message for the onResponse hook. */
function errorMessages(app: FastifyInstance): WeakMap<FastifyRequest, string> {
  const messages = new WeakMap<FastifyRequest, string>();
  app.addHook('onError', async (req, _reply, error) => {
    messages.set(req, error.message);
  });
  return messages;
}

export function certificateAudit(app: FastifyInstance, m: ServerMetrics, snapshots: DomainSnapshots): void {
  const errors = errorMessages(app);
  // Provider names come from the client: only ones the store knows become label values.
  const knownProvider = (name: string | undefined) => {
    if (!name) return 'none';
    const domain = name.slice(0, name.lastIndexOf('.'));
    return snapshots.get(domain)?.services.some((s) => s.name === name) ? name : 'unknown';
  };
  app.addHook('onResponse', async (req, reply) => {
    const kind = CERT_ROUTES[routeOf(req)];
    if (!kind) return;
    const params = req.params as Record<string, string>;
    const provider = kind === 'register' ? field(req.body, 'provider') : params.provider;
    const detail = {
      kind,
      provider,
      domain: kind === 'register' ? field(req.body, 'domain') : params.domain,
      service: kind === 'register' ? field(req.body, 'service') : params.service,
      ...(params.instanceId ? { instanceId: params.instanceId } : {}),
      ...(params.role ? { role: params.role } : {}),
      ip: req.ip,
      status: reply.statusCode,
    };
    const ok = reply.statusCode < 300;
    if (req.headers['tessera-check-only'] === 'true') {
      req.log.info({ event: 'cert.checked', ...detail, ...(ok ? {} : { reason: errors.get(req) }) }, ok ? 'check-only register passed' : 'check-only register refused');
      return;
    }
    const label = { provider: kind === 'role' || kind === 'svid' ? kind : knownProvider(provider), kind };
    if (ok) {
      m.certsIssued.inc(label);
      req.log.info({ event: 'cert.issued', ...detail }, 'certificate issued');
    } else {
      m.certsRefused.inc({ ...label, reason: refusalReason(reply.statusCode) });
      req.log.warn({ event: 'cert.refused', ...detail, reason: errors.get(req) }, 'certificate refused');
    }
  });
}

/** The user name of a sign-in: HTTP Basic's user part (never the password) or the session form's user. */
function signInUser(req: FastifyRequest): string | undefined {
  if (req.method === 'POST') return field(req.body, 'user');
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? short(decoded.slice(0, colon)) : undefined;
}

export function signInAudit(app: FastifyInstance, m: ServerMetrics): void {
  const errors = errorMessages(app);
  app.addHook('onResponse', async (req, reply) => {
    if (!SIGN_IN_ROUTES.has(routeOf(req))) return;
    const detail = { user: signInUser(req), ip: req.ip, status: reply.statusCode };
    if (reply.statusCode < 300) {
      m.signIns.inc({ result: 'success' });
      req.log.info({ event: 'signin.success', ...detail }, 'signed in');
    } else {
      m.signIns.inc({ result: 'failure' });
      req.log.warn({ event: 'signin.failure', ...detail, reason: errors.get(req) }, 'sign-in refused');
    }
  });
}
