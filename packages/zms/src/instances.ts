/**
 * The instances of a service, from the certificate records ZTS keeps in the
 * same store (a Tessera extension for the UI), and revoking one.
 */
import { notFound } from '@tessera/core/errors';
import { revokeCertRecord } from '@tessera/store/revoked-certificates';
import type { ZmsContext } from './context.ts';

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
      revoked: r.current_serial === '-1',
    })),
  };
}

/** Deleting the record revokes the instance: its certificate can no longer refresh, and ZTS's CRL lists it. */
export async function revokeInstance(ctx: ZmsContext, domain: string, service: string, provider: string, instanceId: string): Promise<void> {
  const found = await revokeCertRecord(ctx.db, { provider, instanceId, service: `${domain}.${service}` }, 'privilegeWithdrawn', ctx.now());
  if (!found) throw notFound(`no instance ${instanceId} of ${domain}.${service} from ${provider}`);
}
