/**
 * The instances of a service, from the certificate records ZTS keeps in the
 * same store (a Tessera extension for the UI), and revoking one.
 */
import { notFound } from '@tessera/core/errors';
import { revokeCertRecord } from '@tessera/store/revoked-certificates';
import type { DomainData } from '@tessera/core/model';
import type { ServiceRefusalsTable } from '@tessera/store/schema';
import type { ZmsContext } from './context.ts';

/**
 * A refusal as ZTS kept it: `message` quotes, cuts and marks every value the
 * caller only claimed; `claims` holds those values (cut), `facts` what ZTS established.
 */
function lastFailure(f: ServiceRefusalsTable) {
  let details: { facts?: Record<string, string>; claims?: Record<string, string> } = {};
  try {
    details = JSON.parse(f.details) as typeof details;
  } catch {
    // An unreadable row shows no details rather than failing the page.
  }
  return { time: f.time, provider: f.provider, reason: f.reason, message: f.message, facts: details.facts ?? {}, claims: details.claims ?? {}, clientIp: f.client_ip };
}

export async function listInstances(ctx: ZmsContext, domain: string, service: string) {
  const rows = await ctx.db
    .selectFrom('cert_records')
    .selectAll()
    .where('service', '=', `${domain}.${service}`)
    .orderBy('current_time', 'desc')
    .execute();
  return {
    instances: rows.map((r) => ({
      instanceId: r.instance_id,
      provider: r.provider,
      issued: r.issued_time,
      lastRefresh: r.current_time,
      expires: r.expiry_time,
      clientIp: r.current_ip,
      // As the agent reported them (User-Agent SIA-<platform>, register's hostname): shown, not verified.
      ...(r.sia_provider ? { platform: r.sia_provider } : {}),
      ...(r.hostname ? { hostname: r.hostname } : {}),
      revoked: r.current_serial === '-1',
      ...(r.takeover_time
        ? { takeover: { time: r.takeover_time, previousIp: r.takeover_prev_ip ?? '', currentIp: r.current_ip, detail: r.takeover_detail ?? '' } }
        : {}),
    })),
  };
}

/**
 * Each service of a domain with its instance count, newest register/refresh
 * and the last refused register/refresh ZTS recorded (a Tessera extension:
 * the domain's admins see what the workload saw).
 */
export async function serviceStatus(ctx: ZmsContext, domain: DomainData) {
  const names = domain.services.map((s) => s.name);
  const counts = names.length === 0 ? [] : await ctx.db
    .selectFrom('cert_records')
    .select((eb) => ['service', eb.fn.countAll<number>().as('n'), eb.fn.max('current_time').as('last')])
    .where('service', 'in', names)
    .where('current_serial', '!=', '-1')
    .groupBy('service')
    .execute();
  const refusals = await ctx.db.selectFrom('service_refusals').selectAll().where('domain', '=', domain.name).execute();
  return {
    services: domain.services.map((s) => {
      const c = counts.find((r) => r.service === s.name);
      const f = refusals.find((r) => r.service === s.name);
      return {
        name: s.name.slice(domain.name.length + 1),
        instances: Number(c?.n ?? 0),
        ...(c?.last ? { lastIssued: c.last } : {}),
        ...(f ? { lastFailure: lastFailure(f) } : {}),
      };
    }),
  };
}

/** Deleting the record revokes the instance: its certificate can no longer refresh, and ZTS's CRL lists it. */
export async function revokeInstance(ctx: ZmsContext, domain: string, service: string, provider: string, instanceId: string): Promise<void> {
  const found = await revokeCertRecord(ctx.db, { provider, instanceId, service: `${domain}.${service}` }, 'privilegeWithdrawn', ctx.now());
  if (!found) throw notFound(`no instance ${instanceId} of ${domain}.${service} from ${provider}`);
}

/**
 * A service's live instances as Athenz's MSD lists them (its DynamicWorkload),
 * for Athenz's own UI, whose Instances tab reads MSD: Tessera keeps no MSD, so
 * the workloads are ZTS's certificate records. Revoked instances are left out.
 */
export async function dynamicWorkloads(ctx: ZmsContext, domain: string, services: readonly string[]) {
  if (services.length === 0) return [];
  const rows = await ctx.db
    .selectFrom('cert_records')
    .selectAll()
    .where('service', 'in', services.map((s) => `${domain}.${s}`))
    .where('current_serial', '!=', '-1')
    .orderBy('current_time', 'desc')
    .execute();
  return rows.map((r) => ({
    domainName: domain,
    serviceName: r.service.slice(domain.length + 1),
    uuid: r.instance_id,
    ipAddresses: r.current_ip ? [r.current_ip] : [],
    hostname: r.hostname ?? '',
    provider: r.provider,
    updateTime: r.current_time,
    certExpiryTime: r.expiry_time,
    certIssueTime: r.issued_time,
  }));
}
