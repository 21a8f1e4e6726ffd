/**
 * What ZTS records for the people who run a domain, beyond the certificate
 * records: instance id takeovers (a register that replaced a live record
 * from another client address or attested identity) and the most recent
 * refused register or refresh of each service.
 */
import type { Kysely } from 'kysely';
import type { ApiError } from '@tessera/core/errors';
import { keptClaim } from '@tessera/core/explained';
import type { Database } from '@tessera/store/schema';
import type { ZtsContext } from './context.ts';
import { REVOKED, type CertRecord } from './cert-records.ts';
import { isRegisteredProvider } from './launch-authorization.ts';

/** The part of a logger ZTS uses (Fastify's req.log fits). */
export interface WarnLog {
  warn(obj: object, msg: string): void;
}

export interface Takeover {
  time: string;
  previousIp: string;
  currentIp: string;
  detail: string;
}

/**
 * A register replaces `previous` (Athenz's upsert). It is a takeover when the
 * record was live (unexpired, not revoked) and the new request comes from
 * another address or another attested identity.
 */
export function takeoverOf(
  previous: CertRecord | undefined,
  current: { ip: string; identity: string | undefined; time: Date },
): Takeover | undefined {
  if (!previous || previous.current_serial === REVOKED || Date.parse(previous.expiry_time) <= current.time.getTime()) return undefined;
  const otherIp = previous.current_ip !== current.ip;
  const otherIdentity = !!previous.attested_identity && !!current.identity && previous.attested_identity !== current.identity;
  if (!otherIp && !otherIdentity) return undefined;
  const why = [
    otherIp ? `client address ${previous.current_ip} → ${current.ip}` : '',
    otherIdentity ? `attested identity ${previous.attested_identity} → ${current.identity}` : '',
  ].filter(Boolean);
  return {
    time: current.time.toISOString(),
    previousIp: previous.current_ip,
    currentIp: current.ip,
    detail: `registered again while its certificate (expires ${previous.expiry_time}) was live: ${why.join('; ')}`,
  };
}

/** The takeover in the domain's audit history and the log. */
export async function recordTakeover(
  db: Kysely<Database>,
  log: WarnLog,
  t: Takeover & { domain: string; service: string; provider: string; instanceId: string },
): Promise<void> {
  const details = { takeover: { provider: t.provider, instanceId: t.instanceId, previousIp: t.previousIp, currentIp: t.currentIp, detail: t.detail } };
  await db
    .insertInto('audit_log')
    .values({ domain: t.domain, created: t.time, principal: `${t.domain}.${t.service}`, api: 'postInstanceRegisterInformation', details: JSON.stringify(details), audit_ref: null })
    .execute();
  log.warn({ service: `${t.domain}.${t.service}`, ...details.takeover }, `instance id ${t.instanceId} of ${t.domain}.${t.service} taken over: ${t.detail}`);
}

const MAX_MESSAGE = 2000;

/** Reason codes of refusals whose message names no caller value. */
const STATUS_REASONS: Record<number, string> = { 400: 'bad_request', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'throttled', 503: 'unavailable', 504: 'upstream_timeout' };

/**
 * Keeps the refusal of a register or refresh as the service's last failure,
 * only when the request named a domain and service that exist (so strangers
 * cannot fill the table) and was not simply unauthenticated. What is kept is
 * the error's explanation (core/explained.ts): a reason code, the facts ZTS
 * established, and a text in which every caller-sent value is quoted, cut and
 * marked as claimed; errors without one carry no caller value in their message.
 * The provider is kept only when it is a registered one.
 */
export async function recordRefusal(
  ctx: ZtsContext,
  r: { domain: unknown; service: unknown; provider: unknown; error: ApiError; clientIp: string },
): Promise<void> {
  if (r.error.status === 401 || typeof r.domain !== 'string' || typeof r.service !== 'string') return;
  const domain = r.domain.toLowerCase();
  const service = `${domain}.${r.service.toLowerCase()}`;
  if (!ctx.snapshots.get(domain)?.services.some((s) => s.name === service)) return;
  const provider = typeof r.provider === 'string' ? r.provider.toLowerCase() : '';
  const registered = provider !== '' && isRegisteredProvider(ctx, provider);
  const e = r.error.explanation ?? { reason: STATUS_REASONS[r.error.status] ?? 'refused', text: r.error.message, facts: {}, claims: {} };
  const claims = registered || !provider ? e.claims : { ...e.claims, provider: keptClaim(provider) };
  const row = {
    domain,
    time: ctx.now().toISOString(),
    provider: registered ? provider : '',
    reason: e.reason,
    message: e.text.slice(0, MAX_MESSAGE),
    details: JSON.stringify({ facts: e.facts, claims }),
    client_ip: r.clientIp.slice(0, 64),
  };
  await ctx.db
    .insertInto('service_refusals')
    .values({ service, ...row })
    .onConflict((oc) => oc.column('service').doUpdateSet(row))
    .execute();
}
